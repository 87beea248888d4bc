"""What parents search, many times over: a varied mix of distinct searches, and ten times the data.

`searches()` draws thousands of distinct searches from a registry loaded with DUO's national
file (words of school names and their first letters, municipalities with and without a
denomination, places, postcodes sorted by distance), each with Datasette's nearest
equivalent on the same rows. `multiply()` copies every open location N-1 times with new
vestigingscodes, for the ten-times-national run.
"""

import random

from sqlalchemy import func, insert, select

from registry.db import db
from registry.models import Municipality, PupilCount, School
from registry.text import fold


def searches(count: int, seed: int = 2203) -> list[tuple[str, str]]:
    """(registry query string, Datasette query string) pairs, all distinct."""
    rng = random.Random(seed)  # noqa: S311 (a repeatable draw, not a secret)
    rows = db.session.execute(
        select(
            School.name,
            func.lower(School.place),
            School.place,
            School.postcode,
            School.denomination,
            Municipality.slug,
            Municipality.cbs_code,
        )
        .join(School.municipality)
        .where(School.is_open)
    ).all()
    words = sorted({w for r in rows for w in fold(r[0]).split() if len(w) >= 4})
    drawn: dict[str, str] = {}
    kinds = ["word"] * 7 + ["prefix"] * 3 + ["municipality"] * 4 + ["place"] * 3 + ["near"] * 3
    while len(drawn) < count:
        _name, place, raw_place, postcode, denomination, slug, cbs_code = rng.choice(rows)
        kind = rng.choice(kinds)
        if kind == "word":
            word = rng.choice(words)
            ours, theirs = f"q={word}", f"_search={word}"
        elif kind == "prefix":
            word = rng.choice(words)[: rng.randint(3, 5)]
            ours, theirs = f"q={word}", f"_search={word}*"
        elif kind == "municipality":
            number = cbs_code.removeprefix("GM")
            ours, theirs = f"gemeente={slug}", f"gemeentenummer={number}"
            if denomination and rng.random() < 0.5:
                ours += f"&richting={denomination}"
                theirs += f"&denominatie={denomination}"
        elif kind == "place" and place:
            ours, theirs = f"plaats={place}", f"plaatsnaam={raw_place}"
        elif kind == "near" and postcode:
            compact = postcode.replace(" ", "")
            ours, theirs = f"postcode={compact}&sort=afstand", f"postcode={postcode}"
        else:
            continue
        drawn.setdefault(ours.replace(" ", "+"), theirs.replace(" ", "+"))
    return list(drawn.items())


def multiply(times: int) -> int:
    """Copy every open location times-1 times with new vestigingscodes (and its pupil
    counts); returns the number of locations after."""
    columns = [
        c.key
        for c in School.__table__.columns
        if c.key not in ("id", "vestigingscode", "brin", "search_text", "created_at", "updated_at")
    ]
    originals = db.session.execute(
        select(School.id, School.vestigingscode, *[School.__table__.c[c] for c in columns]).where(
            School.is_open
        )
    ).all()
    counts = {}
    for school_id, reference, pupils in db.session.execute(
        select(PupilCount.school_id, PupilCount.reference_date, PupilCount.pupils)
    ):
        counts.setdefault(school_id, []).append((reference, pupils))
    taken = set(db.session.scalars(select(School.vestigingscode)))
    codes = (
        f"{n % 100:02d}{chr(65 + n // 100 % 26)}{chr(65 + n // 2600 % 26)}{n // 67600 % 100:02d}"
        for n in range(10**7)
    )
    texts = dict(db.session.execute(select(School.id, School.search_text)).all())
    copies, pupils = [], []
    for _copy in range(times - 1):
        for school_id, old_code, *values in originals:
            code = next(c for c in codes if c not in taken)
            taken.add(code)
            # The same words, the new code first (as search_text() writes it).
            text = f" {code.lower()}" + texts[school_id][len(f" {old_code.lower()}") :]
            row = dict(zip(columns, values, strict=True))
            copies.append({**row, "vestigingscode": code, "brin": code[:4], "search_text": text})
            pupils += [(code, r, p) for r, p in counts.get(school_id, ())]
    db.session.execute(insert(School), copies)
    ids = dict(db.session.execute(select(School.vestigingscode, School.id)).all())
    db.session.execute(
        insert(PupilCount),
        [{"school_id": ids[c], "reference_date": r, "pupils": p} for c, r, p in pupils],
    )
    db.session.commit()
    return db.session.scalar(select(func.count(School.id)).where(School.is_open))
