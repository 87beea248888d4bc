"""Keeping the registry in step with DUO: read its files, compare, apply what a coordinator chose.

`files` reads and refuses, `area` selects the partnership's locations, `compare` lists the
differences, `apply` writes the chosen ones in one transaction; `cli` drives them from the
command line and `registry.admin.duo` from the admin, which keeps its uploads in `uploads`.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import duo_cli

    # An uploaded file never applied is deleted at the first upload after this many days
    # (REGISTRY_DUO_UPLOAD_DAYS); an applied one at once.
    app.config.setdefault("DUO_UPLOAD_DAYS", 2)
    app.cli.add_command(duo_cli)
