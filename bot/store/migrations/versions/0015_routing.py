"""routing: staff skills, capacity and availability; the reason of each ownership change

Every account that exists before this revision can take any conversation (no skills: any category,
language and channel), three chats at once, and counts as online while it uses the desk, as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STAFF_COLUMNS = ("skill_categories", "skill_languages", "skill_channels", "capacity", "availability", "seen_at",
                 "last_assigned_at")


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("skill_categories", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("skill_languages", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("skill_channels", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("capacity", sa.Integer(), nullable=False, server_default="3"))
        batch.add_column(sa.Column("availability", sa.String(10), nullable=False, server_default="online"))
        batch.add_column(sa.Column("seen_at", sa.DateTime()))
        batch.add_column(sa.Column("last_assigned_at", sa.DateTime()))
    with op.batch_alter_table("ownership_events") as batch:
        batch.add_column(sa.Column("reason", sa.String(300)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # As in 0012 and 0013: SQLite drops a column by copying the table, which foreign keys would refuse.
        op.execute("PRAGMA foreign_keys = OFF")
    with op.batch_alter_table("ownership_events") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("staff") as batch:
        for column in reversed(STAFF_COLUMNS):
            batch.drop_column(column)
