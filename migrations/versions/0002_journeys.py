"""journeys: templates, enrolments, touchpoints, lifecycle events, buddies, one-on-one cadence

Revision ID: 0002_journeys
Revises: 0001_foundation
Create Date: 2026-11-22 19:28:53.166116

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0002_journeys'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('journey_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('stage', sa.Enum('onboarding', 'development', 'offboarding', 'other', name='journeystage', native_enum=False, length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'superseded', 'retired', name='journeystatus', native_enum=False, length=24), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('enrols_on', sa.Enum('hire', 'exit_date_set', name='enroltrigger', native_enum=False, length=24), nullable=True),
    sa.Column('previous_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retired_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_journey_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['previous_version_id'], ['journey_templates.id'], name=op.f('fk_journey_templates_previous_version_id_journey_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_templates')),
    sa.UniqueConstraint('key', 'version', name='uq_journey_templates_key_version')
    )
    with op.batch_alter_table('journey_templates', schema=None) as batch_op:
        batch_op.create_index('uq_journey_templates_active_key', ['key'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('lifecycle_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('hire', 'start', 'start_date_moved', 'manager_change', 'leave', 'return', 'exit_date_set', 'exit', 'rehire', name='lifecycleeventkind', native_enum=False, length=24), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_lifecycle_events_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_lifecycle_events_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_events'))
    )
    with op.batch_alter_table('lifecycle_events', schema=None) as batch_op:
        batch_op.create_index('ix_lifecycle_events_employee_on', ['employee_id', 'effective_on'], unique=False)

    op.create_table('support_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('buddy', 'mentor', name='supportkind', native_enum=False, length=10), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_support_assignments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_support_assignments_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['employees.id'], name=op.f('fk_support_assignments_partner_id_employees'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_assignments'))
    )
    with op.batch_alter_table('support_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_support_assignments_employee_kind', ['employee_id', 'kind'], unique=False)
        batch_op.create_index('ix_support_assignments_partner', ['partner_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('journey_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('active', 'completed', 'ended', name='enrolmentstatus', native_enum=False, length=24), nullable=False),
    sa.Column('enrolled_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('materialised_until', sa.Date(), nullable=True),
    sa.Column('ended_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_enrolments_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['users.id'], name=op.f('fk_enrolments_enrolled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['journey_id'], ['journey_templates.id'], name=op.f('fk_enrolments_journey_id_journey_templates'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_enrolments_employee_status', ['employee_id', 'status'], unique=False)
        batch_op.create_index('ix_enrolments_journey_status', ['journey_id', 'status'], unique=False)
        batch_op.create_index('uq_enrolments_active_employee_journey', ['employee_id', 'journey_key'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('touchpoint_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('welcome', 'buddy_intro', 'one_on_one', 'check_in', 'performance_review', 'growth_conversation', 'grievance_meeting', 'termination_meeting', 'training_module', 'live_discussion', 'coaching', 'mentoring', 'knowledge_handover', 'farewell', 'exit_interview', 'pulse_survey', 'team_meeting', 'town_hall', 'coffee_chat', 'return_to_work', 'other', name='touchpointkind', native_enum=False, length=24), nullable=False),
    sa.Column('planned_mode', sa.Enum('in_person', 'video', 'phone', 'chat', 'email', 'self_serve', name='mode', native_enum=False, length=24), nullable=False),
    sa.Column('owner_role', sa.Enum('manager', 'hr_partner', 'buddy', 'mentor', 'employee', name='ownerrole', native_enum=False, length=24), nullable=False),
    sa.Column('anchor', sa.Enum('hire_date', 'start_date', 'enrolment', 'exit_date', name='anchor', native_enum=False, length=24), nullable=False),
    sa.Column('offset_amount', sa.Integer(), nullable=False),
    sa.Column('offset_unit', sa.Enum('calendar_days', 'working_days', name='offsetunit', native_enum=False, length=24), nullable=False),
    sa.Column('time_of_day', sa.Time(), nullable=False),
    sa.Column('rrule', sa.String(length=255), nullable=True),
    sa.Column('follows_cadence', sa.Boolean(), nullable=False),
    sa.Column('series_length', sa.Integer(), nullable=True),
    sa.Column('until_anchor', sa.Enum('hire_date', 'start_date', 'enrolment', 'exit_date', name='anchor', native_enum=False, length=24), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journey_templates.id'], name=op.f('fk_touchpoint_templates_journey_id_journey_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_touchpoint_templates')),
    sa.UniqueConstraint('journey_id', 'key', name='uq_touchpoint_templates_journey_key')
    )
    op.create_table('touchpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('welcome', 'buddy_intro', 'one_on_one', 'check_in', 'performance_review', 'growth_conversation', 'grievance_meeting', 'termination_meeting', 'training_module', 'live_discussion', 'coaching', 'mentoring', 'knowledge_handover', 'farewell', 'exit_interview', 'pulse_survey', 'team_meeting', 'town_hall', 'coffee_chat', 'return_to_work', 'other', name='touchpointkind', native_enum=False, length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('planned_mode', sa.Enum('in_person', 'video', 'phone', 'chat', 'email', 'self_serve', name='mode', native_enum=False, length=24), nullable=False),
    sa.Column('owner_role', sa.Enum('manager', 'hr_partner', 'buddy', 'mentor', 'employee', name='ownerrole', native_enum=False, length=24), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('anchor', sa.Enum('hire_date', 'start_date', 'enrolment', 'exit_date', name='anchor', native_enum=False, length=24), nullable=True),
    sa.Column('due_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'scheduled', 'done', 'missed', 'cancelled', name='touchpointstatus', native_enum=False, length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=200), nullable=False),
    sa.Column('actual_mode', sa.Enum('in_person', 'video', 'phone', 'chat', 'email', 'self_serve', name='mode', native_enum=False, length=24), nullable=True),
    sa.Column('happened_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('logged_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmation', sa.Enum('pending', 'confirmed', 'disputed', name='confirmation', native_enum=False, length=16), nullable=True),
    sa.Column('confirmed_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmation_comment', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_touchpoints_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_touchpoints_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['logged_by_id'], ['employees.id'], name=op.f('fk_touchpoints_logged_by_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['employees.id'], name=op.f('fk_touchpoints_owner_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['touchpoint_templates.id'], name=op.f('fk_touchpoints_template_id_touchpoint_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_touchpoints')),
    sa.UniqueConstraint('enrolment_id', 'template_id', 'occurrence', name='uq_touchpoints_enrolment_template_occurrence')
    )
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.create_index('ix_touchpoints_employee_due', ['employee_id', 'due_at'], unique=False)
        batch_op.create_index('ix_touchpoints_owner_status_due', ['owner_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_touchpoints_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_touchpoints_template', ['template_id'], unique=False)

    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['employees.id'], name=op.f('fk_agenda_items_author_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_agenda_items_touchpoint_id_touchpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index('ix_agenda_items_touchpoint', ['touchpoint_id'], unique=False)

    op.create_table('private_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['employees.id'], name=op.f('fk_private_notes_author_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_private_notes_touchpoint_id_touchpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_private_notes')),
    sa.UniqueConstraint('touchpoint_id', 'author_id', name='uq_private_notes_touchpoint_author')
    )
    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('one_on_one_cadence_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('one_on_one_cadence_days', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_column('one_on_one_cadence_days')

    with op.batch_alter_table('employees', schema=None) as batch_op:
        batch_op.drop_column('one_on_one_cadence_days')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite's batch mode rebuilds the table from reflection, which cannot see expression
        # indexes: put the case-insensitive email index back.
        op.create_index('uq_employees_email_lower', 'employees', [sa.text('lower(email)')], unique=True)

    op.drop_table('private_notes')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index('ix_agenda_items_touchpoint')

    op.drop_table('agenda_items')
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_touchpoints_template')
        batch_op.drop_index('ix_touchpoints_status_due')
        batch_op.drop_index('ix_touchpoints_owner_status_due')
        batch_op.drop_index('ix_touchpoints_employee_due')

    op.drop_table('touchpoints')
    op.drop_table('touchpoint_templates')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index('uq_enrolments_active_employee_journey', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_enrolments_journey_status')
        batch_op.drop_index('ix_enrolments_employee_status')

    op.drop_table('enrolments')
    with op.batch_alter_table('support_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_support_assignments_partner')
        batch_op.drop_index('ix_support_assignments_employee_kind')

    op.drop_table('support_assignments')
    with op.batch_alter_table('lifecycle_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lifecycle_events_employee_on')

    op.drop_table('lifecycle_events')
    with op.batch_alter_table('journey_templates', schema=None) as batch_op:
        batch_op.drop_index('uq_journey_templates_active_key', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.drop_table('journey_templates')
