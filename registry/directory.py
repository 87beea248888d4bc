"""Public pages for parents (blueprint). The directory issue grows this into the search."""

from flask import Blueprint, render_template
from sqlalchemy import func, select

from .db import db
from .models import Municipality, School

bp = Blueprint("directory", __name__)


@bp.get("/")
def index():
    """Landing page: what passend onderwijs is, and the municipalities with their schools."""
    municipalities = db.session.execute(
        select(Municipality, func.count(School.id))
        .outerjoin(School, (School.municipality_id == Municipality.id) & School.is_open)
        .group_by(Municipality.id)
        .order_by(Municipality.name)
    ).all()
    return render_template("directory/index.html", municipalities=municipalities)
