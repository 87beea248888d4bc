"""Reading DUO's files, comparing them with the registry and applying what is chosen."""

import csv
import hashlib
import html
import io
import re
from datetime import date
from pathlib import Path

import pytest
from helpers import csrf_from
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from registry.admin.duo import kept_name
from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import BOARD, CHANGED, DISAPPEARED, KINDS, NEW, PUPILS, compare
from registry.duo.files import DuoFileError, read_duo_file
from registry.history import Change, acting_as
from registry.models import (
    Board,
    ImportLog,
    LocationPrecision,
    Municipality,
    Network,
    School,
    SchoolType,
)
from registry.phones import grouped_phone

DUO = Path(__file__).parent.parent / "seed_data" / "duo"
REGIONAL = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_via-sessyll-bb794a7_2026-08"
    "_SUBSET-7gemeenten_cp1252.csv"
)
REGIONAL_PUPILS = DUO / (
    "duo_06-historisch-overzicht-leerlingen-per-schoolvestiging_1996-2025_via-sessyll-bb794a7"
    "_SUBSET-7gemeenten.csv"
)
NATIONAL_APRIL = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_NATIONAL_via-duda-carval-563a9f9_2026-04.csv"
)
NATIONAL_AUGUST = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_NATIONAL_via-sessyll-bb794a7_2026-08.csv"
)
SEED_SCHOOLS = Path(__file__).parent.parent / "seed_data" / "schools.csv"
LIMIT = 20 * 1024 * 1024  # DUO_MAX_BYTES: the "20 MB" the upload page promises


def regional_lines() -> list[str]:
    return REGIONAL.read_bytes().decode("cp1252").split("\r\n")


def edited(edits: dict[tuple[int, str], str], drop: tuple[int, ...] = ()) -> bytes:
    """The regional file with some values changed ({(line index, column): value})."""
    lines = regional_lines()
    header = lines[0].split(";")
    for (index, column), value in edits.items():
        row = lines[index].split(";")
        row[header.index(column)] = value
        lines[index] = ";".join(row)
    return "\r\n".join(line for i, line in enumerate(lines) if i not in drop).encode("cp1252")


def row_of(code: str) -> int:
    return next(i for i, line in enumerate(regional_lines()) if f";{code};" in line)


def database_checksum() -> str:
    """A hash of every row of every table: equal before and after means nothing changed."""
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest.update(f"{table.name}:{[tuple(map(str, row)) for row in rows]}".encode())
    return digest.hexdigest()


def comparison_of(*files: tuple[bytes, str], area: Area | None = None):
    read = [read_duo_file(data, name) for data, name in files]
    return compare(read, area or Area.from_file())


def school(code: str) -> School:
    return db.session.scalar(select(School).filter_by(vestigingscode=code))


# Reading


def test_the_regional_file_reads_the_same_in_every_encoding_duo_uses(ctx):
    cp1252 = REGIONAL.read_bytes()
    text = cp1252.decode("cp1252")
    versions = [cp1252, text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")]
    read = [read_duo_file(data, "02.csv") for data in versions]
    assert {duo.kind for duo in read} == {"locations"}
    assert read[0].rows == 126
    assert read[0].locations == read[1].locations == read[2].locations
    location = read[0].locations["05SX00"]
    assert location.fields["name"] == "Protestants Christelijke Basisschool De Arendsvleugel"
    assert location.municipality_code == "GM1690"
    # A value DUO leaves blank is written as a single space: it is read as empty.
    assert any(loc.fields["website"] is None for loc in read[0].locations.values())


def test_the_pupil_file_keeps_the_latest_five_counts_and_leaves_suppressed_ones_empty(ctx):
    data = REGIONAL_PUPILS.read_bytes()
    duo = read_duo_file(data, "06.csv")
    assert duo.kind == "pupils" and duo.rows == 181
    assert duo.pupils["00JH00"] == {
        date(year, 10, 1): n
        for year, n in zip(range(2021, 2026), (41, 32, 38, 50, 39), strict=True)
    }
    # DUO publishes a count below 5 as "<5" for privacy: it stays empty.
    suppressed = read_duo_file(data.replace(b";50;39\r\n", b";50;<5\r\n", 1), "06.csv")
    assert suppressed.pupils["00JH00"] == {
        date(year, 10, 1): n for year, n in zip(range(2021, 2025), (41, 32, 38, 50), strict=True)
    }


def excel_file() -> bytes:
    workbook = Workbook()
    workbook.active.append(["VESTIGINGSCODE", "VESTIGINGSNAAM"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def renamed_postcode() -> bytes:
    lines = regional_lines()
    lines[0] = lines[0].replace(";POSTCODE;", ";POST CODE;", 1)
    return "\r\n".join(lines).encode("cp1252")


BAD_FILES = {
    "comma": (
        lambda: REGIONAL.read_bytes().replace(b";", b","),
        "regel 1: de kolommen zijn gescheiden door komma's",
    ),
    "encoding": (
        lambda: REGIONAL.read_bytes().replace(b"Mozaiek", b"Moza\x81ek", 1),
        "regel 2: onbekende tekens",
    ),
    "missing column": (
        lambda: REGIONAL.read_bytes().replace(b"DENOMINATIE;", b"", 1),
        "deze kolommen ontbreken: DENOMINATIE",
    ),
    "renamed column": (renamed_postcode, "POSTCODE (heet nu POST CODE?)"),
    "duplicate code": (
        lambda: "\r\n".join([*regional_lines()[:3], regional_lines()[1]]).encode("cp1252"),
        "regel 4: vestigingscode 03GR00 staat ook op regel 2",
    ),
    "short row": (
        lambda: "\r\n".join([*regional_lines()[:2], regional_lines()[2][:60]]).encode("cp1252"),
        "regel 3: 8 velden, 31 verwacht",
    ),
    "bad code": (
        lambda: edited({(2, "VESTIGINGSCODE"): "XX"}),
        "regel 3, kolom VESTIGINGSCODE: 'XX' klopt niet",
    ),
    "excel": (excel_file, "is een Excel-bestand, geen CSV"),
    "binary": (lambda: bytes(range(256)) * 4, "is geen tekstbestand"),
    "empty": (lambda: b"", "is leeg"),
    "header only": (lambda: regional_lines()[0].encode(), "alleen een kopregel"),
    "unknown": (lambda: b"naam;adres\r\nx;y\r\n", "deze kolommen ontbreken: VESTIGINGSCODE"),
    # Python's CSV reader stops at 128 kB in one value (usually an unclosed quote).
    "value above the CSV limit": (
        lambda: edited({(2, "VESTIGINGSNAAM"): "x" * 200_000}),
        "regel 3: een waarde is langer dan 131.072 tekens",
    ),
    # The start of the file is checked for binary content; a NUL further on is caught too.
    "NUL after the first 4 kB": (
        lambda: edited({(59, "VESTIGINGSNAAM"): "De\x00Arend"}),
        "regel 60: onzichtbaar stuurteken U+0000",
    ),
    "control character": (
        lambda: edited({(59, "STRAATNAAM"): "Dorps\x1bstraat"}),
        "regel 60: onzichtbaar stuurteken U+001B",
    ),
    "C1 control character in UTF-8": (
        lambda: "\r\n".join(
            line + "\x85" if i == 59 else line for i, line in enumerate(regional_lines())
        ).encode("utf-8"),
        "regel 60: onzichtbaar stuurteken U+0085",
    ),
    "value too long for the registry": (
        lambda: edited({(2, "VESTIGINGSNAAM"): "A" * 201}),
        "regel 3, kolom VESTIGINGSNAAM: de waarde is 201 tekens lang;"
        " het register bewaart er hoogstens 200.",
    ),
    "municipality name too long once spelled": (
        # A trade mark sign is one character in DUO's name, two ("tm") in the registry's slug.
        lambda: edited({(2, "GEMEENTENAAM"): "\u2122" * 60}),
        "kolom GEMEENTENAAM: de waarde is 120 tekens lang",
    ),
    "municipality number in other digits": (
        lambda: edited({(2, "GEMEENTENUMMER"): "1\u00b290"}),
        "'1\u00b290' is geen CBS-gemeentenummer",
    ),
    "pupil count in other digits": (
        lambda: REGIONAL_PUPILS.read_bytes().replace(b";50;39\r\n", ";50;\u00b3\r\n".encode()),
        "'\u00b3' is geen aantal leerlingen",
    ),
    "pupil count beyond any school": (
        lambda: REGIONAL_PUPILS.read_bytes().replace(b";50;39\r\n", b";50;99999999999\r\n"),
        "'99999999999' is geen aantal leerlingen",
    ),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_are_refused_with_the_line_and_what_to_fix(ctx, kind):
    make, message = BAD_FILES[kind]
    with pytest.raises(DuoFileError) as error:
        read_duo_file(make(), "upload.csv")
    assert message in str(error.value)
    assert str(error.value).startswith("upload.csv")


def test_a_file_above_the_limit_is_refused(ctx):
    with pytest.raises(DuoFileError, match="het maximum is 0 MB"):
        read_duo_file(REGIONAL.read_bytes(), "02.csv", max_bytes=1000)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        # 21,000,000 bytes once read as "21.0 MB; het maximum is 21 MB" against a 20 MB limit.
        (21_000_000, "02.csv is 20,1 MB; het maximum is 20 MB."),
        # One byte over never reads as equal to the limit.
        (LIMIT + 1, "02.csv is 20,1 MB; het maximum is 20 MB."),
        (LIMIT + LIMIT // 40, "02.csv is 20,5 MB; het maximum is 20 MB."),
    ],
)
def test_the_size_message_gives_the_real_size_and_limit(ctx, size, message):
    with pytest.raises(DuoFileError) as error:
        read_duo_file(b"x" * size, "02.csv", max_bytes=LIMIT)
    assert str(error.value) == message


def test_a_pupil_column_of_year_zero_is_not_a_year(ctx):
    data = REGIONAL_PUPILS.read_bytes()
    duo = read_duo_file(data.replace(b"LEERLINGEN_1996", b"LEERLINGEN_0000", 1), "06.csv")
    assert duo.pupils == read_duo_file(data, "06.csv").pupils


# Comparing and applying


def test_the_regional_file_into_an_empty_registry_gives_the_seeds_110_bao_locations(ctx):
    comparison = comparison_of(
        (REGIONAL.read_bytes(), "02.csv"), (REGIONAL_PUPILS.read_bytes(), "06.csv")
    )
    assert comparison.counts() == {NEW: 110, DISAPPEARED: 0, CHANGED: 0, BOARD: 0, PUPILS: 110}
    apply_comparison(comparison, kinds=KINDS)

    with open(SEED_SCHOOLS, newline="", encoding="utf-8") as handle:
        seed = {
            row["vestigingscode"]: row
            for row in csv.DictReader(handle)
            if row["school_type"] == "BAO"
        }
    schools = {s.vestigingscode: s for s in db.session.scalars(select(School))}
    assert schools.keys() == seed.keys() and len(seed) == 110
    for code, row in seed.items():
        s = schools[code]
        got = {
            "brin": s.brin,
            "name": s.name,
            "street": s.street,
            "house_number": s.house_number,
            "postcode": s.postcode,
            "place": s.place,
            "denomination": s.denomination,
            "phone": s.phone,
            "website": s.website,
            "board_number": s.board.board_number,
            "gemeente_code": s.municipality.cbs_code[2:],
            "gemeente_name": s.municipality.name,
            "province": s.municipality.province,
            "school_type": s.school_type.value,
        }
        want = {key: row[key] or None for key in got}
        want["phone"] = grouped_phone(want["phone"])  # stored in the form every page shows
        assert got == want, code
        pupils = {c.reference_date.year: c.pupils for c in s.pupil_counts}
        assert pupils == {year: int(row[f"pupils_{year}"]) for year in range(2021, 2026)}, code
    # The partly included municipalities carry the rule's postcode areas.
    staphorst = db.session.scalar(select(Municipality).filter_by(cbs_code="GM0180"))
    assert [a.pc4 for a in staphorst.postcode_areas] == ["7951", "7955"]
    # DUO's address file names no board: the name stays empty, a gap to fill.
    assert db.session.scalar(select(func.count(Board.id)).where(Board.name.is_(None))) == 18
    assert comparison_of((REGIONAL.read_bytes(), "02.csv")).differences == []


def test_the_seed_is_in_step_with_the_duo_files_it_came_from(seeded_app):
    with seeded_app.app_context():
        comparison = comparison_of(
            (REGIONAL.read_bytes(), "02.csv"), (REGIONAL_PUPILS.read_bytes(), "06.csv")
        )
        assert comparison.differences == []
        assert comparison.rejected == []


def test_changes_are_shown_field_by_field_and_applied_with_history(seeded_app):
    arendsvleugel, plataan, mozaiek = row_of("05SX00"), row_of("06GS00"), row_of("03GR01")
    data = edited(
        {
            (arendsvleugel, "VESTIGINGSNAAM"): "De Arendsvleugel",
            (arendsvleugel, "TELEFOONNUMMER"): "0522 481345",
            (plataan, "POSTCODE"): "7942 AA",
            (mozaiek, "BEVOEGD GEZAG NUMMER"): "41196",
        },
        drop=(row_of("06MU00"),),
    )
    with seeded_app.app_context():
        comparison = comparison_of((data, "02-2026-09.csv"))
        assert comparison.counts() == {NEW: 0, DISAPPEARED: 1, CHANGED: 2, BOARD: 1, PUPILS: 0}
        changed = {d.vestigingscode: d for d in comparison.of_kind(CHANGED)}
        assert [(c.field, c.old, c.new) for c in changed["05SX00"].changes] == [
            ("name", "Protestants Christelijke Basisschool De Arendsvleugel", "De Arendsvleugel"),
            ("phone", "0522 48 13 44", "0522 48 13 45"),
        ]
        [board] = comparison.of_kind(BOARD)
        assert (board.vestigingscode, board.changes[0].old, board.changes[0].new) == (
            "03GR01",
            "40655",
            "41196",
        )
        [gone] = comparison.of_kind(DISAPPEARED)
        assert gone.vestigingscode == "06MU00" and "niet meer in het DUO-bestand" in gone.note

        plataan_point = (school("06GS00").latitude, school("06GS00").location_precision)
        log = apply_comparison(comparison, kinds=KINDS, actor="coordinator@example.org")
        assert (log.new, log.closed, log.changed, log.board_changes) == (0, 1, 2, 1)
        assert school("05SX00").name == "De Arendsvleugel"
        assert school("03GR01").board.board_number == "41196"
        closed = school("06MU00")
        assert closed is not None and closed.closed_on == date.today()  # closed, not deleted
        # The school's point was at its building: a new postcode does not move it.
        assert (school("06GS00").latitude, school("06GS00").location_precision) == plataan_point
        rows = db.session.scalars(
            select(Change).where(Change.actor.startswith("DUO-import"), Change.field == "name")
        ).all()
        assert [(r.record_label, r.old_value, r.note[:14]) for r in rows] == [
            (
                "De Arendsvleugel (05SX00)",
                "Protestants Christelijke Basisschool De Arendsvleugel",
                "02-2026-09.csv",
            )
        ]
        assert rows[0].actor == "DUO-import (coordinator@example.org)"
        assert log.files == f"{hashlib.sha256(data).hexdigest()}  02-2026-09.csv"
        assert comparison_of((data, "02-2026-09.csv")).differences == []


def test_one_kind_or_chosen_records_only(seeded_app):
    data = edited(
        {
            (row_of("05SX00"), "VESTIGINGSNAAM"): "Nieuw 1",
            (row_of("06PS00"), "VESTIGINGSNAAM"): "Nieuw 2",
            (row_of("03GR01"), "BEVOEGD GEZAG NUMMER"): "41196",
        }
    )
    with seeded_app.app_context():
        apply_comparison(comparison_of((data, "02.csv")), keys=["changed:06PS00"])
        assert (school("05SX00").name, school("06PS00").name) == (
            "Protestants Christelijke Basisschool De Arendsvleugel",
            "Nieuw 2",
        )
        apply_comparison(comparison_of((data, "02.csv")), kinds=[BOARD])
        assert school("03GR01").board.board_number == "41196"
        assert school("05SX00").name != "Nieuw 1"
        assert [d.key for d in comparison_of((data, "02.csv")).differences] == ["changed:05SX00"]


def test_what_the_partnership_maintains_is_never_overwritten(seeded_app):
    with seeded_app.app_context():
        s = school("05SX00")
        network = db.session.scalar(select(Network).filter_by(slug="hoogeveen"))
        with acting_as("coordinator@example.org"):
            s.phone = "0522 999999"  # corrected by hand after a call to the school
            s.email = "info@arendsvleugel.nl"
            s.network = network
            db.session.commit()
        data = edited(
            {
                (row_of("05SX00"), "TELEFOONNUMMER"): "0522 481345",
                (row_of("05SX00"), "STRAATNAAM"): "Bleekhof-Zuid",
            }
        )
        comparison = comparison_of((data, "02.csv"))
        [difference] = comparison.of_kind(CHANGED)
        assert [(c.field, c.new) for c in difference.changes] == [("street", "Bleekhof-Zuid")]
        assert [(c.field, c.old, c.new) for c in difference.held_back] == [
            ("phone", "0522 99 99 99", "0522 48 13 45")
        ]
        apply_comparison(comparison, kinds=KINDS)
        s = school("05SX00")
        assert (s.street, s.phone, s.email, s.network.slug) == (
            "Bleekhof-Zuid",
            "0522 99 99 99",
            "info@arendsvleugel.nl",
            "hoogeveen",
        )


def test_special_schools_are_not_proposed_for_closing_by_the_bao_file(seeded_app):
    with seeded_app.app_context():
        comparison = comparison_of((REGIONAL.read_bytes(), "02.csv"))
        special = db.session.scalars(select(School).where(School.school_type != SchoolType.BAO))
        assert len(list(special)) == 7
        assert comparison.of_kind(DISAPPEARED) == []


def test_a_location_outside_the_area_is_proposed_for_closing_with_the_reason(seeded_app):
    # A school moved (on paper) to Genemuiden, which belongs to another partnership.
    row = row_of("09HG00")
    data = edited({(row, "POSTCODE"): "8281 AA", (row, "GEMEENTENUMMER"): "1896"})
    with seeded_app.app_context():
        [gone] = comparison_of((data, "02.csv")).of_kind(DISAPPEARED)
        assert gone.vestigingscode == "09HG00"
        assert "buiten het gebied" in gone.note


def test_a_new_location_gets_a_point_from_its_postcode_and_a_new_board(seeded_app):
    lines = regional_lines()
    header = lines[0].split(";")
    row = lines[row_of("05SX00")].split(";")
    for column, value in {
        "VESTIGINGSCODE": "05SX01",
        "VESTIGINGSNAAM": "Dependance",
        "POSTCODE": "7961 AW",
        "BEVOEGD GEZAG NUMMER": "99999",
    }.items():
        row[header.index(column)] = value
    data = "\r\n".join([*lines, ";".join(row)]).encode("cp1252")
    with seeded_app.app_context():
        comparison = comparison_of((data, "02.csv"), (REGIONAL_PUPILS.read_bytes(), "06.csv"))
        assert [d.vestigingscode for d in comparison.of_kind(NEW)] == ["05SX01"]
        apply_comparison(comparison, kinds=[NEW])
        new = school("05SX01")
        assert new.location_precision is LocationPrecision.PC6
        assert new.board.board_number == "99999" and new.board.name is None
        assert new.network is None  # networks are the partnership's to assign
        assert " dependance" in new.search_text
        created = db.session.scalar(select(Change).filter_by(record_id=new.id, action="aangemaakt"))
        assert created.actor.startswith("DUO-import") and created.record_type == "school"


def test_new_pupil_counts_are_added_and_revised_ones_updated(seeded_app):
    lines = REGIONAL_PUPILS.read_bytes().decode("utf-8-sig").split("\r\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("05SX;05SX00;"))
    lines[0] += ";LEERLINGEN_2026"
    lines = [line + (";" if line and i else "") for i, line in enumerate(lines)]
    lines[0] = lines[0].removesuffix(";")
    lines[index] = lines[index][:-1].rsplit(";", 1)[0] + ";97;101"
    data = "\r\n".join(lines).encode("utf-8")
    with seeded_app.app_context():
        comparison = comparison_of((data, "06.csv"))
        [difference] = comparison.of_kind(PUPILS)
        assert [(c.field, c.old, c.new) for c in difference.changes] == [
            ("pupils:2025-10-01", "98", "97"),
            ("pupils:2026-10-01", None, "101"),
        ]
        apply_comparison(comparison, kinds=[PUPILS])
        counts = {c.reference_date.year: c.pupils for c in school("05SX00").pupil_counts}
        assert counts[2025] == 97 and counts[2026] == 101 and counts[2021] == 82


def test_a_failed_apply_leaves_the_registry_unchanged(seeded_app, monkeypatch):
    data = edited({(row_of("05SX00"), "VESTIGINGSNAAM"): "X"}, drop=(row_of("06MU00"),))
    with seeded_app.app_context():
        comparison = comparison_of((data, "02.csv"))
        before = database_checksum()
        from registry.duo import apply as module

        def broken(self):
            raise RuntimeError("disk full")

        monkeypatch.setattr(module._Writer, "insert_new", broken)
        with pytest.raises(RuntimeError):
            apply_comparison(comparison, kinds=KINDS)
        assert database_checksum() == before


@pytest.mark.parametrize(
    ("older", "newer"), [(NATIONAL_APRIL, NATIONAL_AUGUST), (NATIONAL_AUGUST, NATIONAL_APRIL)]
)
def test_national_files_compare_as_an_independent_comparison_finds(ctx, older, newer):
    """Load one national file, compare the other: the same new, gone and changed fields as a
    plain comparison of the two files with the csv module."""
    apply_comparison(
        comparison_of((older.read_bytes(), older.name), area=Area.whole_country()), kinds=[NEW]
    )
    assert db.session.scalar(select(func.count(School.id))) == (
        6107 if older == NATIONAL_APRIL else 6122
    )
    comparison = comparison_of((newer.read_bytes(), newer.name), area=Area.whole_country())

    def rows(path):
        with open(path, newline="", encoding="cp1252") as handle:
            return {r["VESTIGINGSCODE"]: r for r in csv.DictReader(handle, delimiter=";")}

    old, new = rows(older), rows(newer)
    columns = {
        "VESTIGINGSNAAM": "name",
        "STRAATNAAM": "street",
        "HUISNUMMER-TOEVOEGING": "house_number",
        "POSTCODE": "postcode",
        "PLAATSNAAM": "place",
        "DENOMINATIE": "denomination",
        "TELEFOONNUMMER": "phone",
        "INTERNETADRES": "website",
    }
    expected = set()
    for code in old.keys() & new.keys():
        for column, field in columns.items():
            a, b = old[code][column].strip() or None, new[code][column].strip() or None
            if field == "phone":  # the registry keeps numbers grouped (validation.phone)
                a, b = grouped_phone(a), grouped_phone(b)
            if a != b:
                expected.add((code, field, a, b))
        if old[code]["GEMEENTENUMMER"] != new[code]["GEMEENTENUMMER"]:
            expected.add(
                (
                    code,
                    "municipality",
                    "GM" + old[code]["GEMEENTENUMMER"],
                    "GM" + new[code]["GEMEENTENUMMER"],
                )
            )
    boards = {
        (code, old[code]["BEVOEGD GEZAG NUMMER"], new[code]["BEVOEGD GEZAG NUMMER"])
        for code in old.keys() & new.keys()
        if old[code]["BEVOEGD GEZAG NUMMER"] != new[code]["BEVOEGD GEZAG NUMMER"]
    }
    assert {d.vestigingscode for d in comparison.of_kind(NEW)} == new.keys() - old.keys()
    assert {d.vestigingscode for d in comparison.of_kind(DISAPPEARED)} == old.keys() - new.keys()
    assert len(new.keys() - old.keys()) + len(old.keys() - new.keys()) == 19
    found = {
        (d.vestigingscode, c.field, c.old, c.new)
        for d in comparison.of_kind(CHANGED)
        for c in d.changes
    }
    assert found == expected and len(found) > 50
    assert {
        (d.vestigingscode, d.changes[0].old, d.changes[0].new) for d in comparison.of_kind(BOARD)
    } == boards


# Command line and admin


def test_the_command_line_compares_writes_the_csv_and_applies(seeded_app, tmp_path):
    path = tmp_path / "02.csv"
    path.write_bytes(edited({(row_of("05SX00"), "VESTIGINGSNAAM"): "De Arendsvleugel"}))
    runner = seeded_app.test_cli_runner()
    result = runner.invoke(args=["duo", "diff", str(path), "--csv", str(tmp_path / "diff.csv")])
    assert result.exit_code == 0, result.output
    assert "Gewijzigde gegevens: 1" in result.output
    assert (
        "Naam: Protestants Christelijke Basisschool De Arendsvleugel → De Arendsvleugel"
        in result.output
    )
    with open(tmp_path / "diff.csv", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["vestigingscode"], row["old"], row["new"]) == (
        "05SX00",
        "Protestants Christelijke Basisschool De Arendsvleugel",
        "De Arendsvleugel",
    )
    result = runner.invoke(args=["duo", "apply", str(path), "--soort", "changed"])
    assert result.exit_code == 0 and "1 gewijzigd" in result.output
    result = runner.invoke(args=["duo", "log"])
    assert (
        "02.csv" in result.output and hashlib.sha256(path.read_bytes()).hexdigest() in result.output
    )


def test_the_command_line_refuses_a_bad_file_and_changes_nothing(seeded_app, tmp_path):
    path = tmp_path / "02.csv"
    path.write_bytes(REGIONAL.read_bytes().replace(b";", b","))
    with seeded_app.app_context():
        before = database_checksum()
    result = seeded_app.test_cli_runner().invoke(args=["duo", "apply", "--alles", str(path)])
    assert result.exit_code != 0
    assert "Niets gewijzigd. 02.csv, regel 1" in result.output
    with seeded_app.app_context():
        assert database_checksum() == before


def upload(client, *files: tuple[bytes, str], area="regio", **options):
    token = csrf_from(client.get("/admin/duo/").get_data(as_text=True))
    form = MultiDict([("csrf_token", token), ("gebied", area)])
    for data, name in files:
        form.add("bestanden", FileStorage(io.BytesIO(data), name))
    # Encoded in memory: the test client spools a large body to a temporary file it never
    # closes, and its warning then fails whichever test the garbage collector runs in.
    body, length, boundary = stream_encode_multipart(form, use_tempfile=False)
    return client.post(
        "/admin/duo/",
        input_stream=body,
        content_length=length,
        content_type=f'multipart/form-data; boundary="{boundary}"',
        **options,
    )


@pytest.mark.parametrize("kind", BAD_FILES)
def test_the_admin_refuses_bad_files_and_nothing_changes(seeded_app, login, kind):
    client = login("coordinator")
    with seeded_app.app_context():
        before = database_checksum()
    make, message = BAD_FILES[kind]
    response = upload(client, (make(), "upload.csv"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Niet ingelezen; er is niets gewijzigd." in page
    assert message.replace("'", "&#39;") in page
    with seeded_app.app_context():
        assert database_checksum() == before


def kept_files(app) -> list[Path]:
    return sorted((Path(app.instance_path) / "duo_uploads").glob("*/*"))


def test_an_upload_between_the_two_limits_is_refused_with_the_real_figures(seeded_app, login):
    """20.5 MB passes the request limit (21 MB, room for the form around the file) and is
    refused by the reader, which states the 20 MB the page promises."""
    client = login("coordinator")
    size = LIMIT + LIMIT // 40
    assert seeded_app.config["DUO_MAX_BYTES"] == LIMIT
    assert size < seeded_app.config["MAX_CONTENT_LENGTH"]
    with seeded_app.app_context():
        before = database_checksum()
    # The test client keeps a large body in a temporary file, which it only closes with the
    # response when it was asked to follow redirects.
    with upload(client, (b"x" * size, "groot.csv"), follow_redirects=True) as response:
        assert response.status_code == 400
        page = response.get_data(as_text=True)
    assert "Niet ingelezen; er is niets gewijzigd." in page
    assert "groot.csv is 20,5 MB; het maximum is 20 MB." in page
    assert kept_files(seeded_app) == []
    with seeded_app.app_context():
        assert database_checksum() == before


def test_an_upload_above_the_request_limit_is_413_with_the_limit(seeded_app, login):
    client = login("coordinator")
    with seeded_app.app_context():
        before = database_checksum()
    big = b"x" * (25 * 1024 * 1024)
    with upload(client, (big, "groot.csv"), follow_redirects=True) as response:
        assert response.status_code == 413
        page = html.unescape(response.get_data(as_text=True))
    assert re.search(r"Het bestand is te groot: 25,[0-9] MB; het maximum is 20 MB\.", page)
    assert kept_files(seeded_app) == []
    with seeded_app.app_context():
        assert database_checksum() == before


def test_an_over_long_file_name_is_kept_short_with_its_extension(seeded_app, login):
    """A 300-character name once ended in an OSError when the file was kept."""
    client = login("coordinator")
    name = "02-september-" + "a" * 300 + ".csv"
    data = REGIONAL.read_bytes()
    response = upload(client, (data, name))
    assert response.status_code == 302
    [kept] = kept_files(seeded_app)
    assert kept.parent.name == hashlib.sha256(data).hexdigest()
    assert len(kept.name) == 100 and kept.name.startswith("02-september-aaa")
    assert kept.suffix == ".csv" and kept.read_bytes() == data
    assert kept.name in client.get(response.headers["Location"]).get_data(as_text=True)
    refused = upload(client, (b"", name))
    assert refused.status_code == 400
    assert f"{kept.name} is leeg." in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("filename", "kept"),
    [
        ("02. alle vestigingen.csv", "02._alle_vestigingen.csv"),
        ("../../etc/passwd", "etc_passwd"),
        ("\u00e9\u00e9n\x00.csv", "een.csv"),
        ("\u4e2d\u6587", "duo.csv"),
        ("b" * 300, "b" * 100),
        ("c" * 300 + "." + "d" * 20, "c" * 100),
    ],
)
def test_a_kept_name_is_safe_and_bounded(filename, kept):
    assert kept_name(filename) == kept


def test_a_kept_file_that_the_reader_now_refuses_is_a_400_not_a_500(seeded_app, login):
    """A file kept before the reader refused NUL: preview and XLSX report say so."""
    data = edited({(59, "VESTIGINGSNAAM"): "De\x00Arend"})
    checksum = hashlib.sha256(data).hexdigest()
    folder = Path(seeded_app.instance_path) / "duo_uploads" / checksum
    folder.mkdir(parents=True)
    (folder / "02.csv").write_bytes(data)
    client = login("coordinator")
    for url in ("/admin/duo/vergelijking", "/admin/duo/vergelijking.xlsx"):
        response = client.get(url, query_string={"bestand": checksum, "gebied": "regio"})
        assert response.status_code == 400
        assert "regel 60: onzichtbaar stuurteken U+0000" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "bestand",
    ["0" * 64 + "\x00", "\x00", "0" * 64 + "\n", "0" * 100_000, "0" * 63 + "g"],
)
@pytest.mark.parametrize("url", ["/admin/duo/vergelijking", "/admin/duo/vergelijking.xlsx"])
def test_a_malformed_checksum_is_not_found_never_an_error(seeded_app, login, url, bestand):
    client = login("coordinator")
    response = client.get(url, query_string={"bestand": bestand, "gebied": "regio"})
    assert response.status_code in (400, 404)


def test_a_coordinator_previews_downloads_and_applies_chosen_records(seeded_app, login):
    client = login("coordinator")
    data = edited(
        {
            (row_of("05SX00"), "VESTIGINGSNAAM"): "De Arendsvleugel",
            (row_of("06PS00"), "VESTIGINGSNAAM"): "De Wegwijzer",
        }
    )
    response = upload(client, (data, "02-september.csv"))
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    page = preview.get_data(as_text=True)
    assert (
        "Gewijzigde gegevens" in page and "De Arendsvleugel" in page and "02-september.csv" in page
    )
    with seeded_app.app_context():
        assert school("05SX00").name != "De Arendsvleugel"  # a preview changes nothing
    query = response.headers["Location"].split("?", 1)[1]
    download = client.get(f"/admin/duo/vergelijking.xlsx?{query}")
    assert download.status_code == 200 and download.mimetype.endswith("sheet")
    checksum = hashlib.sha256(data).hexdigest()
    token = csrf_from(page)
    applied = client.post(
        "/admin/duo/toepassen",
        data={
            "csrf_token": token,
            "bestand": checksum,
            "gebied": "regio",
            "gekozen": "1",
            "kies": "changed:06PS00",
        },
        follow_redirects=True,
    )
    assert "Toegepast: 0 nieuw, 0 gesloten, 1 gewijzigd" in applied.get_data(as_text=True)
    with seeded_app.app_context():
        assert school("06PS00").name == "De Wegwijzer"
        assert school("05SX00").name != "De Arendsvleugel"
        log = db.session.scalar(select(ImportLog))
        assert log.actor.startswith("coordinator-") and log.selection == "changed:06PS00"
        assert log.files == f"{checksum}  02-september.csv"
    assert "02-september.csv" in client.get("/admin/duo_import/").get_data(as_text=True)


def test_applying_after_someone_else_did_changes_nothing_and_says_so(
    seeded_app, login, monkeypatch
):
    """Two coordinators compare the same file; the second one's apply finds the new location
    already there: a clear message, not an error page, and nothing half-written."""
    lines = regional_lines()
    header = lines[0].split(";")
    row = lines[row_of("05SX00")].split(";")
    row[header.index("VESTIGINGSCODE")] = "05SX01"
    data = "\r\n".join([*lines, ";".join(row)]).encode("cp1252")
    client = login("coordinator")
    preview = client.get(upload(client, (data, "02.csv")).headers["Location"])
    with seeded_app.app_context():
        apply_comparison(comparison_of((data, "02.csv")), kinds=[NEW], actor="first@example.org")
        before = database_checksum()
    # The second coordinator still holds the comparison made before the first one applied.
    from registry.duo import compare as compare_module

    registry_now = compare_module._registry
    monkeypatch.setattr(
        compare_module,
        "_registry",
        lambda: {k: v for k, v in registry_now().items() if k != "05SX01"},
    )
    response = client.post(
        "/admin/duo/toepassen",
        data={
            "csrf_token": csrf_from(preview.get_data(as_text=True)),
            "bestand": hashlib.sha256(data).hexdigest(),
            "gebied": "regio",
            "alles": "1",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "intussen door iemand anders gewijzigd" in response.get_data(as_text=True)
    with seeded_app.app_context():
        assert database_checksum() == before
        assert db.session.scalar(select(func.count(ImportLog.id))) == 1


# Crafted apply requests: each is refused with a message (400) and nothing is written.

NAME_CHANGED = edited({(row_of("05SX00"), "VESTIGINGSNAAM"): "De Arendsvleugel"})
NAME_CHANGED_SUM = hashlib.sha256(NAME_CHANGED).hexdigest()
BAD_CHOICES = {
    "repeated record": (
        {"gekozen": "1", "kies": ["changed:05SX00", "changed:05SX00"]},
        "changed:05SX00 is meer dan eens gekozen.",
    ),
    "malformed record": (
        {"gekozen": "1", "kies": "05SX00"},
        "'05SX00' is geen keuze; een keuze is soort:vestigingscode, bijvoorbeeld changed:05SX00.",
    ),
    "record with a NUL": (
        {"gekozen": "1", "kies": "changed:05SX00\x00"},
        "'changed:05SX00\N{REPLACEMENT CHARACTER}' is geen keuze",
    ),
    "record with a newline": ({"gekozen": "1", "kies": "changed:05SX00\n"}, "is geen keuze"),
    "over-long record": (
        {"gekozen": "1", "kies": "changed:" + "0" * 10_000},
        "'changed:" + "0" * 32 + "…' is geen keuze",
    ),
    "record of an unknown kind": ({"gekozen": "1", "kies": "closed:05SX00"}, "is geen keuze"),
    "record not in the comparison": (
        {"gekozen": "1", "kies": "changed:06PS00"},
        "changed:06PS00 staat niet in deze vergelijking of heeft niets om toe te passen;",
    ),
    "repeated kind": (
        {"soort": ["changed", "new"]},
        "De parameter soort staat er meer dan eens in.",
    ),
    "unknown kind": ({"soort": "closed"}, "Onbekende soort: closed"),
    "repeated area": (
        {"alles": "1", "gebied": ["regio", "landelijk"]},
        "De parameter gebied staat er meer dan eens in.",
    ),
    "unknown area": ({"alles": "1", "gebied": "mars"}, "Onbekend gebied 'mars'"),
    "repeated button": ({"alles": ["1", "1"]}, "De parameter alles staat er meer dan eens in."),
    "repeated file": (
        {"alles": "1", "bestand": [NAME_CHANGED_SUM] * 2},
        "Kies hooguit drie bestanden",
    ),
}


@pytest.mark.parametrize("case", BAD_CHOICES)
def test_a_crafted_apply_is_refused_and_changes_nothing(seeded_app, login, case):
    client = login("coordinator")
    preview = client.get(upload(client, (NAME_CHANGED, "02.csv")).headers["Location"])
    page = preview.get_data(as_text=True)
    assert 'value="changed:05SX00"' in page  # the record the crafted requests aim at
    with seeded_app.app_context():
        before = database_checksum()
    fields, message = BAD_CHOICES[case]
    form = {"bestand": NAME_CHANGED_SUM, "gebied": "regio", **fields, "csrf_token": csrf_from(page)}
    response = client.post("/admin/duo/toepassen", data=form)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    with seeded_app.app_context():
        assert database_checksum() == before
        assert db.session.scalar(select(func.count(ImportLog.id))) == 0


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (["changed:05SX00", "changed:05SX00"], "changed:05SX00 is meer dan eens gekozen."),
        (["05SX00"], "'05SX00' is geen keuze"),
        (["changed:05SX00\x01"], "'changed:05SX00\N{REPLACEMENT CHARACTER}' is geen keuze"),
        (["changed:06PS00"], "changed:06PS00 staat niet in deze vergelijking"),
    ],
)
def test_the_command_line_refuses_a_crafted_choice_and_changes_nothing(
    seeded_app, tmp_path, keys, message
):
    path = tmp_path / "02.csv"
    path.write_bytes(NAME_CHANGED)
    with seeded_app.app_context():
        before = database_checksum()
    args = ["duo", "apply", str(path)]
    for key in keys:
        args += ["--kies", key]
    result = seeded_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Niets gewijzigd." in result.output and message in result.output
    with seeded_app.app_context():
        assert database_checksum() == before
        assert db.session.scalar(select(func.count(ImportLog.id))) == 0


def test_values_beyond_the_form_limits_are_refused_with_a_message(seeded_app, login):
    """Werkzeug limits a multipart form's text fields (MAX_FORM_MEMORY_SIZE) but not an
    urlencoded one's: the upload answers 413, the apply form its own 400."""
    client = login("coordinator")
    preview = client.get(upload(client, (NAME_CHANGED, "02.csv")).headers["Location"])
    form = {
        "csrf_token": csrf_from(preview.get_data(as_text=True)),
        "bestand": NAME_CHANGED_SUM,
        "gekozen": "1",
        "kies": "changed:" + "0" * 600_000,
    }
    response = client.post("/admin/duo/toepassen", data=form)
    assert response.status_code == 400
    assert "is geen keuze" in html.unescape(response.get_data(as_text=True))
    long_area = "regio" * 120_000
    with upload(
        client, (NAME_CHANGED, "02.csv"), area=long_area, follow_redirects=True
    ) as response:
        assert response.status_code == 413
        page = response.get_data(as_text=True)
    assert "Het verzoek is te groot: te veel of te lange velden." in page
    with seeded_app.app_context():
        assert db.session.scalar(select(func.count(ImportLog.id))) == 0
