"""ownership_events: every change of who owns a conversation (bot, queue, a person), kept for the KPIs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ownership_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Integer(), sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("owner_from", sa.String(20), nullable=False),
        sa.Column("owner_to", sa.String(20), nullable=False),
        sa.Column("agent", sa.String(100)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ownership_events_conversation_id", "ownership_events", ["conversation_id"])
    op.create_index("ix_ownership_events_created_at", "ownership_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("ownership_events")
