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
    pass


def downgrade():
    pass
