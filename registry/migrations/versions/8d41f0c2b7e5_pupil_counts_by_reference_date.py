"""pupil counts by reference date

The newest reference date (max) is asked on every change of the data by each worker's search
index and in every query of the pupils on a date; without an index it read every pupil count
(19 ms at ten times the national data, twice per change and worker).

Revision ID: 8d41f0c2b7e5
Revises: 3c5e2a9f7d10
Create Date: 2026-12-07 16:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "8d41f0c2b7e5"
down_revision = "3c5e2a9f7d10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_pupil_count_reference_date", "pupil_count", ["reference_date"])


def downgrade():
    op.drop_index("ix_pupil_count_reference_date", table_name="pupil_count")
