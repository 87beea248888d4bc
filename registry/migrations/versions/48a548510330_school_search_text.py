"""school search text

Revision ID: 48a548510330
Revises: f743e8433fb8
Create Date: 2026-11-29 16:14:58.459564

"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '48a548510330'
down_revision = 'f743e8433fb8'
branch_labels = None
depends_on = None


def _fold(text):
    """Frozen copy of registry.text.fold as it was when this migration was written."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).split())


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))

    # Fill the new column for schools that already exist, as the app's flush hook would.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT s.id, s.vestigingscode, s.name, s.street, s.place, s.postcode,"
        " b.name, b.other_names, m.name"
        " FROM school s JOIN board b ON b.id = s.board_id"
        " JOIN municipality m ON m.id = s.municipality_id"
    )).all()
    for school_id, code, name, street, place, postcode, board, other_names, municipality in rows:
        parts = [code, name, street, place, postcode or "", (postcode or "").replace(" ", ""),
                 board, other_names, municipality]
        search_text = " " + _fold(" ".join(p for p in parts if p))
        connection.execute(
            sa.text("UPDATE school SET search_text = :text WHERE id = :id"),
            {"text": search_text, "id": school_id},
        )


def downgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.drop_column('search_text')
