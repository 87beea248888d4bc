"""The partnership on the public pages: its own contact, how admission to SBO and SO works,
and which special education each special school gives.

The contact is one row (models.Partnership, made by its migration) that coordinators fill in
(admin/partnership.py); no public source gives its values, so an empty field is shown as a gap.
The templates' macros (templates/directory/_partnership.html) ask for it through the template
globals registered here.
"""

from flask import Flask, g

from .db import db
from .models import Partnership
from .special import special_kinds

# Partnership.id of the one row.
ROW = 1


def partnership_contact() -> Partnership | None:
    """The partnership's row, read once per request (a page may show it twice)."""
    if "partnership" not in g:
        g.partnership = db.session.get(Partnership, ROW)
    return g.partnership


def init_app(app: Flask) -> None:
    app.add_template_global(partnership_contact)
    app.add_template_global(special_kinds)
