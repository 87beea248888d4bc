"""Where the site may send a browser next: only a path on this site, read as the browser will.

Judging the raw value is not enough: a tab or a backslash in it can turn a path into
'//evil.example', and 'http:evil.example' is another site to a browser, so every address taken
from a request (the login's `next`, the admin's `url`) is read here first.
"""

from urllib.parse import urlsplit

# How a browser reads a Location (WHATWG URL parser): C0 controls and spaces are stripped
# from both ends, tabs and newlines are dropped anywhere, and a backslash counts as a slash.
C0_AND_SPACE = "".join(map(chr, range(0x21)))
TAB_AND_NEWLINE = dict.fromkeys(map(ord, "\t\n\r"))
MAX_NEXT_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """The address as a browser reads it, if that is a path on this site; otherwise None."""
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    url = target.strip(C0_AND_SPACE).translate(TAB_AND_NEWLINE).replace("\\", "/")
    if url.startswith("/") and not url.startswith("//") and url.isprintable():
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc:
            return url
    return None
