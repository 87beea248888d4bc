"""Form widgets where Flask-Admin's own markup is not valid HTML."""

from flask_admin.form.widgets import Select2Widget
from markupsafe import Markup

from ..i18n import gettext as _


class ChoiceRequired(Select2Widget):
    """Flask-Admin's select, opened by an empty choice where one must be chosen: HTML wants a
    required select to start with one, and a new record then asks for its board or type
    instead of quietly taking the first in the list."""

    def __call__(self, field, **kwargs) -> Markup:
        html = super().__call__(field, **kwargs)
        if self.multiple or not field.flags.required or getattr(field, "allow_blank", False):
            return html
        opening, rest = html.split(">", 1)
        return Markup('{}><option value="">{}</option>{}').format(opening, _("Kies …"), rest)
