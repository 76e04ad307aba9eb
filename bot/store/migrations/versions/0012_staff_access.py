"""staff access: disabled accounts, login failures for the throttle, API tokens that expire

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Tokens issued before this revision never expired. They get the default lifetime
# (HOTRO_STAFF_TOKEN_DAYS' default), counted from the upgrade so no tool stops working at once.
# Fixed here rather than read from the environment: a migration gives the same result wherever it runs.
EXISTING_TOKEN_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime()))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("forgiven", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_login_failures_account", "login_failures", ["account"])
    op.create_index("ix_login_failures_address", "login_failures", ["address"])
    op.create_index("ix_login_failures_created_at", "login_failures", ["created_at"])
    tokens = sa.table("staff_tokens", sa.column("kind", sa.String), sa.column("expires_at", sa.DateTime))
    op.execute(
        tokens.update()
        .where(tokens.c.kind == "api", tokens.c.expires_at.is_(None))
        .values(expires_at=datetime.utcnow() + timedelta(days=EXISTING_TOKEN_DAYS))
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column by copying the table, and dropping the original breaks staff_tokens' foreign
        # key for a moment. First, because the pragma does nothing once the transaction has written a row
        # (the connection is the migration's own, closed afterwards).
        op.execute("PRAGMA foreign_keys = OFF")
    # The code before this revision moved any token's expiry on by 8 hours at each use:
    # API tokens with an expiry would silently turn into idle-expiring ones.
    tokens = sa.table("staff_tokens", sa.column("kind", sa.String), sa.column("expires_at", sa.DateTime))
    op.execute(tokens.update().where(tokens.c.kind == "api").values(expires_at=None))
    op.drop_index("ix_login_failures_created_at", table_name="login_failures")
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_index("ix_login_failures_account", table_name="login_failures")
    op.drop_table("login_failures")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("disabled_at")
