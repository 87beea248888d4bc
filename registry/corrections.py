"""Corrections from the public: a short form on every school page, stored for coordinators.

Coordinators handle them in the admin (registry/admin/corrections.py);
`flask --app wsgi corrections` lists the open ones.
"""

import re
from datetime import timedelta

import click
from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask.cli import with_appcontext
from flask_babel import get_locale
from sqlalchemy import select
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

from . import geo, mail, validation
from .db import db
from .filters import LEVEL_CHOICES
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    CorrectionMail,
    CorrectionRequest,
    CorrectionStatus,
    Role,
    School,
    SchoolSupport,
    SupportArea,
    SupportLevel,
    User,
    utcnow,
)
from .phones import grouped_phone
from .records import school_or_404
from .security import SafeForm, limiter
from .text import address_text

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
# Proposals that name one field of the school: the admin can take them over as (edited) text.
DIRECT_FIELDS = {"naam": "name", "telefoon": "phone", "email": "email", "website": "website"}
ADDRESS_PARTS = ("street", "house_number", "postcode", "place")
STATUS_LABELS = {
    CorrectionStatus.OPEN: _l("Open"),
    CorrectionStatus.ACCEPTED: _l("Overgenomen"),
    CorrectionStatus.UNCHANGED: _l("Afgehandeld zonder wijziging"),
    CorrectionStatus.REJECTED: _l("Afgewezen"),
}

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
_WEBSITE = re.compile(
    r"(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?::[0-9]+)?(?:/[^\s<>()\"']*)?", re.IGNORECASE
)
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.]{8,}[0-9]")


def suggested_value(field: str, text: str) -> str:
    """The bare value a proposal names, without the words people write around it:
    'info@x.nl (staat op hun website onder Contact)' suggests 'info@x.nl'."""
    text = text.strip()
    if field == "email":
        match = _EMAIL.search(text)
    elif field == "website":
        match = _WEBSITE.search(_EMAIL.sub(" ", text))
    elif field == "telefoon":
        match = next(
            (m for m in _PHONE.finditer(text) if len(re.sub(r"[^0-9]", "", m.group())) >= 10),
            None,
        )
    else:
        return text
    if not match:
        return text
    value = match.group().rstrip(".,;:")
    # Offered in the form the registry stores and shows, so it reads like the current one.
    return grouped_phone(value) if field == "telefoon" else value


def proposed_address(correction: CorrectionRequest, school: School) -> dict[str, str]:
    """The address parts an address correction proposes; the school's own where it named none
    (a correction sent before the form asked for the parts)."""
    proposed = {part: getattr(correction, f"proposed_{part}") for part in ADDRESS_PARTS}
    if not any(proposed.values()):
        proposed = {part: getattr(school, part) for part in ADDRESS_PARTS}
    return {part: value or "" for part, value in proposed.items()}


# Carrying a correction out: what the admin's handling and the school form share.


class Refused(Exception):
    """A handling that cannot go ahead; the message says why, next to the typed values."""


def credit(correction: CorrectionRequest) -> str:
    """The note on every history row a correction brought about."""
    return _("correctie #%(id)d", id=correction.id)


def close(correction, status: CorrectionStatus, who: str, reason=None, applied=None) -> None:
    """Record the outcome on the correction, and mail it to a sender who left an e-mail
    address (the caller commits; the mail goes with the commit)."""
    correction.status = status
    correction.reason = (reason or "").strip() or None
    correction.applied_value = applied
    correction.handled_at = utcnow()
    correction.handled_by = who
    if address := sender_address(correction.contact):
        mail.queue(
            address,
            "correction_handled",
            language=correction.language or "nl",
            correction=correction,
            field=FIELDS.get(correction.field, correction.field),
            status=STATUS_LABELS[status],
            school_link=mail.public_link("directory.school", code=correction.school.vestigingscode),
        )


def sender_address(contact: str | None) -> str | None:
    """The sender's contact as an e-mail address, when it is one (it may be a phone)."""
    try:
        return validation.email(contact.strip()) if contact else None
    except validation.InvalidValue:
        return None


def correction_handlers(preference: CorrectionMail):
    """The active accounts that handle corrections and want mail about them this way."""
    return db.session.scalars(
        select(User).where(
            User.active,
            User.role.in_([Role.COORDINATOR, Role.BEHEERDER]),
            User.correction_mail == preference,
        )
    ).all()


def tell_handlers(correction: CorrectionRequest) -> None:
    """A new correction: a mail to each handler who wants one at once (the caller commits)."""
    for user in correction_handlers(CorrectionMail.DIRECT):
        mail.queue(
            user.email,
            "correction_reported",
            language=user.language,
            correction=correction,
            field=FIELDS.get(correction.field, correction.field),
            link=mail.public_link("correction.handle_view", id=correction.id),
        )


@click.command("digest")
@with_appcontext
def digest_command() -> None:
    """Eén mail per behandelaar die een dagelijks overzicht koos: de correcties sinds het
    vorige (niets als er geen zijn). Voor een dagelijkse timer."""
    now = utcnow()
    sent = 0
    for user in correction_handlers(CorrectionMail.DAILY):
        since = user.digest_sent_at or now - timedelta(days=1)
        new = db.session.scalars(
            select(CorrectionRequest)
            .where(CorrectionRequest.created_at > since, CorrectionRequest.created_at <= now)
            .order_by(CorrectionRequest.created_at)
        ).all()
        if new:
            mail.queue(
                user.email,
                "correction_digest",
                language=user.language,
                corrections=[(c, FIELDS.get(c.field, c.field)) for c in new],
                link=mail.public_link("correction.index_view", flt0_0="open"),
            )
            sent += 1
        user.digest_sent_at = now
    db.session.commit()
    mail.deliver_queued()
    click.echo(f"Overzichten verstuurd: {sent}.")


def _bounded(attribute: str, value: str) -> str:
    length = School.__table__.c[attribute].type.length
    if length and len(value) > length:
        raise Refused(_("Gebruik hoogstens %(n)d tekens.", n=length))
    return value


def apply_value(school: School, attribute: str, value: str) -> str | None:
    """Set one field as the coordinator edited it; what it became, or None if nothing changed.
    The model checks and canonicalises the value (InvalidValue with the field's message)."""
    value = _bounded(attribute, value.strip())
    if not value and attribute == "name":
        raise Refused(_("Een school heeft een naam."))
    before = getattr(school, attribute)
    setattr(school, attribute, value or None)
    after = getattr(school, attribute)
    return (after or _("(leeg)")) if after != before else None


def same_text(stored: str | None, typed: str | None) -> bool:
    """Whether a typed value says what the stored one says: DUO writes places in capitals
    ('MEPPEL'), people write 'Meppel'; taking that over would record a change nobody made."""
    return " ".join((stored or "").split()).casefold() == " ".join((typed or "").split()).casefold()


def unchanged_parts(school: School, parts: dict[str, str]) -> dict[str, str]:
    """The address parts as typed, with the school's own where a part says the same."""
    return {
        part: getattr(school, part) if same_text(getattr(school, part), value) else value
        for part, value in parts.items()
    }


def apply_address(school: School, parts: dict[str, str]) -> str | None:
    """Set the four parts of the address; the new address, or None if nothing changed."""
    values = {part: parts.get(part, "").strip() for part in ADDRESS_PARTS}
    if not all(values.values()):
        raise Refused(_("Vul straat, huisnummer, postcode en plaats in."))
    before = {part: getattr(school, part) for part in ADDRESS_PARTS}
    for part, value in unchanged_parts(school, values).items():
        setattr(school, part, _bounded(part, value))
    after = {part: getattr(school, part) for part in ADDRESS_PARTS}
    if after["postcode"] != before["postcode"] and geo.follows_postcode(school):
        geo.place_by_postcode(school)  # on the map where the new address is, as the form does
    return address_text(**after) if after != before else None


def support_areas() -> list[SupportArea]:
    return db.session.scalars(select(SupportArea).order_by(SupportArea.position)).all()


def apply_support(school: School, levels: dict[SupportArea, str]) -> str | None:
    """Set the level ("", basis, extra) per area; the areas that changed, or None."""
    offers = {offer.support_area_id: offer for offer in school.support_offers}
    changed = []
    for area, level in levels.items():
        if level not in LEVEL_CHOICES:
            raise Refused(_("Kies bij %(area)s geen, basis of extra.", area=area.name))
        offer = offers.get(area.id)
        if offer is not None and not level:
            school.support_offers.remove(offer)
        elif offer is None and level:
            school.support_offers.append(
                SchoolSupport(support_area=area, level=SupportLevel(level))
            )
        elif offer is not None and offer.level.value != level:
            offer.level = SupportLevel(level)
        else:
            continue
        changed.append(f"{area.name}: {LEVEL_CHOICES[level]}")
    return "; ".join(changed) or None


class CorrectionForm(SafeForm):
    # Asked first, with nothing chosen: the fields that follow depend on the answer.
    field = RadioField(
        _l("Wat klopt er niet?"),
        choices=list(FIELDS.items()),
        validate_choice=False,  # the messages below, not WTForms' "Not a valid choice"
        validators=[
            InputRequired(message=_l("Kies wat er niet klopt.")),
            AnyOf(FIELDS, message=_l("Kies wat er niet klopt.")),
        ],
    )
    street = StringField(
        _l("Straat"),
        validators=[Optional(), Length(max=200, message=_l("Gebruik hoogstens 200 tekens."))],
    )
    house_number = StringField(
        _l("Huisnummer"),
        validators=[Optional(), Length(max=20, message=_l("Gebruik hoogstens 20 tekens."))],
    )
    postcode = StringField(_l("Postcode"), validators=[Optional()])
    place = StringField(
        _l("Plaats"),
        validators=[Optional(), Length(max=100, message=_l("Gebruik hoogstens 100 tekens."))],
    )
    proposed_value = TextAreaField(
        _l("Wat moet het zijn?"),
        validators=[Length(max=2000, message=_l("Gebruik hoogstens 2000 tekens."))],
    )
    contact = StringField(
        _l("Uw e-mailadres of telefoonnummer (niet verplicht)"),
        validators=[Optional(), Length(max=200, message=_l("Gebruik hoogstens 200 tekens."))],
    )
    # A field people never see: software that fills in every field gives itself away.
    homepage = StringField(_l("Laat dit veld leeg"))

    def address(self) -> dict[str, str]:
        return {part: (self[part].data or "").strip() for part in ADDRESS_PARTS}

    def validate(self, extra_validators=None) -> bool:
        """An address in its four parts; anything else in words. The address fields are shown
        only with the answer Adres (site.css), so with another answer they are not read."""
        valid = super().validate(extra_validators)
        address = self.address()
        if self.field.data == "adres":
            missing = {
                "street": _l("Vul de straat in."),
                "house_number": _l("Vul het huisnummer in."),
                "postcode": _l("Vul de postcode in."),
                "place": _l("Vul de plaats in."),
            }
            for part, message in missing.items():
                if not address[part] and not self[part].errors:
                    self[part].errors.append(message)
                    valid = False
            if address["postcode"] and not self.postcode.errors:
                try:
                    self.postcode.data = validation.postcode(address["postcode"])
                except validation.InvalidValue as error:
                    self.postcode.errors.append(error.message)
                    valid = False
        elif self.field.data:
            for part in ADDRESS_PARTS:
                self[part].errors = []
            if not (self.proposed_value.data or "").strip():
                self.proposed_value.errors.append(
                    _l("Schrijf op wat er niet klopt of wat het moet zijn.")
                )
            valid = not any(field.errors for field in self)
        return valid


@bp.route("/scholen/<code>/correctie", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def report(code: str):
    """Propose a correction; a bot that fills the hidden field is thanked and ignored."""
    school = school_or_404(code)
    form = CorrectionForm()
    if form.validate_on_submit():
        if not form.homepage.data:
            text = (form.proposed_value.data or "").strip()
            address = form.address() if form.field.data == "adres" else {}
            if address:
                # The list and the command line read the address as text, the remark below it.
                text = "\n".join(filter(None, [address_text(**address), text]))
            correction = CorrectionRequest(
                school=school,
                field=form.field.data,
                proposed_value=text,
                contact=(form.contact.data or "").strip() or None,
                language=str(get_locale()),
                **{f"proposed_{part}": value for part, value in address.items()},
            )
            db.session.add(correction)
            db.session.flush()
            tell_handlers(correction)
            db.session.commit()
        flash(_("Dank u wel. Het samenwerkingsverband bekijkt uw correctie."))
        return redirect(url_for("directory.school", code=school.vestigingscode))
    status = 400 if form.is_submitted() else 200
    return render_template("directory/correction.html", school=school, form=form), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(list_command)
    mail.mail_cli.add_command(digest_command)


@click.command("corrections")
@with_appcontext
def list_command() -> None:
    """De open correctieverzoeken, oudste eerst."""
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
