"""corrections handled with edits or without a change

Revision ID: a7d7ece0c86d
Revises: fd8aeee965a0
Create Date: 2026-11-30 13:13:37.938359

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d7ece0c86d'
down_revision = 'fd8aeee965a0'
branch_labels = None
depends_on = None

OLD = ('open', 'accepted', 'rejected')
NEW = ('open', 'accepted', 'unchanged', 'rejected')
CHECK = 'ck_correction_request_correction_status'


def _statuses(values):
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    # The status is a VARCHAR with a CHECK listing the values: both widen for "unchanged".
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_street', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('proposed_house_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('proposed_postcode', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('proposed_place', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('applied_value', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=8),
               type_=sa.VARCHAR(length=9),
               existing_nullable=False)
        batch_op.create_check_constraint(op.f(CHECK), _statuses(NEW))


def downgrade():
    # An older schema has no "unchanged": such a correction reads as rejected, its reason kept.
    op.execute("UPDATE correction_request SET status = 'rejected' WHERE status = 'unchanged'")
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.alter_column('status',
               existing_type=sa.VARCHAR(length=9),
               type_=sa.VARCHAR(length=8),
               existing_nullable=False)
        batch_op.create_check_constraint(op.f(CHECK), _statuses(OLD))
        batch_op.drop_column('applied_value')
        batch_op.drop_column('proposed_place')
        batch_op.drop_column('proposed_postcode')
        batch_op.drop_column('proposed_house_number')
        batch_op.drop_column('proposed_street')
