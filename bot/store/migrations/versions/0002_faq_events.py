"""faq_events: unanswered FAQ questions and 👍/👎 feedback for editors

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("faq_id", sa.String(100)),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("sender_id", sa.String(200)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_faq_events_kind", "faq_events", ["kind"])
    op.create_index("ix_faq_events_faq_id", "faq_events", ["faq_id"])


def downgrade() -> None:
    op.drop_table("faq_events")
