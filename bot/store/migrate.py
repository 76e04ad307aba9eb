"""Run Alembic migrations from Python (`python -m bot db upgrade`), and check that they ran.

The services refuse to start on a database that is not at the code's head revision: a
missing or old schema otherwise shows up much later, as every customer's complaint failing
with `relation "orders" does not exist`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.settings_env import mask_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "python -m bot db upgrade"


class DatabaseNotReady(RuntimeError):
    """The database cannot serve this code; the message is one line an operator can act on."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _sqlite_file_missing(url: str) -> bool:
    # Checking must not create an empty SQLite file where the operator expected data.
    if not url.startswith("sqlite"):
        return False
    path = url.split("sqlite:///", 1)[-1].split("?", 1)[0]
    return bool(path) and path != ":memory:" and not Path(path).exists()


def current_revision(url: str) -> Optional[str]:
    """The database's Alembic revision; None when it was never migrated. Raises SQLAlchemyError if unreachable."""
    if _sqlite_file_missing(url):
        return None
    engine = create_engine(url, future=True, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_head(url: str) -> str:
    """Return the head revision if the database is at it; else raise DatabaseNotReady saying what to do."""
    head = head_revision()
    where = mask_url(url)
    try:
        current = current_revision(url)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseNotReady(f"cannot reach the database {where}: {reason}") from None
    if current == head:
        return head
    if current is None:
        state = "is not migrated"
    elif current in {s.revision for s in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}:
        state = f"is at revision {current}"
    else:
        raise DatabaseNotReady(
            f"the database {where} is at revision {current}, which this code does not know "
            f"(it needs {head}): it was migrated by a newer version of hotro"
        )
    raise DatabaseNotReady(
        f"the database {where} {state}, this code needs revision {head}: run `{UPGRADE_COMMAND}` "
        "with the same settings (.env), then start again"
    )
