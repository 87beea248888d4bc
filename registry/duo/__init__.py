"""Keeping the registry in step with DUO: read its files, compare, apply what a coordinator chose.

`files` reads and refuses, `area` selects the partnership's locations, `compare` lists the
differences, `apply` writes the chosen ones in one transaction; `cli` drives them from the
command line and `registry.admin.duo` from the admin.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import duo_cli

    app.cli.add_command(duo_cli)
