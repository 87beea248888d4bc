"""Entry point for `flask --app wsgi` and WSGI servers."""

from registry import create_app

app = create_app()
