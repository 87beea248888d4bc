"""DUO files uploaded in the admin, kept under their checksum from the upload to the apply.

The preview, its downloads and the apply step all read the very file the coordinator chose.
A file is deleted once it is applied, and one never applied is deleted at the first upload
after DUO_UPLOAD_DAYS days (default 2): every file ever compared was kept before (8 uploads
took 248 kB to 14.8 MB).
"""

import os
import re
import shutil
import time
from pathlib import Path

from flask import current_app

from .files import DuoFile

CHECKSUM_RE = re.compile(r"[0-9a-f]{64}")
DAY = 24 * 3600


def _folder() -> Path:
    return Path(current_app.instance_path) / "duo_uploads"


def keep(data: bytes, duo: DuoFile) -> None:
    """Keep an uploaded file; uploading a kept file again starts its days again."""
    folder = _folder() / duo.checksum
    folder.mkdir(parents=True, exist_ok=True)
    (folder / duo.name).write_bytes(data)
    os.utime(folder)


def kept(checksum: str) -> tuple[bytes, str] | None:
    """The file kept under this checksum, as (data, name); None once it is applied or swept."""
    try:
        found = sorted((_folder() / checksum).glob("*"))
        return (found[0].read_bytes(), found[0].name) if found else None
    except FileNotFoundError:  # deleted by another request between listing and reading
        return None


def discard(checksums) -> None:
    """Delete the files of an applied comparison (call it after the transaction committed)."""
    for checksum in checksums:
        _delete(_folder() / checksum)


def sweep() -> None:
    """Delete the files uploaded more than DUO_UPLOAD_DAYS days ago and never applied."""
    oldest = time.time() - current_app.config["DUO_UPLOAD_DAYS"] * DAY
    folders = _folder().iterdir() if _folder().is_dir() else ()
    for folder in folders:
        try:
            abandoned = folder.stat().st_mtime < oldest
        except FileNotFoundError:
            continue
        if abandoned and CHECKSUM_RE.fullmatch(folder.name):
            _delete(folder)


def _delete(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass  # another request deleted it first
    except OSError:
        # An upload that cannot be deleted now is swept at a later upload; no reason to fail
        # the apply or the upload that asked.
        current_app.logger.warning("DUO upload %s could not be deleted", folder, exc_info=True)
