"""The OpenAPI 3 document of /api/v1, kept beside the API and checked by schemathesis."""

from flask import current_app, url_for
from sqlalchemy import select

from . import fields
from .db import db
from .filters import FILTERS, LEVEL_PARAMETER, LEVELS
from .groupings import GROUPINGS
from .models import Board, School
from .search import MAX_PAGE, MAX_TEXT, MAX_VALUE, SORTS, known_values, reference_dates

# Text without control characters (the API refuses those with a 400).
PLAIN_TEXT = "^[^\\u0000-\\u001f\\ufffd]*$"
# Empty is allowed, as for every parameter: it means "not given" (an HTML form sends it so).
POSTCODE = "^([1-9][0-9]{3} ?([A-Za-z]{2})?)?$"


def _one_of(values) -> dict:
    """A parameter's choices, and empty: not given (see POSTCODE)."""
    return {"enum": ["", *values]}


def _nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


# A school's fields and their schemas come from the one table of fields.
SCHOOL_FIELDS = {f.key: f.schema for f in fields.SCHOOL_FIELDS}


# Each kind of group's own fields in the API, in order; its schema is named after its model.
GROUP_FIELDS = {
    facet: {f.key: f.schema for f in group} for facet, group in fields.GROUP_FIELDS.items()
}
# What every group's item ends with (api._groups).
GROUP_TOTALS = {f.key: f.schema for f in fields.GROUP_TOTALS}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    """An object with these properties, all required unless a list says which (an empty list
    leaves `required` out: OpenAPI 3.0 forbids an empty one)."""
    required = list(properties) if required is None else required
    return {
        "type": "object",
        "properties": properties,
        **({"required": required} if required else {}),
        "additionalProperties": False,
    }


def _list_of(ref: str) -> dict:
    return _object(
        {
            "total": {"type": "integer", "minimum": 0},
            "items": {"type": "array", "items": {"$ref": ref}},
        }
    )


# The headers of the API's answers (api._open_and_revalidated), each declared once.
HEADERS = {
    "ETag": {
        "description": "Strong validator of this answer: send it back in If-None-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[^"]+"$'},
    },
    "Access-Control-Allow-Origin": {
        "description": "Any site may read the API.",
        "required": True,
        "schema": {"type": "string", "enum": ["*"]},
    },
    "Vary": {
        "description": "Messages and labels follow Accept-Language (and the lang cookie).",
        "schema": {"type": "string"},
    },
    "Allow": {
        "description": "The methods this URL answers; also sent with every 405.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Access-Control-Allow-Methods": {"required": True, "schema": {"type": "string"}},
    "Access-Control-Allow-Headers": {"required": True, "schema": {"type": "string"}},
    "Access-Control-Max-Age": {"required": True, "schema": {"type": "integer", "minimum": 0}},
}


def _headers(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _json(schema: dict, description: str) -> dict:
    return {
        "description": description,
        "headers": _headers("ETag", "Access-Control-Allow-Origin", "Vary"),
        "content": {"application/json": {"schema": schema}},
    }


ERROR = {"$ref": "#/components/responses/Error"}
NOT_MODIFIED = {"$ref": "#/components/responses/NotModified"}
RESPONSES = {
    "Error": {
        "description": "What is wrong, in one sentence, in the language asked for.",
        "headers": _headers("Access-Control-Allow-Origin", "Vary"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "NotModified": {
        "description": "Not modified: the copy whose ETag was sent in If-None-Match is current.",
        "headers": _headers("ETag", "Access-Control-Allow-Origin", "Vary"),
    },
    "Preflight": {
        "description": "CORS preflight: what another site's script may send.",
        "headers": _headers(
            "Allow",
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
        ),
    },
}
# What every answer may depend on besides the query: the language, and the copy a client holds.
HEADER_PARAMETERS = [
    {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "description": "Messages in English with 'en'; Dutch otherwise (also ?lang=).",
        "schema": {"type": "string"},
    },
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The ETag of the copy the client holds: a 304 when it is current.",
        "schema": {"type": "string"},
    },
]


def _text_parameter(name: str, description: str, many: bool = False, **schema) -> dict:
    item = {"type": "string", "maxLength": MAX_VALUE, "pattern": PLAIN_TEXT, **schema}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        **(
            {"schema": {"type": "array", "items": item}, "style": "form", "explode": True}
            if many
            else {"schema": item}
        ),
    }


def _language() -> dict:
    """?lang=: the language of messages and labels, remembered in a cookie (i18n.py)."""
    return {
        "name": "lang",
        "in": "query",
        "required": False,
        "description": "Language of messages and labels (Dutch by default).",
        "schema": {"type": "string", "enum": list(current_app.config["LANGUAGES"])},
    }


def _get(summary: str, response: dict, parameters=(), not_found: bool = False) -> dict:
    """A GET (with its 304 and errors) and the CORS preflight every API URL answers."""
    responses = {"200": response, "304": NOT_MODIFIED, "400": ERROR}
    if not_found:
        responses["404"] = ERROR
    in_path = [p for p in parameters if p["in"] == "path"]
    # A preflight is answered for any value in the path (api.py), so that the browser lets
    # the client read the real answer, a 404 for a code that is not one.
    any_value = [{**p, "schema": {"type": "string"}} for p in in_path]
    return {
        "get": {
            "summary": summary,
            "parameters": [*parameters, _language(), *HEADER_PARAMETERS],
            "responses": responses,
        },
        "options": {
            "summary": "CORS preflight",
            **({"parameters": any_value} if any_value else {}),
            "responses": {"204": {"$ref": "#/components/responses/Preflight"}},
        },
    }


def _path_parameter(name: str, pattern: str, column) -> dict:
    """A record's key in the path, with a record's as the example (the first, if any), so that
    a client generated from the document, or schemathesis, reaches a real one."""
    example = db.session.scalar(select(column).order_by(column).limit(1))
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
        **({"example": example} if example else {}),
    }


def _reference_date() -> dict:
    """?peildatum=: one of the dates DUO counted pupils on, as the registry holds them now."""
    counted = [d.isoformat() for d in reference_dates()]
    return {
        "name": "peildatum",
        "in": "query",
        "required": False,
        "description": "Pupils as DUO counted them on this date (the newest by default); the "
        "schools are those open today.",
        # Empty: the newest. With nothing counted yet, any date is refused.
        "schema": {"type": "string", **_one_of(counted)},
    }


def openapi_document() -> dict:
    reference_date = _reference_date()
    school_filters = [
        _text_parameter(
            "q",
            "Words that must all start a word of name, place, street, postcode, "
            "board or municipality (case and accents ignored).",
            maxLength=MAX_TEXT,
        ),
        _text_parameter(
            "postcode",
            "Sort by distance from this postcode (e.g. 7941 AB); empty is no postcode.",
            pattern=POSTCODE,
        ),
    ]
    for declared in FILTERS:
        # The values as the data stands (the API refuses any other).
        choices = _one_of(known_values(declared.name).labels)
        description = (
            f"{declared.description} Repeatable: any of the values. Other spellings (any case, "
            "with or without accents, official codes) are taken too; an unknown value is a 400 "
            "that names the nearest known one."
        )
        school_filters.append(_text_parameter(declared.name, description, True, **choices))
    school_filters += [
        {
            "name": LEVEL_PARAMETER,
            "in": "query",
            "required": False,
            "description": "The support level an 'ondersteuning' filter asks for: 'extra' (the "
            "default; basic support is what every school gives) or 'basis' (basic or extra).",
            "schema": {"type": "string", **_one_of(LEVELS)},
        },
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "description": "Order; 'afstand' (distance) from the postcode: without a postcode "
            "we can place, the list is by name (and distance_km is null).",
            "schema": {"type": "string", **_one_of(SORTS)},
        },
        {
            "name": "page",
            "in": "query",
            "required": False,
            "description": "A page past the last is a 404; page 1 always answers, even empty.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        },
        reference_date,
    ]
    school = dict(SCHOOL_FIELDS)
    detail = {
        **{k: v for k, v in school.items() if k != "distance_km"},
        "pupil_counts": {
            "type": "array",
            "items": _object(
                {
                    "reference_date": {"type": "string", "format": "date"},
                    "pupils": {"type": "integer", "minimum": 0},
                }
            ),
        },
        "support": {
            "type": "array",
            "items": _object(
                {
                    "area": {"type": "string"},
                    "name": {"type": "string"},
                    "level": {"type": "string", "enum": ["basis", "extra"]},
                }
            ),
        },
        "support_profile_url": _nullable("string"),
        "support_profile_adopted_on": _nullable("string", format="date"),
        "verified_on": _nullable("string", format="date"),
        "is_open": {"type": "boolean"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Register SWV PO 22.03",
            "version": "1.0.0",
            "description": "Read-only data of the schools, boards, municipalities and networks of "
            "Samenwerkingsverband Passend Onderwijs PO 22.03. Addresses and pupil counts: DUO "
            "(CC BY 4.0). Any site may read it (CORS); any method but GET, HEAD and OPTIONS is "
            "a 405 with an Allow header.",
        },
        "servers": [{"url": url_for("api.openapi", _external=True).rsplit("/openapi.json", 1)[0]}],
        "paths": {
            "/schools": _get(
                "Schools that match, 25 per page",
                _json({"$ref": "#/components/schemas/SchoolPage"}, "One page."),
                school_filters,
                True,
            ),
            "/schools/{code}": _get(
                "One school",
                _json({"$ref": "#/components/schemas/SchoolDetail"}, "The school."),
                [_path_parameter("code", "^[0-9]{2}[A-Z]{2}[0-9]{2}$", School.vestigingscode)],
                True,
            ),
            "/boards": _get(
                "All boards",
                _json(_list_of("#/components/schemas/Board"), "Boards."),
                [reference_date],
            ),
            "/boards/{number}": _get(
                "One board",
                _json({"$ref": "#/components/schemas/Board"}, "The board."),
                [_path_parameter("number", "^[0-9]{5}$", Board.board_number), reference_date],
                True,
            ),
            "/municipalities": _get(
                "The municipalities",
                _json(_list_of("#/components/schemas/Municipality"), "Municipalities."),
                [reference_date],
            ),
            "/networks": _get(
                "The networks",
                _json(_list_of("#/components/schemas/Network"), "Networks."),
                [reference_date],
            ),
            "/support-areas": _get(
                "The support areas",
                _json(_list_of("#/components/schemas/SupportArea"), "Support areas."),
            ),
        },
        "components": {
            "headers": HEADERS,
            "responses": RESPONSES,
            "schemas": {
                "Error": _object(
                    {
                        "error": _object(
                            {"status": {"type": "integer"}, "message": {"type": "string"}}
                        )
                    }
                ),
                "School": _object(school),
                "SchoolDetail": _object(detail),
                "SchoolPage": _object(
                    {
                        "total": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer"},
                        "pages": {"type": "integer", "minimum": 1},
                        "links": _object(
                            {"next": {"type": "string"}, "prev": {"type": "string"}}, []
                        ),
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/School"},
                        },
                    }
                ),
                **{
                    GROUPINGS[facet].model.__name__: _object({**fields, **GROUP_TOTALS})
                    for facet, fields in GROUP_FIELDS.items()
                },
                "SupportArea": _object(
                    {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "name_en": {"type": "string"},
                        "description": _nullable("string"),
                    }
                ),
            },
        },
    }
