"""ivr: calls through the menu, emergency notices

Revision ID: 0400_ivr
Revises: 0001_foundation
Branch: ivr
"""
from alembic import op
import sqlalchemy as sa
import foundation.db


revision = '0400_ivr'
down_revision = '0001_foundation'
branch_labels = ('ivr',)
depends_on = None


def upgrade() -> None:
    op.create_table('ivr_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uniqueid', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('caller_number', sa.String(length=64), nullable=True),
    sa.Column('started_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('option', sa.String(length=16), nullable=True),
    sa.Column('ivr_path', sa.String(length=255), nullable=False),
    sa.Column('ticket_number', sa.String(length=32), nullable=True),
    sa.Column('lookups', sa.Integer(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_calls')),
    sa.UniqueConstraint('uniqueid', name=op.f('uq_ivr_calls_uniqueid'))
    )
    op.create_index('ix_ivr_calls_started', 'ivr_calls', ['started_at'], unique=False)
    op.create_table('ivr_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_notices'))
    )


def downgrade() -> None:
    op.drop_table('ivr_notices')
    op.drop_index('ix_ivr_calls_started', table_name='ivr_calls')
    op.drop_table('ivr_calls')
