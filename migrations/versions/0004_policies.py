"""policies: versioned human-touch policies (one active and one draft version each, by partial unique
indexes), the overrides HR granted, weekly compliance snapshots

Revision ID: 0004_policies
Revises: 0003_surveys
Create Date: 2026-11-22 20:06:23.923644

"""
from alembic import op
import sqlalchemy as sa

import touchpoints.db_types


# revision identifiers, used by Alembic.
revision = '0004_policies'
down_revision = '0003_surveys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policies_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies')),
    sa.UniqueConstraint('key', name=op.f('uq_policies_key'))
    )
    op.create_table('compliance_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('taken_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_compliance_snapshots_policy_id_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_snapshots')),
    sa.UniqueConstraint('week_start', 'subject', name='uq_compliance_snapshots_week_subject')
    )
    op.create_table('policy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('rule_kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('severity', sa.Enum('block', 'warn', name='severity', native_enum=False, length=8), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'superseded', 'retired', name='versionstatus', native_enum=False, length=12), nullable=False),
    sa.Column('change_note', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_by_id', sa.Integer(), nullable=True),
    sa.Column('activated_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_policy_versions_activated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_policy_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_policy_versions_policy_id_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
    sa.UniqueConstraint('policy_id', 'number', name='uq_policy_versions_policy_number')
    )
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.create_index('ix_policy_versions_status', ['status'], unique=False)
        batch_op.create_index('uq_policy_versions_active_policy', ['policy_id'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.create_index('uq_policy_versions_draft_policy', ['policy_id'], unique=True, sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))

    op.create_table('policy_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('policy_version_id', sa.Integer(), nullable=False),
    sa.Column('employee_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('justification', sa.Text(), nullable=False),
    sa.Column('created_at', touchpoints.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_policy_overrides_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], name=op.f('fk_policy_overrides_employee_id_employees'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_policy_overrides_policy_id_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_version_id'], ['policy_versions.id'], name=op.f('fk_policy_overrides_policy_version_id_policy_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoints.id'], name=op.f('fk_policy_overrides_touchpoint_id_touchpoints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_overrides'))
    )
    with op.batch_alter_table('policy_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_policy_overrides_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_policy_overrides_policy', ['policy_id'], unique=False)
        batch_op.create_index('ix_policy_overrides_touchpoint', ['touchpoint_id'], unique=False)

    # For the evaluation: last human touchpoint per person, first follow-up after a moment, streaks.
    op.create_index('ix_touchpoints_employee_outcome', 'touchpoints',
                    ['employee_id', 'status', 'actual_mode', 'kind', 'happened_at'], unique=False)



def downgrade():
    op.drop_index('ix_touchpoints_employee_outcome', table_name='touchpoints')
    with op.batch_alter_table('policy_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_overrides_touchpoint')
        batch_op.drop_index('ix_policy_overrides_policy')
        batch_op.drop_index('ix_policy_overrides_created_at')

    op.drop_table('policy_overrides')
    with op.batch_alter_table('policy_versions', schema=None) as batch_op:
        batch_op.drop_index('uq_policy_versions_draft_policy', sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'"))
        batch_op.drop_index('uq_policy_versions_active_policy', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_policy_versions_status')

    op.drop_table('policy_versions')
    op.drop_table('compliance_snapshots')
    op.drop_table('policies')
