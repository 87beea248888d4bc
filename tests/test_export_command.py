"""`flask export schools` and `export overview` are strict: a query the site cannot answer is
refused (exit code 2), a file that cannot be written is said so (exit code 1), each in one
plain Dutch line; `-o -` writes the file itself to standard output."""

import errno
import io
from pathlib import Path

import openpyxl
import pytest


def export(app, *args):
    return app.test_cli_runner().invoke(args=["export", *args])


def one_dutch_line(result) -> str:
    """The error as the user reads it: one line, no markup, no text of a web page."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.output
    [line] = lines
    assert line.startswith("Fout: "), line
    assert "<" not in line and "startpagina" not in line and "Usage" not in line
    assert "Traceback" not in result.output and result.stdout == ""
    return line


def cells(xlsx: bytes) -> list[tuple]:
    return list(openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))


def test_a_misspelt_parameter_is_refused_with_the_one_meant(seeded_app, tmp_path):
    target = tmp_path / "x.csv"
    result = export(seeded_app, "schools", "gemeent=meppel", "--format", "csv", "-o", str(target))
    assert result.exit_code == 2
    line = one_dutch_line(result)
    assert "“gemeent”" in line and "bedoelde u gemeente?" in line
    assert not target.exists()  # not the whole region under a name that says Meppel


def test_a_parameter_like_none_lists_the_known_ones(seeded_app, tmp_path):
    result = export(seeded_app, "schools", "gemeente=meppel&xyz=1", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2
    line = one_dutch_line(result)
    # The known ones are the view's own: the filters, the search's, the columns, the language.
    for name in ("gemeente", "ondersteuning", "q", "postcode", "sort", "kolom", "peildatum"):
        assert name in line


def test_a_value_the_directory_does_not_know_is_bad_input(seeded_app, tmp_path):
    target = tmp_path / "x.csv"
    for args in (["gemeente=mepel"], ["--type", "VO"], ["peildatum=2020-01-01"], ["sort=x"]):
        result = export(seeded_app, "schools", *args, "--format", "csv", "-o", str(target))
        assert result.exit_code == 2, args
        assert "Parameter" in one_dutch_line(result)
    assert "Bedoelde u Meppel?" in export(seeded_app, "schools", "gemeente=mepel", "-o", "x").stderr
    assert not target.exists()


def test_minus_writes_the_very_file_to_standard_output(seeded_app, client):
    query = "gemeente=meppel&kolom=name&kolom=phone"
    result = export(seeded_app, "schools", query, "--format", "csv", "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == client.get(f"/scholen.csv?{query}").data
    assert result.stderr == "17 scholen geschreven naar standaarduitvoer\n"
    assert not Path("-").exists()
    xlsx = export(seeded_app, "schools", query, "--format", "xlsx", "-o", "-")
    assert xlsx.exit_code == 0 and xlsx.stdout_bytes.startswith(b"PK\x03\x04")
    assert cells(xlsx.stdout_bytes) == cells(client.get(f"/scholen.xlsx?{query}").data)


def test_a_valid_query_still_writes_the_file_the_url_gives(seeded_app, client, tmp_path):
    query = "gemeente=meppel&richting=Openbaar&sort=leerlingen&lang=en"
    target = tmp_path / "meppel.excel.csv"
    result = export(seeded_app, "schools", query, "--format", "excel.csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    download = client.get(f"/scholen.excel.csv?{query}").data
    assert target.read_bytes() == download and download.startswith(b"\xef\xbb\xbfLocation code")
    rows = download.count(b"\n") - 1
    assert result.stdout == f"{rows} scholen geschreven naar {target}\n" and rows > 0


def test_a_missing_folder_is_one_line_not_a_traceback(seeded_app, tmp_path):
    target = tmp_path / "nergens" / "x.csv"
    result = export(seeded_app, "schools", "gemeente=meppel", "-o", str(target))
    assert result.exit_code == 1
    assert one_dutch_line(result) == f"Fout: De map {target.parent} bestaat niet."


@pytest.mark.parametrize(
    ("place", "said"),
    [
        (lambda tmp: tmp, "is een map; geef de naam van een bestand."),
        (lambda tmp: tmp / "bestand" / "x.csv", "is geen map."),
        (lambda tmp: Path("/dev/full"), "kon niet geschreven worden"),
    ],
)
def test_a_path_that_cannot_be_written_is_one_line(seeded_app, tmp_path, place, said):
    (tmp_path / "bestand").write_text("")
    result = export(seeded_app, "schools", "gemeente=meppel", "-o", str(place(tmp_path)))
    assert result.exit_code == 1
    assert said in one_dutch_line(result)


def test_a_refused_permission_is_one_line(seeded_app, tmp_path, monkeypatch):
    # The tests may run as root, who may write anywhere: the refusal is made to happen.
    def refuse(path, mode):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr("click.open_file", refuse)
    target = tmp_path / "x.csv"
    result = export(seeded_app, "schools", "gemeente=meppel", "-o", str(target))
    assert result.exit_code == 1
    assert one_dutch_line(result) == f"Fout: Geen toestemming om {target} te schrijven."


def test_the_overview_command_is_as_strict(seeded_app, client, tmp_path):
    target = tmp_path / "x.xlsx"
    misspelt = export(seeded_app, "overview", "bestuur", "gemeent=meppel", "-o", str(target))
    assert misspelt.exit_code == 2
    assert "bedoelde u gemeente?" in one_dutch_line(misspelt)
    # The overviews read no search text: q is no parameter of theirs.
    text = export(seeded_app, "overview", "bestuur", "q=wies", "-o", str(target))
    assert text.exit_code == 2 and "“q”" in one_dutch_line(text)
    date = export(seeded_app, "overview", "bestuur", "--peildatum", "2020-01-01", "-o", str(target))
    assert date.exit_code == 2 and "geen leerlingen geteld" in one_dutch_line(date)
    missing = export(seeded_app, "overview", "bestuur", "-o", str(tmp_path / "nee" / "x.xlsx"))
    assert missing.exit_code == 1 and "bestaat niet" in one_dutch_line(missing)
    assert not target.exists()
    shown = export(seeded_app, "overview", "bestuur", "gemeente=meppel", "-o", "-")
    assert shown.exit_code == 0, shown.output
    assert shown.stderr == "Overzicht per bestuur geschreven naar standaarduitvoer\n"
    web = client.get("/overzichten/bestuur.xlsx?gemeente=meppel").data
    assert cells(shown.stdout_bytes) == cells(web)
