"""Special education in plain words: which children a special school is for, as DUO's file 09
says it.

DUO writes it in two columns the registry keeps as given (School.special_education and
School.cluster): `ONDERWIJS`, parts joined by " + ", each a level (SO, VSO; "RP-" before it for
pupils placed there while they live in an institution) and the kinds of special education of the
Wet op de expertisecentra (art. 2) in DUO's abbreviations ("SO ZMLK + VSO ZMLK + RP-SO ZMLK"),
and `CLUSTER` ("3", "3/4"). ABBREVIATIONS holds every abbreviation of the national file of 2025
(and MLK, LZ, MG and EMB, which parents meet elsewhere); one DUO adds later is shown as DUO
writes it.
"""

import re
from dataclasses import dataclass

from .i18n import lazy_gettext as _l

# DUO's abbreviation -> (stable code, plain words). The four kinds of MG ("meervoudig
# gehandicapt": A and B in cluster 2, F in cluster 3, DV in cluster 1) read the same to a
# parent, so they share one code; the cluster says which.
ABBREVIATIONS = {
    "ZMLK": ("zmlk", _l("kinderen die zeer moeilijk leren")),
    "MLK": ("mlk", _l("kinderen die moeilijk leren")),
    "LG": ("lg", _l("kinderen met een lichamelijke beperking")),
    "LZ": ("lz", _l("langdurig zieke kinderen")),
    "LZ/S": ("lz-s", _l("kinderen met een langdurige lichamelijke ziekte")),
    "LZ/P": ("lz-p", _l("kinderen met langdurige psychiatrische problemen")),
    "ZMOK": ("zmok", _l("kinderen met ernstige gedragsproblemen")),
    "PI": ("pi", _l("kinderen in de school van een pedologisch instituut")),
    "EMB": ("emb", _l("kinderen met ernstige meervoudige beperkingen")),
    "MG": ("mg", _l("kinderen met meervoudige beperkingen")),
    "MGA": ("mg", _l("kinderen met meervoudige beperkingen")),
    "MGB": ("mg", _l("kinderen met meervoudige beperkingen")),
    "MGF": ("mg", _l("kinderen met meervoudige beperkingen")),
    "MGDV": ("mg", _l("kinderen met meervoudige beperkingen")),
    "VGK": ("vgk", _l("kinderen die blind of slechtziend zijn")),
    "DOVN": ("dovn", _l("dove kinderen")),
    "SH": ("sh", _l("slechthorende kinderen")),
    "ESM": ("esm", _l("kinderen met ernstige spraak- of taalproblemen")),
    "DOBLN": ("dobln", _l("doofblinde kinderen")),
}
CLUSTERS = {
    "1": _l("cluster 1: kinderen die blind of slechtziend zijn"),
    "2": _l(
        "cluster 2: kinderen die doof of slechthorend zijn of ernstige spraak- of taalproblemen"
        " hebben"
    ),
    "3": _l(
        "cluster 3: kinderen met een verstandelijke of lichamelijke beperking of een langdurige"
        " lichamelijke ziekte"
    ),
    "4": _l("cluster 4: kinderen met ernstige gedrags- of psychiatrische problemen"),
}
# "RP-SO": pupils placed at the school while they live in an institution (residentieel).
RESIDENTIAL_KIND = ("residentieel", _l("ook voor kinderen die in een instelling wonen (RP)"))
# File 09 writes "SBAO" for speciaal basisonderwijs: the school's type says that already.
SPECIAL_PRIMARY = "SBAO"
# One part of ONDERWIJS: residential or not, the level, the kinds ("RP-SO LZ/P,ZMOK").
PART = re.compile(r"^(RP-)?(SO|VSO) ([A-Z/]+(?:,[A-Z/]+)*)$")


@dataclass(frozen=True)
class Kind:
    """One kind of special education a school gives: a stable code and its label, the same
    for every school (a filter's option), and where it applies to part of the school only, a
    note ("alleen SO"). Shown as the label and the note."""

    code: str
    label: str
    note: str | None = None

    def __str__(self) -> str:
        return f"{self.label}, {self.note}" if self.note else self.label


def describe(special_education: str | None, cluster: str | None) -> list[Kind]:
    """DUO's two columns as the kinds parents read, in DUO's order: the kinds of children,
    then pupils living in an institution, then the clusters. A part or cluster the tables do
    not know is shown as DUO writes it."""
    kinds: dict[str, Kind] = {}
    levels: dict[str, set[str]] = {}  # code -> the levels (SO, VSO) it is given at
    residential_only: dict[str, bool] = {}
    given = set()
    residential = False
    for part in filter(None, (p.strip() for p in (special_education or "").split("+"))):
        if part == SPECIAL_PRIMARY:
            continue
        match = PART.match(part)
        if not match:
            kinds.setdefault(_code(part), Kind(_code(part), part))
            continue
        placed, level, abbreviations = match.groups()
        residential |= bool(placed)
        if not placed:
            given.add(level)
        for abbreviation in abbreviations.split(","):
            code, words = ABBREVIATIONS.get(abbreviation, (_code(abbreviation), None))
            if code not in kinds:
                label = f"{words} ({_short(abbreviation)})" if words else abbreviation
                kinds[code] = Kind(code, label)
                residential_only[code] = True
            if not placed:
                levels.setdefault(code, set()).add(level)
                residential_only[code] = False
    described = [_qualified(kind, levels, residential_only, given) for kind in kinds.values()]
    if residential:
        described.append(Kind(RESIDENTIAL_KIND[0], str(RESIDENTIAL_KIND[1])))
    for number in filter(None, (c.strip() for c in (cluster or "").split("/"))):
        label = CLUSTERS.get(number)
        described.append(
            Kind(f"cluster-{number}", str(label) if label else str(_l("cluster %(n)s", n=number)))
        )
    return described


def special_kinds(school) -> list[Kind]:
    """The kinds of special education a school gives, for its page and the directory's
    filters (codes are stable: 'zmlk', 'lz-p', 'mg', 'residentieel', 'cluster-3')."""
    return describe(school.special_education, school.cluster)


def _qualified(kind: Kind, levels: dict, residential_only: dict, given: set) -> Kind:
    """Where a kind is given at one level of the two a school has ('alleen SO'), or only to
    pupils who live in an institution."""
    if residential_only.get(kind.code):
        return Kind(kind.code, kind.label, str(_l("alleen als zij in een instelling wonen")))
    at = levels.get(kind.code, set())
    if len(given) > 1 and len(at) == 1:
        return Kind(kind.code, kind.label, str(_l("alleen %(level)s", level=next(iter(at)))))
    return kind


def _short(abbreviation: str) -> str:
    """The four kinds of MG are one to parents: shown as MG."""
    return "MG" if abbreviation.startswith("MG") else abbreviation


def _code(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
