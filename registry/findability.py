"""What search engines and browsers look for at a site's root: robots.txt, a sitemap of every
public page with the date its data last changed, the icon and the web app manifest.

The sitemap lists the open schools and the boards, municipalities and networks that have open
schools, on PUBLIC_URL (the one host the site answers to in production), each with `lastmod`:
the newest change of the record or of its schools, so a search engine comes back when a page
it holds has changed.
"""

from xml.sax.saxutils import escape

from flask import Blueprint, Flask, Response, current_app, send_from_directory, url_for
from sqlalchemy import func, select

from .db import db
from .i18n import gettext as _
from .models import Board, Municipality, Network, School, SchoolType
from .phones import grouped_phone
from .text import place_name, street_line
from .validation import link_href

bp = Blueprint("findability", __name__)

# The pages of lists and explanations, besides one page per record.
LIST_PAGES = (
    "directory.index",
    "directory.schools",
    "directory.boards",
    "directory.municipalities",
    "directory.networks",
    "overviews.index",
    "directory.about",
)
ICONS = "icons"


def _absolute(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        # The admin and the account pages are for staff; downloads repeat the pages' data.
        "Disallow: /admin/",
        "Disallow: /inloggen",
        "Disallow: /account",
        "Disallow: /wachtwoord",
        "Disallow: /tweede-factor/",
        "Disallow: /uitnodiging/",
        "Disallow: /wachtwoord-herstellen/",
        "Disallow: /*.csv$",
        "Disallow: /*.xlsx$",
        "Allow: /",
        f"Sitemap: {_absolute(url_for('.sitemap'))}",
        "",
    ]
    return Response("\n".join(lines), mimetype="text/plain")


def _records():
    """(path, lastmod) of every public record page: open schools, and the boards,
    municipalities and networks with open schools (their lastmod the newest of theirs)."""
    open_schools = select(School).where(School.is_open).subquery()
    for code, changed in db.session.execute(
        select(open_schools.c.vestigingscode, open_schools.c.updated_at).order_by(
            open_schools.c.vestigingscode
        )
    ):
        yield url_for("directory.school", code=code), changed
    groups = (
        (Board, Board.board_number, open_schools.c.board_id, "directory.board", "number"),
        (
            Municipality,
            Municipality.slug,
            open_schools.c.municipality_id,
            "directory.municipality",
            "slug",
        ),
        (Network, Network.slug, open_schools.c.network_id, "directory.network", "slug"),
    )
    for model, key, school_key, endpoint, argument in groups:
        newest = func.max(open_schools.c.updated_at)
        rows = db.session.execute(
            select(key, model.updated_at, newest)
            .join(open_schools, school_key == model.id)
            .group_by(key, model.updated_at)
            .order_by(key)
        )
        for value, own, schools in rows:
            yield url_for(endpoint, **{argument: value}), max(own, schools)


@bp.get("/sitemap.xml")
def sitemap():
    entries = [(url_for(endpoint), None) for endpoint in LIST_PAGES]
    entries += list(_records())
    body = ['<?xml version="1.0" encoding="UTF-8"?>']
    body.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for path, changed in entries:
        lastmod = f"<lastmod>{changed.date().isoformat()}</lastmod>" if changed else ""
        body.append(f"<url><loc>{escape(_absolute(path))}</loc>{lastmod}</url>")
    body.append("</urlset>")
    return Response("\n".join(body), mimetype="application/xml")


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, f"{ICONS}/favicon.ico", max_age=86400)


@bp.get("/manifest.webmanifest")
def manifest():
    """What a phone shows when a parent adds the directory to the home screen."""
    response = current_app.json.response(
        {
            "name": _("Scholen in SWV PO 22.03"),
            "short_name": _("Scholen SWV"),
            "lang": "nl",
            "start_url": url_for("directory.index"),
            "display": "browser",
            "background_color": "#ffffff",
            "theme_color": "#0b5394",
            "icons": [
                {
                    "src": url_for("static", filename=f"{ICONS}/icon-{size}.png"),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                }
                for size in (192, 512)
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response


# schema.org's type for each kind of school: primary schools and special primary schools are
# ElementarySchool; special education (SO, SO with VSO) a School.
SCHEMA_TYPES = {
    SchoolType.BAO: "ElementarySchool",
    SchoolType.SBO: "ElementarySchool",
    SchoolType.SO: "School",
    SchoolType.SO_VSO: "School",
}


def school_structured_data(school: School) -> dict:
    """The school page's facts as schema.org JSON-LD, only what the page shows: a search
    engine reads the same name, address, point, phone and board as a parent does."""
    page = _absolute(url_for("directory.school", code=school.vestigingscode))
    data = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES[school.school_type],
        "@id": page,
        "name": school.name,
        "identifier": school.vestigingscode,
        "url": link_href(school.website) or page,
        "mainEntityOfPage": page,
    }
    if school.street or school.postcode or school.place:
        address = {
            "@type": "PostalAddress",
            "streetAddress": street_line(school.street, school.house_number),
            "postalCode": school.postcode,
            "addressLocality": place_name(school.place) if school.place else None,
            "addressCountry": "NL",
        }
        data["address"] = {key: value for key, value in address.items() if value}
    if school.latitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": school.latitude,
            "longitude": school.longitude,
        }
    if school.phone:
        data["telephone"] = grouped_phone(school.phone)
    if school.email:
        data["email"] = school.email
    data["parentOrganization"] = {
        "@type": "Organization",
        "name": school.board.label,
        "identifier": school.board.board_number,
        "url": _absolute(url_for("directory.board", number=school.board.board_number)),
    }
    return data


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(school_structured_data)
