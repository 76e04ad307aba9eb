"""telegram: staff linked to Telegram users, staff-group cards, processed updates, long button payloads

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("telegram_user_id", sa.String(40)))
        batch.create_index("ix_staff_telegram_user_id", ["telegram_user_id"], unique=True)
    op.create_table(
        "telegram_cards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.String(40), nullable=False),
        sa.Column("message_id", sa.Integer()),
        sa.Column("sender_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_telegram_cards_message", "telegram_cards", ["chat_id", "message_id"])
    op.create_table(
        "telegram_announcements",
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "telegram_callbacks",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("telegram_callbacks")
    op.drop_table("telegram_updates")
    op.drop_table("telegram_announcements")
    op.drop_index("ix_telegram_cards_message", table_name="telegram_cards")
    op.drop_table("telegram_cards")
    with op.batch_alter_table("staff") as batch:
        batch.drop_index("ix_staff_telegram_user_id")
        batch.drop_column("telegram_user_id")
