"""Compressed answers (brotli where the client asks, else gzip) of the text the site sends:
HTML, JSON, CSV, JavaScript, CSS, SVG, XML. Done by the app itself, so `make run` and the
gunicorn setup both serve it (Flask-Compress). A search page of 213 kB (148 kB of it Leaflet's
script) travels as about a quarter of that.

Registered before the page cache (registry/cache.py): after_request hooks run in the reverse
order, so the cache keeps the plain body and each answer is compressed as its client asks.
"""

from flask import Flask, Response
from flask_compress import Compress

from .static_files import is_static

compress = Compress()

TEXT_TYPES = [
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "image/svg+xml",
]


def _whole_static_file(response: Response) -> Response:
    """A static file is sent as a stream, and Flask-Compress compresses streams without gzip
    (brotli only): read whole (the largest, Leaflet's script, is 148 kB), it is compressed
    either way, and answers If-None-Match with a 304 as before."""
    if is_static() and response.status_code == 200 and response.is_streamed:
        response.direct_passthrough = False
        response.set_data(response.get_data())
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", TEXT_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    # Downloads stream row by row at national scale: compressed as they stream.
    app.config.setdefault("COMPRESS_STREAMS", True)
    compress.init_app(app)
    # Registered after Compress, so it runs before it (after_request runs in reverse).
    app.after_request(_whole_static_file)
