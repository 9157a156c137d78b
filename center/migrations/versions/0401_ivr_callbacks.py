"""ivr: callback requests (virtual hold)

Revision ID: 0401_ivr_callbacks
Revises: 0400_ivr
"""
from alembic import op
import sqlalchemy as sa
import foundation.db


revision = '0401_ivr_callbacks'
down_revision = '0400_ivr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ivr_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('original_uniqueid', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('dial', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('arrival_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('due_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('originated_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('placeholder_uniqueid', sa.String(length=64), nullable=True),
    sa.Column('placeholder_channel', sa.String(length=128), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('calling_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_callbacks')),
    sa.UniqueConstraint('original_uniqueid', name=op.f('uq_ivr_callbacks_original_uniqueid'))
    )
    op.create_index('ix_ivr_callbacks_state_due', 'ivr_callbacks', ['state', 'due_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_ivr_callbacks_state_due', table_name='ivr_callbacks')
    op.drop_table('ivr_callbacks')
