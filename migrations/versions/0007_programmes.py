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
    pass


def downgrade():
    pass
