"""Shared fixtures: real databases (a SQLite file; PostgreSQL when it runs here)."""
from __future__ import annotations

import os
import socket
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from bot.store.db import session_factory
from bot.store.seed import prepare_demo_database

# Tests written before routing expect a handed-off chat to wait in the queue for a claim; the routing tests
# turn it on for themselves (tests/unit/test_routing*.py, tests/integration/test_routing_browser.py).
os.environ["HOTRO_AUTO_ASSIGN"] = "0"

POSTGRES_ADMIN_URL = os.environ.get("HOTRO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = ("127.0.0.1", 6379)


def require_service(service: str, reachable: bool) -> None:
    """Skip here without the service; fail in CI, where it must run."""
    if reachable:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required in CI and is not reachable")
    pytest.skip(f"{service} not reachable")


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _prepare(url: str):
    prepare_demo_database(url)
    return session_factory(url)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'hotro.db'}"


@pytest.fixture
def db_factory(sqlite_url):
    return _prepare(sqlite_url)


@contextmanager
def postgres_database():
    """A fresh PostgreSQL database (its URL and name), dropped afterwards; fails in CI when PostgreSQL is missing."""
    name = f"hotro_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # PostgreSQL not running here
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url, name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def set_connections_allowed(name: str, allowed: bool) -> None:
    """Take a test database down (refuse new connections, end open ones) or bring it back: a real outage."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}'))
            if not allowed:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                             {"name": name})
    finally:
        admin.dispose()


@pytest.fixture
def configured_db(sqlite_url, db_factory, monkeypatch):
    """db_factory's database as the one the process's settings name (the CLI, the registry, actions)."""
    from bot.services import registry

    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    registry.orders.cache_clear()
    yield db_factory
    registry.settings.cache_clear()
    registry.orders.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_factory(request, tmp_path):
    """The same tests on SQLite and on PostgreSQL (the production database)."""
    if request.param == "sqlite":
        yield _prepare(f"sqlite:///{tmp_path / 'hotro.db'}")
        return
    with postgres_database() as (url, _name):
        factory = _prepare(url)
        try:
            yield factory
        finally:
            factory.kw["bind"].dispose()
