"""Corrections from the public: a short form on every school page, stored for coordinators.

The admin (issue: coordinators' admin) accepts or rejects them; until then
`flask --app wsgi corrections` lists the open ones.
"""

import click
from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .db import db
from .models import CorrectionRequest, CorrectionStatus
from .records import school_or_404
from .security import SafeForm, limiter

bp = Blueprint("corrections", __name__)

FIELDS = {
    "naam": _l("Naam van de school"),
    "adres": _l("Adres"),
    "telefoon": _l("Telefoonnummer"),
    "email": _l("E-mailadres"),
    "website": _l("Website"),
    "ondersteuning": _l("Ondersteuning die de school biedt"),
    "ligging": _l("Plek op de kaart"),
    "overig": _l("Iets anders"),
}


class CorrectionForm(SafeForm):
    field = SelectField(
        _l("Wat klopt er niet?"),
        choices=[SelectChoice(value, label) for value, label in FIELDS.items()],
    )
    proposed_value = TextAreaField(
        _l("Wat moet het zijn?"),
        validators=[
            DataRequired(_l("Schrijf op wat er niet klopt of wat het moet zijn.")),
            Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens.")),
        ],
    )
    contact = StringField(
        _l("Uw e-mailadres of telefoonnummer (niet verplicht)"),
        validators=[Optional(), Length(max=200, message=_l("Gebruik hoogstens 200 tekens."))],
    )
    # A field people never see: software that fills in every field gives itself away.
    homepage = StringField(_l("Laat dit veld leeg"))


@bp.route("/scholen/<code>/correctie", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def report(code: str):
    """Propose a correction; a bot that fills the hidden field is thanked and ignored."""
    school = school_or_404(code)
    form = CorrectionForm()
    if form.validate_on_submit():
        if not form.homepage.data:
            db.session.add(
                CorrectionRequest(
                    school=school,
                    field=form.field.data,
                    proposed_value=form.proposed_value.data.strip(),
                    contact=(form.contact.data or "").strip() or None,
                )
            )
            db.session.commit()
        flash(_("Dank u wel. Het samenwerkingsverband bekijkt uw correctie."))
        return redirect(url_for("directory.school", code=school.vestigingscode))
    status = 400 if form.is_submitted() else 200
    return render_template("directory/correction.html", school=school, form=form), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(list_command)


@click.command("corrections")
@with_appcontext
def list_command() -> None:
    """List the open correction requests, oldest first."""
    requests = db.session.scalars(
        select(CorrectionRequest)
        .where(CorrectionRequest.status == CorrectionStatus.OPEN)
        .order_by(CorrectionRequest.created_at)
    ).all()
    if not requests:
        click.echo("Geen open correcties.")
    for request in requests:
        click.echo(
            f"{request.created_at:%Y-%m-%d %H:%M}  {request.school.vestigingscode}"
            f"  {request.school.name}  [{request.field}]  {request.proposed_value}"
            + (f"  (contact: {request.contact})" if request.contact else "")
        )
