"""buddy and mentor programmes and their matches

Revision ID: 0007_programmes
Revises: 0006_coffee
Create Date: 2026-11-22 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0007_programmes'
down_revision = '0006_coffee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('buddy', 'mentor', name='supportkind', native_enum=False, length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('journey_key', sa.String(length=64), nullable=False),
    sa.Column('load_cap', sa.Integer(), nullable=False),
    sa.Column('min_tenure_months', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programmes_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes')),
    sa.UniqueConstraint('key', name=op.f('uq_programmes_key'))
    )
    op.create_table('programme_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('active', 'ended', name='matchstatus', native_enum=False, length=10), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('ended_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.Enum('employee', 'partner', 'hr', name='endedby', native_enum=False, length=10), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Enum('ran_its_course', 'no_time', 'not_a_fit', 'role_change', 'left_company', 'other', name='endreason', native_enum=False, length=20), nullable=True),
    sa.Column('end_note', sa.String(length=280), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['support_assignments.id'], name=op.f('fk_programme_matches_assignment_id_support_assignments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programme_matches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_programme_matches_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_programme_matches_ended_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_programme_matches_enrolment_id_enrolments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['employees.id'], name=op.f('fk_programme_matches_partner_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_matches_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_matches'))
    )
    with op.batch_alter_table('programme_matches', schema=None) as batch_op:
        batch_op.create_index('ix_programme_matches_employee_status', ['employee_id', 'status'], unique=False)
        batch_op.create_index('ix_programme_matches_partner_status', ['partner_id', 'status'], unique=False)
        batch_op.create_index('ix_programme_matches_programme_status', ['programme_id', 'status'], unique=False)
        batch_op.create_index('uq_programme_matches_active_employee', ['programme_id', 'employee_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))


def downgrade():
    with op.batch_alter_table('programme_matches', schema=None) as batch_op:
        batch_op.drop_index('uq_programme_matches_active_employee', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_programme_matches_programme_status')
        batch_op.drop_index('ix_programme_matches_partner_status')
        batch_op.drop_index('ix_programme_matches_employee_status')

    op.drop_table('programme_matches')
    op.drop_table('programmes')
