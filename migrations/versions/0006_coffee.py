"""coffee pairing: opt-ins, pairing rounds, pairs

Revision ID: 0006_coffee
Revises: 0005_nudges
Create Date: 2026-11-22 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0006_coffee'
down_revision = '0005_nudges'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coffee_programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('round_weekday', sa.Integer(), nullable=False),
    sa.Column('repeat_window_days', sa.Integer(), nullable=False),
    sa.Column('min_overlap_minutes', sa.Integer(), nullable=False),
    sa.Column('frequencies', sa.String(length=20), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_coffee_programmes_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coffee_programmes'))
    )
    op.create_table('coffee_participants',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('frequency_weeks', sa.Integer(), nullable=False),
    sa.Column('paused_until', sa.Date(), nullable=True),
    sa.Column('next_due_on', sa.Date(), nullable=True),
    sa.Column('joined_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('left_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_coffee_participants_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_coffee_participants'))
    )
    with op.batch_alter_table('coffee_participants', schema=None) as batch_op:
        batch_op.create_index('ix_coffee_participants_active_due', ['active', 'next_due_on'], unique=False)
    op.create_table('coffee_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_on', sa.Date(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('repeat_window_days', sa.Integer(), nullable=False),
    sa.Column('min_overlap_minutes', sa.Integer(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('trios', sa.Integer(), nullable=False),
    sa.Column('unpaired', sa.Integer(), nullable=False),
    sa.Column('cross_team_groups', sa.Integer(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_coffee_rounds_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coffee_rounds')),
    sa.UniqueConstraint('round_on', name=op.f('uq_coffee_rounds_round_on'))
    )
    op.create_table('coffee_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('cross_team', sa.Boolean(), nullable=False),
    sa.Column('overlap_start', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overlap_end', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['coffee_rounds.id'], name=op.f('fk_coffee_matches_round_id_coffee_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coffee_matches')),
    sa.UniqueConstraint('round_id', 'position', name='uq_coffee_matches_round_position')
    )
    op.create_table('coffee_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_coffee_members_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['coffee_matches.id'], name=op.f('fk_coffee_members_match_id_coffee_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['coffee_rounds.id'], name=op.f('fk_coffee_members_round_id_coffee_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_coffee_members_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_coffee_members_touchpoint_id_touchpoints'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coffee_members')),
    sa.UniqueConstraint('round_id', 'employee_id', name='uq_coffee_members_round_employee')
    )
    with op.batch_alter_table('coffee_members', schema=None) as batch_op:
        batch_op.create_index('ix_coffee_members_employee', ['employee_id'], unique=False)
        batch_op.create_index('ix_coffee_members_match', ['match_id'], unique=False)
    op.create_table('coffee_unpaired',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_coffee_unpaired_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['coffee_rounds.id'], name=op.f('fk_coffee_unpaired_round_id_coffee_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coffee_unpaired')),
    sa.UniqueConstraint('round_id', 'employee_id', name='uq_coffee_unpaired_round_employee')
    )



def downgrade():
    op.drop_table('coffee_unpaired')
    with op.batch_alter_table('coffee_members', schema=None) as batch_op:
        batch_op.drop_index('ix_coffee_members_match')
        batch_op.drop_index('ix_coffee_members_employee')

    op.drop_table('coffee_members')
    op.drop_table('coffee_matches')
    op.drop_table('coffee_rounds')
    with op.batch_alter_table('coffee_participants', schema=None) as batch_op:
        batch_op.drop_index('ix_coffee_participants_active_due')

    op.drop_table('coffee_participants')
    op.drop_table('coffee_programmes')
