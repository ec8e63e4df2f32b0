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
    pass


def downgrade():
    pass
