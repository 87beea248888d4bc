"""the words parents use for support, pointing at the support areas

Revision ID: 5b1c0e7a9d42
Revises: e3e5cbfbbd29
Create Date: 2026-12-07 10:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1c0e7a9d42'
down_revision = 'e3e5cbfbbd29'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('parent_word',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(length=60), nullable=False),
    sa.Column('support_area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['support_area_id'], ['support_area.id'], name=op.f('fk_parent_word_support_area_id_support_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_word')),
    sa.UniqueConstraint('word', name=op.f('uq_parent_word_word'))
    )
    with op.batch_alter_table('parent_word', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parent_word_support_area_id'), ['support_area_id'], unique=False)


def downgrade():
    with op.batch_alter_table('parent_word', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parent_word_support_area_id'))

    op.drop_table('parent_word')
