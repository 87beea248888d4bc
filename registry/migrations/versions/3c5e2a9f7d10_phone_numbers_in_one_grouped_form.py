"""phone numbers in one grouped form

Revision ID: 3c5e2a9f7d10
Revises: 0070e47c8f64
Create Date: 2026-12-07 12:30:00.000000

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c5e2a9f7d10"
down_revision = "0070e47c8f64"
branch_labels = None
depends_on = None

# Every column that holds a phone number (validation.RULES: phone, contact_phone).
PHONE_COLUMNS = (
    ("school", "phone"),
    ("board", "phone"),
    ("partnership", "phone"),
    ("network", "contact_phone"),
)
SEPARATORS = re.compile(r"[\s\-().]")


def upgrade():
    """Numbers stored as DUO wrote them ('0522252124') or as people typed them ('0522
    252126') take the grouped form the app now stores ('0522 25 21 24'); only the spacing
    changes, and a number that cannot be grouped stays as it is."""
    # The grouping itself is a pure function of the digits, kept in one place.
    from registry.phones import grouped_phone

    connection = op.get_bind()
    for table_name, column_name in PHONE_COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column_name))
        column = table.c[column_name]
        rows = connection.execute(sa.select(table.c.id, column).where(column.is_not(None)))
        for record_id, stored in rows.all():
            grouped = grouped_phone(SEPARATORS.sub("", stored))
            if grouped != SEPARATORS.sub("", stored) and grouped != stored:
                connection.execute(
                    sa.update(table).where(table.c.id == record_id).values({column_name: grouped})
                )


def downgrade():
    """Nothing to undo: the grouped form is a valid number for every earlier version."""
