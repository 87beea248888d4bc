"""Uploaded DUO files are kept only while they are needed: deleted once applied, and swept at
the next upload once DUO_UPLOAD_DAYS have passed; an old preview then says so in Dutch."""

import hashlib
import html
import os
import time
from pathlib import Path

import pytest
from helpers import csrf_from
from sqlalchemy.orm.exc import StaleDataError
from test_duo import NAME_CHANGED, NAME_CHANGED_SUM, REGIONAL, edited, row_of, upload

DAY = 24 * 3600
EXPIRED = "Deze upload is verlopen"
OTHER = edited({(row_of("06PS00"), "VESTIGINGSNAAM"): "De Wegwijzer"})
OTHER_SUM = hashlib.sha256(OTHER).hexdigest()


def kept(app) -> set[str]:
    """The checksums whose uploads are kept."""
    return {path.name for path in (Path(app.instance_path) / "duo_uploads").glob("*")}


def age(app, checksum: str, days: float) -> None:
    """Make the upload kept under this checksum look `days` old."""
    moment = time.time() - days * DAY
    os.utime(Path(app.instance_path) / "duo_uploads" / checksum, (moment, moment))


def apply_all(client, preview_page: str, checksum: str, **options):
    return client.post(
        "/admin/duo/toepassen",
        data={
            "csrf_token": csrf_from(preview_page),
            "bestand": checksum,
            "gebied": "regio",
            "alles": "1",
        },
        **options,
    )


def test_uploads_are_kept_two_days_unless_configured(seeded_app):
    assert seeded_app.config["DUO_UPLOAD_DAYS"] == 2


def test_an_applied_upload_is_deleted_and_its_preview_then_says_so(seeded_app, login):
    client = login("coordinator")
    location = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert kept(seeded_app) == {NAME_CHANGED_SUM}
    applied = apply_all(client, page, NAME_CHANGED_SUM, follow_redirects=True)
    assert "Toegepast: 0 nieuw, 0 gesloten, 1 gewijzigd" in applied.get_data(as_text=True)
    assert kept(seeded_app) == set()
    again = client.get(location)
    assert again.status_code == 410
    assert EXPIRED in again.get_data(as_text=True)
    assert "Laad het bestand opnieuw" in again.get_data(as_text=True)


def test_an_apply_that_writes_nothing_keeps_the_upload(seeded_app, login, monkeypatch):
    client = login("coordinator")
    location = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    nothing = client.post(
        "/admin/duo/toepassen",
        data={"csrf_token": csrf_from(page), "bestand": NAME_CHANGED_SUM, "gebied": "regio"},
    )
    assert nothing.headers["Location"] == location  # back to the same preview
    assert "Niets gekozen" in client.get(location).get_data(as_text=True)

    def lost_race(*_args, **_kwargs):
        raise StaleDataError("someone else saved first")

    monkeypatch.setattr("registry.admin.duo.apply_comparison", lost_race)
    refused = apply_all(client, page, NAME_CHANGED_SUM)
    assert refused.headers["Location"] == location
    assert "intussen door iemand anders gewijzigd" in client.get(location).get_data(as_text=True)
    assert kept(seeded_app) == {NAME_CHANGED_SUM}


def test_abandoned_uploads_are_swept_at_the_next_upload(seeded_app, login):
    client = login("coordinator")
    old = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    page = client.get(old).get_data(as_text=True)
    recent = upload(client, (REGIONAL.read_bytes(), "02-regio.csv")).headers["Location"]
    age(seeded_app, NAME_CHANGED_SUM, 2.1)
    age(seeded_app, hashlib.sha256(REGIONAL.read_bytes()).hexdigest(), 1.9)
    assert client.get(old).status_code == 200  # nothing is swept before the next upload
    upload(client, (OTHER, "02-oktober.csv"))
    assert kept(seeded_app) == {hashlib.sha256(REGIONAL.read_bytes()).hexdigest(), OTHER_SUM}
    assert client.get(recent).status_code == 200
    query = old.split("?", 1)[1]
    for response in (
        client.get(old),
        client.get(f"/admin/duo/vergelijking.xlsx?{query}"),
        client.get(f"/admin/duo/vergelijking.csv?{query}"),
        apply_all(client, page, NAME_CHANGED_SUM),
    ):
        assert response.status_code == 410
        text = html.unescape(response.get_data(as_text=True))
        assert f"{EXPIRED}: een geüpload bestand wordt verwijderd zodra het is toegepast" in text
        assert "en anders na 2 dagen. Laad het bestand opnieuw." in text


@pytest.mark.parametrize(("days", "swept"), [(5, False), (1, True)])
def test_the_number_of_days_is_a_setting(seeded_app, login, days, swept):
    seeded_app.config["DUO_UPLOAD_DAYS"] = days
    client = login("coordinator")
    old = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    age(seeded_app, NAME_CHANGED_SUM, 3)
    upload(client, (OTHER, "02-oktober.csv"))
    assert (NAME_CHANGED_SUM not in kept(seeded_app)) is swept
    response = client.get(old)
    assert response.status_code == (410 if swept else 200)
    if swept:
        assert "en anders na 1 dag. Laad" in response.get_data(as_text=True)


def test_uploading_a_kept_file_again_starts_its_days_again(seeded_app, login):
    client = login("coordinator")
    location = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]
    age(seeded_app, NAME_CHANGED_SUM, 1.5)
    upload(client, (NAME_CHANGED, "02.csv"))
    folder = Path(seeded_app.instance_path) / "duo_uploads" / NAME_CHANGED_SUM
    assert time.time() - folder.stat().st_mtime < 60
    assert client.get(location).status_code == 200


def test_an_upload_deleted_while_it_is_read_is_expired_not_an_error(seeded_app, login, monkeypatch):
    """Applied or swept by someone else between finding the file and reading it."""
    client = login("coordinator")
    location = upload(client, (NAME_CHANGED, "02.csv")).headers["Location"]

    def gone(self):
        raise FileNotFoundError(self)

    monkeypatch.setattr(Path, "read_bytes", gone)
    response = client.get(location)
    assert response.status_code == 410
    assert EXPIRED in response.get_data(as_text=True)


def test_the_preview_writes_dates_as_the_admin_does_elsewhere(seeded_app, login):
    import re

    from test_duo import REGIONAL_PUPILS

    from registry.db import db
    from registry.models import PupilCount

    with seeded_app.app_context():
        # One count differs from DUO's, so the pupils' counting day shows.
        count = db.session.scalars(db.select(PupilCount).order_by(PupilCount.id.desc())).first()
        count.pupils += 1
        db.session.commit()
    client = login("coordinator")
    gone = edited({}, drop=(row_of("06MU00"),))
    files = ((gone, "02.csv"), (REGIONAL_PUPILS.read_bytes(), "06.csv"))
    page = client.get(upload(client, *files).headers["Location"]).get_data(as_text=True)
    assert re.search(r"Gesloten op: <del>—</del> → <ins>\d{1,2} [a-z]{3} \d{4}</ins>", page)
    assert re.search(r"Leerlingen 1 okt \d{4}: <del>\d+</del>", page)
    assert not re.search(r"\d{4}-\d\d-\d\d|1-10-\d{4}", html.unescape(page))
