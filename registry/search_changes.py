"""What changed since a worker's search index was built, so that a change costs no rebuild.

A full build takes seconds at ten times the national data, and while it ran SQL answered, a
hundred times slower. Instead the index keeps answering for the schools that did not change,
and the few that did (edited, new, closed, deleted, or named differently through their board,
municipality or network) are read into a small index of their own; search.py adds the two.

Which schools changed is read from the database itself, not from events in this worker: every
change to a school, its support or its pupil counts raises School.version (history.py), so a
school whose version differs from the one the index read, or that is new or no longer open,
has changed, whoever changed it, in any worker or on any server. Exact without a snapshot:
each statement sees the data at least as new as the one before, and a school that changed
between them has another version than the one read first.
"""

from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy import func, select

from .models import Board, Municipality, Network, PupilCount, School, SupportArea

# The filters whose labels live in a table of their own: a rename there changes no school.
LABELS = {
    "gemeente": (Municipality.slug, Municipality.name),
    "bestuur": (Board.board_number, Board.label),
    "netwerk": (Network.slug, Network.name),
}


@dataclass(frozen=True)
class Delta:
    """The index's rows still true (None: all of them), and the other open schools as they
    are now, in an index of their own (None: there are none)."""

    live: np.ndarray | None
    changed: object | None  # a SchoolIndex

    @property
    def size(self) -> int:
        return 0 if self.changed is None else self.changed.size

    @property
    def stale(self) -> int:
        """The index's rows that no longer answer for their school."""
        return 0 if self.live is None else int((~self.live).sum())


def changes_since(index, connection, limit: int) -> Delta | None:
    """The index's changes as a Delta, or None when more than `limit` schools changed or what
    every school is measured by did (the support areas, the newest pupil count): then a new
    build is due."""
    if not _same_frame(index, connection):
        return None
    rows = connection.execute(select(School.id, School.version).where(School.is_open)).all()
    # From plain numbers: numpy reading Row objects as sequences took a second nationally.
    found = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=2 * len(rows))
    found = found.reshape(-1, 2)
    live = _unchanged(index, found[:, 0], found[:, 1]) & ~_relabelled(index, connection)
    changed = np.setdiff1d(found[:, 0], index.ids[live], assume_unique=True)
    if len(changed) > limit:
        return None
    return Delta(
        live=None if live.all() else live,
        changed=type(index).build(connection, only=changed.tolist()) if len(changed) else None,
    )


def _same_frame(index, connection) -> bool:
    areas = connection.execute(
        select(SupportArea.code, SupportArea.name, SupportArea.name_en).order_by(
            SupportArea.position
        )
    ).all()
    latest = connection.scalar(select(func.max(PupilCount.reference_date)))
    return [tuple(area) for area in areas] == index.areas and latest == index.latest


def _unchanged(index, ids: np.ndarray, versions: np.ndarray) -> np.ndarray:
    """Per index row: is its school still open, at the version the index read?"""
    live = np.zeros(index.size, dtype=bool)
    if not index.size or not len(ids):
        return live
    order = index.id_order
    at = np.minimum(np.searchsorted(index.ids[order], ids), index.size - 1)
    rows = order[at]
    same = (index.ids[rows] == ids) & (index.versions[rows] == versions)
    live[rows[same]] = True
    return live


def _relabelled(index, connection) -> np.ndarray:
    """Per index row: is its municipality, board or network named otherwise now?"""
    stale = np.zeros(index.size, dtype=bool)
    for facet, (value, label) in LABELS.items():
        now = dict(connection.execute(select(value, label)).all())
        named = index.values[facet]
        renamed = [
            code
            for code, (v, was) in enumerate(zip(named.values, named.labels, strict=True))
            if now.get(v) != was
        ]
        if renamed:
            stale |= np.isin(index.codes[facet], renamed)
    return stale
