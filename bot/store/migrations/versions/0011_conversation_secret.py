"""conversations.secret_hash: a website conversation opens only with the secret the gateway gave its browser

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("secret_hash", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("secret_hash")
