"""telegram_updates.done_at: an update claimed but never finished was being handled by a gateway that died

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_updates") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime()))
    # Rows from before were only ever written for updates handled to the end (or given up on).
    op.execute("UPDATE telegram_updates SET done_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("telegram_updates") as batch:
        batch.drop_column("done_at")
