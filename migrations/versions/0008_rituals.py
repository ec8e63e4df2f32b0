"""team rituals (team touchpoints) and attendance

Revision ID: 0008_rituals
Revises: 0007_programmes
Create Date: 2026-11-22 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0008_rituals'
down_revision = '0007_programmes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_pattern', sa.Enum('on_site', 'hybrid', 'remote', name='workpattern', native_enum=False, length=10), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('manager_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_teams_parent_id_teams'), 'teams', ['parent_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(op.f('fk_teams_manager_id_employees'), 'employees', ['manager_id'], ['id'], ondelete='SET NULL')

    op.create_table('rituals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('audience', sa.Enum('team', 'team_and_subteams', 'everyone', name='audience', native_enum=False, length=20), nullable=False),
    sa.Column('kind', sa.Enum('welcome', 'buddy_intro', 'one_on_one', 'check_in', 'performance_review', 'growth_conversation', 'grievance_meeting', 'termination_meeting', 'training_module', 'live_discussion', 'coaching', 'mentoring', 'knowledge_handover', 'farewell', 'exit_interview', 'pulse_survey', 'team_meeting', 'town_hall', 'team_retreat', 'coffee_chat', 'return_to_work', 'other', name='touchpointkind', native_enum=False, length=24), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('planned_mode', sa.Enum('in_person', 'video', 'phone', 'chat', 'email', 'self_serve', name='mode', native_enum=False, length=24), nullable=False),
    sa.Column('rrule', sa.String(length=255), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('time_of_day', sa.Time(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('materialised_until', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_rituals_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organiser_id'], ['employees.id'], name=op.f('fk_rituals_organiser_id_employees'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_rituals_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rituals'))
    )
    with op.batch_alter_table('rituals', schema=None) as batch_op:
        batch_op.create_index('ix_rituals_organiser', ['organiser_id'], unique=False)
        batch_op.create_index('ix_rituals_team', ['team_id'], unique=False)

    op.create_table('ritual_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ritual_id', sa.Integer(), nullable=False),
    sa.Column('due_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'cancelled', name='occurrencestatus', native_enum=False, length=12), nullable=False),
    sa.Column('actual_mode', sa.Enum('in_person', 'video', 'phone', 'chat', 'email', 'self_serve', name='mode', native_enum=False, length=24), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('logged_by_id', sa.Integer(), nullable=True),
    sa.Column('logged_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logged_by_id'], ['users.id'], name=op.f('fk_ritual_occurrences_logged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ritual_id'], ['rituals.id'], name=op.f('fk_ritual_occurrences_ritual_id_rituals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ritual_occurrences')),
    sa.UniqueConstraint('ritual_id', 'due_at', name='uq_ritual_occurrences_ritual_due')
    )
    with op.batch_alter_table('ritual_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_ritual_occurrences_status_due', ['status', 'due_at'], unique=False)

    op.create_table('ritual_attendance',
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('presence', sa.Enum('in_person', 'remote', 'absent', name='presence', native_enum=False, length=12), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_ritual_attendance_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_ritual_attendance_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['occurrence_id'], ['ritual_occurrences.id'], name=op.f('fk_ritual_attendance_occurrence_id_ritual_occurrences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('occurrence_id', 'employee_id', name=op.f('pk_ritual_attendance'))
    )
    with op.batch_alter_table('ritual_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_ritual_attendance_employee', ['employee_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ritual_attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_ritual_attendance_employee')

    op.drop_table('ritual_attendance')
    with op.batch_alter_table('ritual_occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_ritual_occurrences_status_due')

    op.drop_table('ritual_occurrences')
    with op.batch_alter_table('rituals', schema=None) as batch_op:
        batch_op.drop_index('ix_rituals_team')
        batch_op.drop_index('ix_rituals_organiser')

    op.drop_table('rituals')
    with op.batch_alter_table('teams', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_teams_manager_id_employees'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_teams_parent_id_teams'), type_='foreignkey')
        batch_op.drop_column('manager_id')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('work_pattern')
