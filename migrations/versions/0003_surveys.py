"""surveys: versions and questions, rounds, invitations, participation, anonymous responses and
answers (no person, no time; WITHOUT ROWID on SQLite), result cells, connection alerts

Revision ID: 0003_surveys
Revises: 0002_journeys
Create Date: 2026-11-22 19:39:03.621383

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0003_surveys'
down_revision = '0002_journeys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('alert_below', sa.Double(), nullable=False),
    sa.Column('alert_drop', sa.Double(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('archived_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('key', name=op.f('uq_surveys_key'))
    )
    op.create_table('survey_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_versions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_versions')),
    sa.UniqueConstraint('survey_id', 'number', name='uq_survey_versions_survey_number')
    )
    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('agreement', 'enps', 'single_choice', 'short_text', name='questionkind', native_enum=False, length=20), nullable=False),
    sa.Column('prompt', sa.String(length=300), nullable=False),
    sa.Column('help_text', sa.String(length=300), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('audience', sa.Enum('everyone', 'new_hires', name='questionaudience', native_enum=False, length=20), nullable=False),
    sa.Column('counts_toward_connection', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['survey_versions.id'], name=op.f('fk_survey_questions_version_id_survey_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions')),
    sa.UniqueConstraint('version_id', 'key', name='uq_survey_questions_version_key')
    )
    op.create_table('survey_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'open', 'closed', 'cancelled', name='roundstatus', native_enum=False, length=12), nullable=False),
    sa.Column('opens_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('remind_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminders_sent_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('audience_kind', sa.Enum('everyone', 'teams', 'stages', 'milestone', name='audiencekind', native_enum=False, length=12), nullable=False),
    sa.Column('audience_team_ids', sa.JSON(), nullable=False),
    sa.Column('audience_stages', sa.JSON(), nullable=False),
    sa.Column('milestone_days', sa.Integer(), nullable=True),
    sa.Column('milestone_window_days', sa.Integer(), nullable=True),
    sa.Column('repeat_every_days', sa.Integer(), nullable=True),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('invited_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('results_built_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_survey_rounds_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_rounds_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['survey_versions.id'], name=op.f('fk_survey_rounds_version_id_survey_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_rounds')),
    sa.UniqueConstraint('survey_id', 'sequence', name='uq_survey_rounds_survey_sequence')
    )
    with op.batch_alter_table('survey_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_survey_rounds_status_closes', ['status', 'closes_at'], unique=False)
        batch_op.create_index('ix_survey_rounds_status_opens', ['status', 'opens_at'], unique=False)

    op.create_table('survey_connection_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('previous_score', sa.Double(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('hr_partner_id', sa.Integer(), nullable=True),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hr_partner_id'], ['employees.id'], name=op.f('fk_survey_connection_alerts_hr_partner_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_survey_connection_alerts_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_survey_connection_alerts_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_survey_connection_alerts_touchpoint_id_touchpoints'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_connection_alerts')),
    sa.UniqueConstraint('round_id', 'team_id', name='uq_survey_connection_alerts_round_team')
    )
    with op.batch_alter_table('survey_connection_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_survey_connection_alerts_created', ['created_at'], unique=False)

    op.create_table('survey_invitations',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('tenure_band', sa.String(length=12), nullable=True),
    sa.Column('new_hire', sa.Boolean(), nullable=False),
    sa.Column('invited_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_survey_invitations_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_survey_invitations_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_survey_invitations_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('round_id', 'employee_id', name=op.f('pk_survey_invitations'))
    )
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_survey_invitations_employee', ['employee_id'], unique=False)

    op.create_table('survey_participation',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_survey_participation_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_survey_participation_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'employee_id', name=op.f('pk_survey_participation')),
    sqlite_with_rowid=False
    )
    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('tenure_band', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_survey_responses_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_survey_responses_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_round', ['round_id'], unique=False)

    op.create_table('survey_result_cells',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=12), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('tenure', sa.String(length=12), nullable=False),
    sa.Column('pattern', sa.String(length=3), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('respondents', sa.Integer(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('connection_sum', sa.Integer(), nullable=False),
    sa.Column('connection_answers', sa.Integer(), nullable=False),
    sa.Column('enps_promoters', sa.Integer(), nullable=False),
    sa.Column('enps_passives', sa.Integer(), nullable=False),
    sa.Column('enps_detractors', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('refusal', sa.String(length=20), nullable=False),
    sa.Column('refusal_parent', sa.String(length=60), nullable=False),
    sa.Column('comment_refusal', sa.String(length=20), nullable=False),
    sa.Column('comment_refusal_parent', sa.String(length=60), nullable=False),
    sa.Column('question_refusals', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_survey_result_cells_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'team', 'stage', 'tenure', name=op.f('pk_survey_result_cells'))
    )
    with op.batch_alter_table('survey_result_cells', schema=None) as batch_op:
        batch_op.create_index('ix_survey_result_cells_round_pattern', ['round_id', 'pattern'], unique=False)

    op.create_table('survey_answers',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('choice', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_answers_question_id_survey_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'question_id', name=op.f('pk_survey_answers')),
    sqlite_with_rowid=False
    )


def downgrade():
    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_result_cells', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_result_cells_round_pattern')

    op.drop_table('survey_result_cells')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_round')

    op.drop_table('survey_responses')
    op.drop_table('survey_participation')
    with op.batch_alter_table('survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_invitations_employee')

    op.drop_table('survey_invitations')
    with op.batch_alter_table('survey_connection_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_connection_alerts_created')

    op.drop_table('survey_connection_alerts')
    with op.batch_alter_table('survey_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_rounds_status_opens')
        batch_op.drop_index('ix_survey_rounds_status_closes')

    op.drop_table('survey_rounds')
    op.drop_table('survey_questions')
    op.drop_table('survey_versions')
    op.drop_table('surveys')
