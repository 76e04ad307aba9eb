"""survey_answers: NPS (0-10, "would you recommend the shop") and CES (1-5, "how easy was it") asked and answered

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("sender_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id")),
        sa.Column("ticket_code", sa.String(30)),
        sa.Column("score", sa.Integer()),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime()),
    )
    op.create_index("ix_survey_answers_sender_id", "survey_answers", ["sender_id"])
    op.create_index("ix_survey_answers_customer_id", "survey_answers", ["customer_id"])
    op.create_index("ix_survey_answers_answered_at", "survey_answers", ["answered_at"])


def downgrade() -> None:
    op.drop_table("survey_answers")
