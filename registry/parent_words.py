"""The words parents use for the support they look for ("dyslexie", "adhd", "hoogbegaafd"),
each pointing at the support area that covers it. Kept as data coordinators edit in the admin
(models.ParentWord, seeded from seed_data/parent_words.csv). A search whose text holds such a
word offers the support filter: "Bedoelde u: scholen met extra ondersteuning bij Leren?", in
the page and the JSON, so typing what a parent would type never ends in a bare "nothing found".
"""

from dataclasses import dataclass

from sqlalchemy import select

from .cache import per_data_version
from .db import db
from .models import ParentWord, SupportArea
from .text import fold


@dataclass(frozen=True)
class SupportSuggestion:
    word: str  # the parent's word as it was typed
    area: str  # the support area's code (the filter's value)


def _words() -> dict[str, str]:
    rows = db.session.execute(
        select(ParentWord.word, SupportArea.code).join(ParentWord.support_area)
    )
    return {fold(word): code for word, code in rows}


def suggestions(text: str) -> list[SupportSuggestion]:
    """The support areas the parents' words in this text point at, in the text's order."""
    if not text:
        return []
    known = per_data_version("parent-words", _words)
    found, areas = [], set()
    folded = fold(text)
    for word in folded.split():
        area = known.get(word)
        if area and area not in areas:
            areas.add(area)
            found.append(SupportSuggestion(word, area))
    # Words of two parts ("sociaal emotioneel" typed for "sociaal-emotioneel").
    for phrase, area in known.items():
        if " " in phrase and phrase in folded and area not in areas:
            areas.add(area)
            found.append(SupportSuggestion(phrase, area))
    return found
