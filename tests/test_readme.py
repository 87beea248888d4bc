"""The README's layout names files that exist, where it says they are."""

import re

from registry import PROJECT_ROOT

# Made by running the app or the tests, never committed.
GENERATED = {"instance/", "tests/test-artifacts/"}
NAMED = re.compile(r"(?<![\w./-])([a-z_][a-z0-9_-]*(?:/[\w-]+)*(?:\.(?:py|md|cfg|toml|txt)|/))")


def layout() -> list[str]:
    """The lines of the README's layout block."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    return block.strip("\n").splitlines()


def named_paths() -> set[tuple[str, ...]]:
    """Each name the layout gives, with where it may be: an entry at the start of a line
    (indented by two: inside the package); a file or folder its description names, inside the
    entry when that is a folder, else beside it (or, with a folder of its own, from the top)."""
    paths, entry = set(), ""
    for line in layout():
        name, _, description = line.strip().partition(" ")
        if line[:1].strip() or (line.startswith("  ") and line[2:3].strip()):
            sibling = name.endswith(",")  # "migrations/, translations/": a list of entries
            entry = ("" if line[:1].strip() else "registry/") + name.rstrip(",")
            paths.add((entry,))
        else:
            description = line.strip()  # the description runs on
        inside = entry if entry.endswith("/") and not sibling else entry.rstrip("/")
        folder = inside.rpartition("/")[0] + "/" if not inside.endswith("/") else inside
        for found in NAMED.findall(description):
            paths.add((f"{folder.lstrip('/')}{found}", found))
    return {where for where in paths if where[0] not in GENERATED}


def test_every_path_in_the_readme_layout_exists():
    paths = named_paths()
    assert ("registry/overviews/document.py", "document.py") in paths
    assert ("tools/",) in paths
    missing = sorted(
        where[0] for where in paths if not any((PROJECT_ROOT / w).exists() for w in where)
    )
    assert missing == []
