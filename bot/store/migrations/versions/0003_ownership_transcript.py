"""conversation ownership (bot | queued | agent) and the transcript of every message

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("owner", sa.String(20), nullable=False, server_default="bot"))
        batch.add_column(sa.Column("agent", sa.String(100)))
        batch.add_column(sa.Column("owner_since", sa.DateTime()))
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("author_type", sa.String(20), nullable=False),
        sa.Column("author_name", sa.String(100)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("messages")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("owner_since")
        batch.drop_column("agent")
        batch.drop_column("owner")
