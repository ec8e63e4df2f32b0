"""delivery choices as columns: calendar invitations by email, a team's digest in Teams

Revision ID: 0009_delivery_choices
Revises: 0008_rituals
Create Date: 2026-11-22 23:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_delivery_choices'
down_revision = '0008_rituals'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('delivery_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_invites', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    with op.batch_alter_table('team_channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('teams_digest', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('team_channels', schema=None) as batch_op:
        batch_op.drop_column('teams_digest')
    with op.batch_alter_table('delivery_profiles', schema=None) as batch_op:
        batch_op.drop_column('calendar_invites')
