"""correction requests

Revision ID: 80010d25fa7d
Revises: 48a548510330
Create Date: 2026-11-29 16:30:10.635731

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '80010d25fa7d'
down_revision = '48a548510330'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('correction_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=50), nullable=False),
    sa.Column('proposed_value', sa.Text(), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('open', 'accepted', 'rejected', name='correction_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_correction_request_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_request'))
    )
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_request_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_correction_request_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('correction_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_request_status'))
        batch_op.drop_index(batch_op.f('ix_correction_request_school_id'))

    op.drop_table('correction_request')
