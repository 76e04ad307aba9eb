"""ticket_step_marks: which steps of the category's action script (scripts/) staff ticked on a ticket

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_step_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("step", sa.String(60), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "step", name="uq_ticket_step_marks_step"),
    )


def downgrade() -> None:
    op.drop_table("ticket_step_marks")
