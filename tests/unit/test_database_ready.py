"""The services refuse a database that is not at the code's head revision; demo data stays out of real shops."""
import pytest

from bot import cli
from bot.services import registry
from bot.startup import summary_lines
from bot.store.db import session_factory, session_scope
from bot.store.migrate import DatabaseNotReady, current_revision, head_revision, require_head, upgrade
from bot.store.models import Order
from bot.store.seed import real_order_count
from tests.conftest import postgres_database


def test_a_migrated_database_is_at_head(sqlite_url, db_factory):
    assert current_revision(sqlite_url) == head_revision() == require_head(sqlite_url)


def test_a_missing_sqlite_file_is_not_migrated_and_not_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'nothing.db'}"
    with pytest.raises(DatabaseNotReady, match="is not migrated.*run `python -m bot db upgrade`"):
        require_head(url)
    assert not (tmp_path / "nothing.db").exists()


def test_an_old_schema_says_its_revision(sqlite_url):
    upgrade(sqlite_url, "0005")
    with pytest.raises(DatabaseNotReady, match=f"is at revision 0005, this code needs revision {head_revision()}"):
        require_head(sqlite_url)


def test_an_empty_postgresql_database_names_itself_with_the_password_masked():
    with postgres_database() as (url, name):
        with_password = url.replace("postgres@", "postgres:hunter2@", 1)  # trust auth ignores it
        with pytest.raises(DatabaseNotReady) as caught:
            require_head(with_password)
    message = str(caught.value)
    assert name in message and "not migrated" in message
    assert "hunter2" not in message and "postgres:***@" in message


def test_an_unreachable_database_is_said_in_one_line():
    with pytest.raises(DatabaseNotReady) as caught:
        require_head("postgresql://hotro:topsecret@127.0.0.1:1/hotro")
    message = str(caught.value)
    assert message.startswith("cannot reach the database postgresql://hotro:***@127.0.0.1:1/hotro")
    assert "topsecret" not in message and "\n" not in message


@pytest.fixture
def seeded(configured_db):
    return configured_db


def test_seed_keeps_demo_orders_out_of_a_shop_with_real_orders(seeded, capsys):
    with session_scope(seeded) as session:
        demo = session.query(Order).filter(Order.number == "DH100020").one()
        demo.number = "DH900001"  # now a shop's own order; DH100020 is missing from the demo set
    assert cli.main(["db", "seed"]) == 0
    assert "demo data not added" in capsys.readouterr().out
    with session_scope(seeded) as session:
        assert session.query(Order).filter(Order.number == "DH100020").count() == 0
        assert real_order_count(session) == 1
    assert cli.main(["db", "seed", "--force"]) == 0
    assert "1 orders added" in capsys.readouterr().out


def test_cli_commands_refuse_an_unmigrated_database_but_upgrade_fixes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOTRO_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    registry.settings.cache_clear()
    try:
        for command in (["tickets", "list"], ["kpi"], ["db", "seed"], ["faq", "report"]):
            assert cli.main(command) == 2, command
            assert "python -m bot db upgrade" in capsys.readouterr().err
        assert cli.main(["db", "upgrade"]) == 0
        assert cli.main(["tickets", "list"]) == 0
        assert "no tickets" in capsys.readouterr().out
    finally:
        registry.settings.cache_clear()
        session_factory.cache_clear()


def test_the_startup_summary_names_every_store_with_passwords_masked():
    single = summary_lines({}, "sqlite:////srv/hotro.db")
    assert single == [
        "database:            sqlite:////srv/hotro.db",
        "Rasa tracker store:  in memory (conversations restart when Rasa restarts)",
        "Rasa lock store:     in memory (one Rasa process)",
        "Redis fan-out:       off (one gateway)",
        "Telegram:            off (set TELEGRAM_BOT_TOKEN in .env to turn it on; see README)",
    ]
    db = "postgresql://hotro:pw1@db:5432/hotro"
    production = "\n".join(summary_lines({"HOTRO_DATABASE_URL": db, "HOTRO_REDIS_URL": "redis://:pw2@cache:6379/1",
                                          "TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_STAFF_CHAT_ID": "-100"}, db))
    assert "pw1" not in production and "pw2" not in production and "123:abc" not in production
    assert "Rasa tracker store:  PostgreSQL postgresql://hotro:***@db:5432/hotro" in production
    assert "Rasa lock store:     Redis redis://:***@cache:6379/1" in production
    assert "Redis fan-out:       on (redis://:***@cache:6379/1)" in production
    assert "Telegram:            on (long polling, staff group)" in production
