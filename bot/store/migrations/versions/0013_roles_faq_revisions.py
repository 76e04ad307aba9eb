"""staff roles (agent, editor, admin) and the FAQ edit log (faq_revisions)

Every account that exists before this revision becomes an **agent** only: before roles, the desk
and the staff API offered chats, tickets and the team's figures, which is exactly what an agent
keeps. The new powers (editing the FAQ in the desk, managing staff accounts) are given on purpose
afterwards with `python -m bot staff roles NAME agent,editor,admin`: an upgrade never lets every
agent rewrite what customers read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

EXISTING_ACCOUNTS_ROLES = "agent"


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("roles", sa.String(100), nullable=False, server_default=EXISTING_ACCOUNTS_ROLES))
    op.create_table(
        "faq_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("faq_id", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_faq_revisions_faq_id", "faq_revisions", ["faq_id"])
    op.create_index("ix_faq_revisions_created_at", "faq_revisions", ["created_at"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # As in 0012, and first (the pragma does nothing once the transaction has written): SQLite drops
        # the column by copying the table, which staff_tokens' foreign key would refuse.
        op.execute("PRAGMA foreign_keys = OFF")
    op.drop_index("ix_faq_revisions_created_at", table_name="faq_revisions")
    op.drop_index("ix_faq_revisions_faq_id", table_name="faq_revisions")
    op.drop_table("faq_revisions")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("roles")
