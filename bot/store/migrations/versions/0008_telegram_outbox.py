"""telegram_outbox: sends to Telegram that survive outages and restarts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("what", sa.String(40), nullable=False),
        sa.Column("card_id", sa.Integer(), sa.ForeignKey("telegram_cards.id")),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(80)),
        sa.Column("claimed_until", sa.DateTime()),
        sa.Column("last_error", sa.String(200)),
        sa.Column("message_id", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
    )
    # The outbox looks for each chat's oldest pending row.
    op.create_index("ix_telegram_outbox_queue", "telegram_outbox", ["status", "chat_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_telegram_outbox_queue", table_name="telegram_outbox")
    op.drop_table("telegram_outbox")
