"""desk sessions: staff_tokens gain a kind (api | session) and an expiry

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="api"))
        batch.add_column(sa.Column("expires_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("staff_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("kind")
