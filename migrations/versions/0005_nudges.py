"""nudges outbox, delivery profiles, team channels, scheduler job runs

Revision ID: 0005_nudges
Revises: 0004_policies
Create Date: 2026-11-22 20:14:06.563660

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0005_nudges'
down_revision = '0004_policies'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pass_watermarks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('reached', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_pass_watermarks'))
    )
    op.create_table('scheduler_jobs',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('last_started_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_duration_ms', sa.Integer(), nullable=True),
    sa.Column('last_result', sa.String(length=500), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_error_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_run_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_runner', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_scheduler_jobs'))
    )
    op.create_table('team_channels',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('teams_webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('teams_webhook_broken_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('teams_webhook_error', sa.String(length=300), nullable=False),
    sa.Column('slack_digest_channel', sa.String(length=32), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_channels_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_team_channels'))
    )
    op.create_table('delivery_profiles',
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('daily_digest', sa.Boolean(), nullable=False),
    sa.Column('teams_webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('teams_webhook_broken_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('teams_webhook_error', sa.String(length=300), nullable=False),
    sa.Column('slack_not_found_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('slack_dm_channel', sa.String(length=32), nullable=True),
    sa.Column('calendar_token', sa.String(length=64), nullable=True),
    sa.Column('calendar_token_created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_delivery_profiles_employee_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('employee_id', name=op.f('pk_delivery_profiles')),
    sa.UniqueConstraint('calendar_token', name=op.f('uq_delivery_profiles_calendar_token'))
    )
    op.create_table('channel_states',
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('paused_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pause_reason', sa.String(length=300), nullable=False),
    sa.Column('resumed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resumed_by_id'], ['users.id'], name=op.f('fk_channel_states_resumed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_states'))
    )
    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('reminder', 'escalation', 'policy_escalation', 'confirmation', 'survey_invitation', 'survey_reminder', 'team_digest', 'notice', name='nudgekind', native_enum=False, length=24), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('slack', 'teams', 'email', 'in_app', name='deliverychannel', native_enum=False, length=10), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'unknown', 'dead', 'expired', 'cancelled', 'dismissed', name='nudgestatus', native_enum=False, length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('next_attempt_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_started_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('external_ref', sa.String(length=120), nullable=True),
    sa.Column('bundled', sa.Boolean(), nullable=False),
    sa.Column('sent_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('read_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['employees.id'], name=op.f('fk_nudges_recipient_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_nudges_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_nudges_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_nudges_touchpoint_id_touchpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_nudges_dedup_key'))
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index('ix_nudges_recipient_created', ['recipient_id', 'created_at'], unique=False)
        batch_op.create_index('ix_nudges_sending_lease', ['lease_until'], unique=False, sqlite_where=sa.text("status = 'sending'"), postgresql_where=sa.text("status = 'sending'"))
        batch_op.create_index('ix_nudges_status_next_attempt', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_nudges_touchpoint', ['touchpoint_id'], unique=False)



def downgrade():
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index('ix_nudges_touchpoint')
        batch_op.drop_index('ix_nudges_status_next_attempt')
        batch_op.drop_index('ix_nudges_sending_lease', sqlite_where=sa.text("status = 'sending'"), postgresql_where=sa.text("status = 'sending'"))
        batch_op.drop_index('ix_nudges_recipient_created')

    op.drop_table('nudges')
    op.drop_table('channel_states')
    op.drop_table('delivery_profiles')
    op.drop_table('team_channels')
    op.drop_table('scheduler_jobs')
    op.drop_table('pass_watermarks')
