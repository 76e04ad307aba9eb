"""Alembic environment: the URL comes from the caller (bot.store.migrate), not a file."""
from alembic import context

from bot.store.db import make_engine
from bot.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=url.startswith("sqlite"),
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        # One-shot: no idle connections left behind. (Swapping in a NullPool instead skipped the dialect's
        # first-connect set-up, and SQLite's batch drop_column, which reflects the table, failed on downgrade.)
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
