"""DUO's address file of special education (09): read wherever file 02 is, known by its header,
never closing another file's schools, and its kinds of special education in plain words."""

import csv
import html
from pathlib import Path

import pytest
from helpers import csrf_from
from sqlalchemy import func, select
from test_duo import database_checksum, upload

from registry.db import db
from registry.duo.apply import apply_comparison
from registry.duo.area import Area
from registry.duo.compare import BOARD, CHANGED, DISAPPEARED, NEW, PUPILS, compare
from registry.duo.files import DuoFileError, read_duo_file
from registry.history import acting_as
from registry.models import LocationPrecision, School, SchoolType
from registry.special import ABBREVIATIONS, CLUSTERS, describe

DUO = Path(__file__).parent.parent / "seed_data" / "duo"
SPECIAL = (
    DUO / "duo_09-alle-vestigingen-sbo-so-en-vso_via-hahebo-daad5c8_SUBSET-7gemeenten_utf8.csv"
)
NATIONAL_SPECIAL = DUO / (
    "duo_09-alle-vestigingen-sbo-so-en-vso_NATIONAL_via-hahebo-daad5c8_utf8.csv"
)
BAO = DUO / (
    "duo_02-alle-schoolvestigingen-basisonderwijs_via-sessyll-bb794a7_2026-08"
    "_SUBSET-7gemeenten_cp1252.csv"
)
PUPILS_FILE = DUO / (
    "duo_06-historisch-overzicht-leerlingen-per-schoolvestiging_1996-2025_via-sessyll-bb794a7"
    "_SUBSET-7gemeenten.csv"
)
# The seed's special schools (SBO, SO, SO+VSO), all in file 09.
SEVEN = {"00JH00", "06SV09", "07MI00", "16QX00", "19QE00", "19SK00", "19RN00"}
# What file 09 gives them that the seed's schools.csv (from the pupil file) did not.
FACTS = ("street", "house_number", "postcode", "place", "phone", "website")
KINDS_OF_SPECIAL = ("special_education", "cluster")


def as_duo_publishes(data: bytes) -> bytes:
    """The file in DUO's own encoding: Windows-1252 with CRLF (the copy here is UTF-8, LF)."""
    return data.decode("utf-8").replace("\n", "\r\n").encode("cp1252")


def special_lines() -> list[str]:
    return SPECIAL.read_text(encoding="utf-8").split("\n")


def special_edited(code: str, **values: str) -> bytes:
    """File 09 with one location's columns changed (None drops the location)."""
    lines = special_lines()
    header = lines[0].split(";")
    for i, line in enumerate(lines):
        if f";{code};" in line:
            row = line.split(";")
            for column, value in values.items():
                row[header.index(column.replace("_", " "))] = value
            lines[i] = ";".join(row)
    return "\n".join(lines).encode("utf-8")


def school(code: str) -> School:
    return db.session.scalar(select(School).filter_by(vestigingscode=code))


def open_bao() -> int:
    return db.session.scalar(
        select(func.count(School.id)).where(School.school_type == SchoolType.BAO, School.is_open)
    )


# Reading


@pytest.mark.parametrize(
    "encode",
    [
        lambda data: data,  # as copied: UTF-8 with LF
        as_duo_publishes,  # as DUO publishes: Windows-1252 with CRLF
        lambda data: b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"),  # UTF-8 with BOM, CRLF
    ],
    ids=["utf-8", "cp1252-crlf", "utf-8-bom-crlf"],
)
@pytest.mark.parametrize("path", [SPECIAL, NATIONAL_SPECIAL], ids=["regional", "national"])
def test_file_09_reads_the_same_in_every_encoding_duo_uses(ctx, path, encode):
    plain = read_duo_file(path.read_bytes(), path.name)
    duo = read_duo_file(encode(path.read_bytes()), path.name)
    assert duo.kind == "special" and duo.locations == plain.locations
    assert duo.vso_only == plain.vso_only
    if path == SPECIAL:
        assert duo.rows == 9
        # De Atlas gives VSO only: it belongs to the secondary schools' partnership.
        assert duo.vso_only == {"00ZF14"}
        assert duo.locations.keys() > SEVEN
        mackay = duo.locations["19SK00"].fields
        assert {k: mackay[k] for k in (*FACTS, "school_type", *KINDS_OF_SPECIAL)} == {
            "street": "Colijnstraat",
            "house_number": "4",
            "postcode": "7942 BH",
            "place": "MEPPEL",
            "phone": "0522 25 19 82",
            "website": "www.stichtingpromes.nl",
            "school_type": "SO+VSO",
            "special_education": "SO ZMLK + VSO ZMLK",
            "cluster": "3",
        }
        # SBO: DUO's "SBAO", no cluster (a single space in the file).
        assert duo.locations["19QE00"].fields["school_type"] == "SBO"
        assert duo.locations["19QE00"].fields["cluster"] is None
    else:
        assert duo.rows == 905 and len(duo.vso_only) == 87 and len(duo.locations) == 818


@pytest.mark.parametrize(
    ("path", "kind"),
    [(SPECIAL, "special"), (BAO, "locations"), (PUPILS_FILE, "pupils")],
)
@pytest.mark.parametrize(
    "given_as",
    [
        "02.-alle-schoolvestigingen-basisonderwijs.csv",
        "06.-historisch-overzicht-aantal-leerlingen-per-schoolvestiging.csv",
        "09.-alle-vestigingen-sbo-so-en-vso.csv",
    ],
)
def test_a_file_is_read_as_what_its_header_says_whatever_its_name(ctx, path, kind, given_as):
    assert read_duo_file(path.read_bytes(), given_as).kind == kind


def with_column(data: bytes, column: str, encoding: str, newline: str) -> bytes:
    lines = data.decode(encoding).split(newline)
    lines = [
        line + (f";{column}" if i == 0 else ";x") if line else line for i, line in enumerate(lines)
    ]
    return newline.join(lines).encode(encoding)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # The secondary schools' address file starts as file 02 does, with a column more.
        (
            lambda: with_column(BAO.read_bytes(), "ONDERWIJSSTRUCTUUR", "cp1252", "\r\n"),
            "de kolom ONDERWIJSSTRUCTUUR hoort niet bij het bestand adressen basisonderwijs"
            " (DUO-bestand 02); dit lijkt een ander bestand van DUO.",
        ),
        (
            lambda: with_column(SPECIAL.read_bytes(), "LEERLINGEN_2025", "utf-8", "\n"),
            "de kolom LEERLINGEN_2025 hoort niet bij het bestand adressen speciaal"
            " (basis)onderwijs (DUO-bestand 09)",
        ),
        (
            lambda: special_edited("19SK00", SOORT_PRIMAIR_ONDERWIJS="PRO"),
            "regel 5, kolom SOORT PRIMAIR ONDERWIJS: 'PRO' kent het register niet;"
            " DUO schrijft hier SBAO, SO, (V)SO, VSO.",
        ),
        (
            lambda: SPECIAL.read_bytes().replace(b";CLUSTER;", b";KLUSTER;", 1),
            "deze kolommen ontbreken: CLUSTER (heet nu KLUSTER?)",
        ),
        (
            lambda: special_edited("19SK00", ONDERWIJS="Z" * 201),
            "regel 5, kolom ONDERWIJS: de waarde is 201 tekens lang;"
            " het register bewaart er hoogstens 200.",
        ),
    ],
    ids=["another DUO file", "a pupil column", "unknown type", "renamed column", "too long"],
)
def test_another_file_or_a_broken_one_is_refused_with_what_it_is(ctx, data, message):
    with pytest.raises(DuoFileError) as error:
        read_duo_file(data(), "02.csv")
    assert message in str(error.value)
    assert str(error.value).startswith("02.csv, regel")


# The seed


def test_the_seed_gives_the_special_schools_file_09s_address_contact_kinds_and_point(seeded_app):
    with seeded_app.app_context():
        duo = read_duo_file(SPECIAL.read_bytes(), SPECIAL.name)
        special = db.session.scalars(select(School).where(School.school_type != SchoolType.BAO))
        special = {s.vestigingscode: s for s in special}
        assert special.keys() == SEVEN
        for code, s in special.items():
            fields = duo.locations[code].fields
            assert {f: getattr(s, f) for f in (*FACTS, *KINDS_OF_SPECIAL)} == {
                f: fields[f] for f in (*FACTS, *KINDS_OF_SPECIAL)
            }, code
            assert s.latitude is not None and s.longitude is not None, code
            assert s.email is None  # file 09 has no e-mail column: a gap, not a guess
        # Placed as the import places a school: its 6-position postcode's centre where the
        # data has it (Drenthe), else its 4-digit area's (Steenwijk, Overijssel).
        assert special["19SK00"].location_precision is LocationPrecision.PC6
        assert special["19RN00"].location_precision is LocationPrecision.PC4
        # Names stay the seed's (from the pupil file); file 09's are a change to review.
        assert special["19SK00"].name == "REC Mackay"


def test_the_seed_and_file_09_differ_only_in_what_a_coordinator_should_review(seeded_app):
    with seeded_app.app_context():
        comparison = compare([read_duo_file(SPECIAL.read_bytes(), SPECIAL.name)], Area.from_file())
        assert comparison.of_kind(DISAPPEARED) == [] and comparison.rejected == []
        changes = {
            (d.vestigingscode, c.field) for d in comparison.of_kind(CHANGED) for c in d.changes
        }
        # Five longer names, and De Aventurijn's type: SO in the pupil file, (V)SO in file 09.
        assert changes == {
            ("00JH00", "name"),
            ("07MI00", "name"),
            ("19QE00", "name"),
            ("19SK00", "name"),
            ("19RN00", "name"),
            ("06SV09", "school_type"),
        }
        # De Windroos: (V)SO in file 09, VSO only in the pupil file the seed was selected by.
        assert [d.vestigingscode for d in comparison.of_kind(NEW)] == ["16QX01"]


# Comparing and applying


def forget_file_09(app) -> None:
    """The special schools as a registry seeded before file 09 was read has them."""
    with app.app_context(), acting_as("seed (seed_data)"):
        for s in db.session.scalars(select(School).where(School.school_type != SchoolType.BAO)):
            for attribute in (*FACTS, *KINDS_OF_SPECIAL):
                setattr(s, attribute, None)
            s.latitude = s.longitude = s.location_precision = None
        db.session.commit()


def test_diff_on_file_09_reports_the_special_schools_new_facts_and_no_disappeared_school(
    seeded_app, tmp_path
):
    forget_file_09(seeded_app)
    path = tmp_path / "09.csv"
    path.write_bytes(as_duo_publishes(SPECIAL.read_bytes()))
    result = seeded_app.test_cli_runner().invoke(args=["duo", "diff", str(path)])
    assert result.exit_code == 0, result.output
    assert "09.csv: adressen speciaal (basis)onderwijs (DUO-bestand 09), 9 regels" in result.output
    assert "Verdwenen vestigingen (voorstel: sluiten): 0" in result.output
    assert "Gewijzigde gegevens: 7" in result.output
    assert "Staat niet meer in het DUO-bestand" not in result.output
    assert "Straat: — → Colijnstraat" in result.output
    assert "Soort speciaal onderwijs (DUO): — → SO ZMLK + VSO ZMLK" in result.output

    result = seeded_app.test_cli_runner().invoke(
        args=["duo", "apply", str(path), "--soort", "changed"]
    )
    assert result.exit_code == 0 and "0 gesloten, 7 gewijzigd" in result.output, result.output
    with seeded_app.app_context():
        mackay = school("19SK00")
        assert (mackay.street, mackay.house_number, mackay.postcode, mackay.place) == (
            "Colijnstraat",
            "4",
            "7942 BH",
            "MEPPEL",
        )
        assert (mackay.special_education, mackay.cluster) == ("SO ZMLK + VSO ZMLK", "3")
        # A school without a point gets one from its new postcode, as a new school does.
        assert mackay.location_precision is LocationPrecision.PC6
        assert school("06SV09").school_type is SchoolType.SO_VSO
        assert open_bao() == 110


def test_file_09_given_as_file_02_never_closes_a_basisschool(seeded_app, tmp_path):
    """The bug this file began with: file 09 was taken for file 02, and every basisschool
    was proposed for closing."""
    path = tmp_path / "02.-alle-schoolvestigingen-basisonderwijs.csv"
    path.write_bytes(SPECIAL.read_bytes())
    result = seeded_app.test_cli_runner().invoke(args=["duo", "apply", str(path), "--alles"])
    assert result.exit_code == 0, result.output
    assert "0 gesloten" in result.output
    with seeded_app.app_context():
        assert open_bao() == 110


def test_the_national_file_09_runs_and_closes_no_basisschool(seeded_app):
    runner = seeded_app.test_cli_runner()
    path = str(NATIONAL_SPECIAL)
    result = runner.invoke(args=["duo", "diff", "--landelijk", path])
    assert result.exit_code == 0, result.output
    assert "Verdwenen vestigingen (voorstel: sluiten): 0" in result.output
    assert "Nieuwe vestigingen: 811" in result.output  # 818 without VSO alone, 7 known
    result = runner.invoke(args=["duo", "apply", "--landelijk", "--alles", path])
    assert result.exit_code == 0 and "811 nieuw, 0 gesloten" in result.output, result.output
    with seeded_app.app_context():
        assert open_bao() == 110
        by_type = dict(
            db.session.execute(
                select(School.school_type, func.count(School.id)).group_by(School.school_type)
            ).all()
        )
        assert by_type == {
            SchoolType.BAO: 110,
            SchoolType.SBO: 262,
            SchoolType.SO: 112,
            SchoolType.SO_VSO: 444,
        }
        assert (
            db.session.scalar(select(func.count(School.id)).where(School.latitude.is_(None))) == 0
        )


def test_a_special_school_is_missing_only_from_file_09_and_with_its_reason(seeded_app):
    with seeded_app.app_context():
        # File 02 lists no special school: none is proposed for closing by it.
        bao = compare([read_duo_file(BAO.read_bytes(), BAO.name)], Area.from_file())
        assert bao.of_kind(DISAPPEARED) == []
        without = "\n".join(line for line in special_lines() if ";19SK00;" not in line)
        for data, note in (
            (without.encode(), "Staat niet meer in het DUO-bestand."),
            (
                special_edited("19SK00", SOORT_PRIMAIR_ONDERWIJS="VSO"),
                "Staat in het DUO-bestand als alleen voortgezet speciaal onderwijs (VSO)",
            ),
        ):
            comparison = compare([read_duo_file(data, "09.csv")], Area.from_file())
            [gone] = comparison.of_kind(DISAPPEARED)
            assert gone.vestigingscode == "19SK00" and note in gone.note
        # Both address files at once: each closes within its own types only.
        both = compare(
            [read_duo_file(BAO.read_bytes(), BAO.name), read_duo_file(without.encode(), "09.csv")],
            Area.from_file(),
        )
        assert [d.vestigingscode for d in both.of_kind(DISAPPEARED)] == ["19SK00"]


def test_two_files_of_one_kind_are_refused(seeded_app):
    with seeded_app.app_context():
        duo = read_duo_file(SPECIAL.read_bytes(), SPECIAL.name)
        with pytest.raises(ValueError, match="Kies hooguit één bestand van elke soort"):
            compare([duo, duo], Area.from_file())


def test_file_09_with_the_pupil_file_adds_a_new_special_school_with_its_counts(seeded_app):
    with seeded_app.app_context():
        files = [
            read_duo_file(SPECIAL.read_bytes(), SPECIAL.name),
            read_duo_file(PUPILS_FILE.read_bytes(), PUPILS_FILE.name),
        ]
        comparison = compare(files, Area.from_file())
        assert comparison.counts() == {NEW: 1, DISAPPEARED: 0, CHANGED: 6, BOARD: 0, PUPILS: 1}
        apply_comparison(comparison, kinds=[NEW, PUPILS])
        windroos = school("16QX01")
        assert windroos.school_type is SchoolType.SO_VSO
        assert windroos.special_education == "SO ZMLK + VSO ZMLK + RP-SO ZMLK + RP-VSO ZMOK"
        assert windroos.cluster == "3/4"
        assert windroos.location_precision is LocationPrecision.PC6
        assert len(windroos.pupil_counts) == 5


def test_the_admin_reads_file_09_uploaded_as_file_02(seeded_app, login):
    client = login("coordinator")
    data = as_duo_publishes(SPECIAL.read_bytes())
    response = upload(client, (data, "02-september.csv"))
    assert response.status_code == 302
    page = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Regionaal Expertisecentrum Mackay" in page
    assert "Staat niet meer in het DUO-bestand" not in page
    with seeded_app.app_context():
        before = database_checksum()
    query = response.headers["Location"].split("?", 1)[1]
    applied = client.post(
        f"/admin/duo/toepassen?{query}",
        data={"csrf_token": csrf_from(page), "soort": "changed"},
        follow_redirects=True,
    )
    assert "0 gesloten, 6 gewijzigd" in applied.get_data(as_text=True)
    with seeded_app.app_context():
        assert database_checksum() != before
        assert school("19SK00").name == "Regionaal Expertisecentrum Mackay"
        assert open_bao() == 110


# Kinds of special education in plain words


def national_rows() -> list[dict]:
    with open(NATIONAL_SPECIAL, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_every_abbreviation_and_cluster_of_the_national_file_has_plain_words(ctx):
    rows = national_rows()
    abbreviations = {
        code
        for row in rows
        for part in row["ONDERWIJS"].split("+")
        if " " in part.strip()
        for code in part.split()[-1].split(",")
    }
    assert abbreviations <= ABBREVIATIONS.keys()
    clusters = {c for row in rows for c in row["CLUSTER"].strip().split("/") if c}
    assert clusters == CLUSTERS.keys()
    for row in rows:
        for kind in describe(row["ONDERWIJS"].strip(), row["CLUSTER"].strip()):
            assert kind.label not in abbreviations, row["ONDERWIJS"]  # never bare DUO


def test_kinds_are_said_in_plain_words_with_stable_codes(ctx):
    mackay = describe("SO ZMLK + VSO ZMLK", "3")
    assert [(k.code, str(k)) for k in mackay] == [
        ("zmlk", "kinderen die zeer moeilijk leren (ZMLK)"),
        (
            "cluster-3",
            "cluster 3: kinderen met een verstandelijke of lichamelijke beperking of een"
            " langdurige lichamelijke ziekte",
        ),
    ]
    windroos = describe("SO ZMLK + VSO ZMLK + RP-SO ZMLK + RP-VSO ZMOK", "3/4")
    assert [str(k) for k in windroos][1:3] == [
        "kinderen met ernstige gedragsproblemen (ZMOK), alleen als zij in een instelling wonen",
        "ook voor kinderen die in een instelling wonen (RP)",
    ]
    assert [k.code for k in windroos] == ["zmlk", "zmok", "residentieel", "cluster-3", "cluster-4"]
    # The four kinds of MG read as one; a kind at one of two levels says which.
    lg = describe("SO LG,MGF + VSO LG", "3")
    assert [(k.code, k.label, k.note) for k in lg][:2] == [
        ("lg", "kinderen met een lichamelijke beperking (LG)", None),
        ("mg", "kinderen met meervoudige beperkingen (MG)", "alleen SO"),
    ]
    # What the tables do not know is shown as DUO writes it.
    assert [str(k) for k in describe("SO XYZ + ABC", "5")] == ["XYZ", "ABC", "cluster 5"]
    # Speciaal basisonderwijs: the school's type says it all.
    assert describe("SBAO", None) == [] and describe(None, None) == []


def test_the_school_page_shows_file_09s_address_kinds_map_and_the_partnership(client):
    page = html.unescape(client.get("/scholen/19SK00").get_data(as_text=True))
    assert "Colijnstraat 4, 7942 BH Meppel" in page
    assert "0522 25 19 82" in page
    assert "kinderen die zeer moeilijk leren (ZMLK)" in page
    assert "cluster 3: kinderen met een verstandelijke" in page
    assert "Zo schrijft DUO het: SO ZMLK + VSO ZMLK, cluster 3" in page
    assert 'id="kaart-kop"' in page and "52.70576" in page
    assert "Toelating en contact: het samenwerkingsverband" in page
    assert "nog niet ingevuld" in page
    basisschool = client.get("/scholen/05SX00").get_data(as_text=True)
    assert "Voor wie" not in basisschool and "samenwerkingsverband-kop" not in basisschool


def test_the_admin_takes_all_three_kinds_of_file_at_once(seeded_app, login):
    from test_duo import upload

    client = login("coordinator")
    files = [(path.read_bytes(), path.name) for path in (BAO, SPECIAL, PUPILS_FILE)]
    answer = upload(client, *files)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    preview = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Regionaal Expertisecentrum Mackay" in preview
    assert "Staat niet meer in het DUO-bestand" not in preview
    twice = upload(client, *files, (SPECIAL.read_bytes(), "ook-09.csv"))
    assert twice.status_code in (302, 400)
    if twice.status_code == 302:
        again = client.get(twice.headers["Location"])
        assert again.status_code == 400 and "hooguit" in again.get_data(as_text=True)


def test_parents_filter_special_schools_by_cluster(client):
    data = client.get("/scholen.json?cluster=3").get_json()
    assert data["total"] >= 1 and "19SK00" in {s["vestigingscode"] for s in data["schools"]}
    offered = {f["value"]: f for f in client.get("/scholen.json").get_json()["facets"]["cluster"]}
    assert offered["3"]["label"].startswith("cluster 3: kinderen met een verstandelijke")
    assert offered["3"]["count"] == data["total"]
    assert client.get("/scholen.json?cluster=cluster+3").get_json()["total"] == data["total"]
    assert client.get("/api/v1/schools?cluster=7").status_code == 400
    page = client.get("/scholen?cluster=3").get_data(as_text=True)
    assert 'id="facet-cluster"' in page and "Speciaal onderwijs voor" in page
