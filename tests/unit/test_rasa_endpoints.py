"""Rasa's endpoints from the environment: in memory on one machine, shared stores in production."""
import stat

import pytest
import yaml

from bot.rasa_endpoints import EndpointsError, build_endpoints, write_endpoints


def test_one_machine_keeps_conversations_in_rasa():
    endpoints = build_endpoints({"ACTION_SERVER_URL": "http://actions:5055/webhook",
                                 "HOTRO_DATABASE_URL": "sqlite:///var/hotro.db"})
    assert endpoints == {"action_endpoint": {"url": "http://actions:5055/webhook"}}


def test_production_shares_trackers_in_postgresql_and_locks_in_redis():
    endpoints = build_endpoints({
        "HOTRO_DATABASE_URL": "postgresql://hotro:p%40ss@db.internal:5433/hotro",
        "HOTRO_REDIS_URL": "redis://:s3cret@cache.internal:6380/2",
    })
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433,
                                          "db": "hotro", "username": "hotro", "password": "p@ss"}
    assert endpoints["lock_store"] == {"type": "redis", "url": "cache.internal", "port": 6380, "db": 2,
                                       "key_prefix": "hotro", "password": "s3cret"}


def test_an_explicit_tracker_store_wins_and_must_be_postgresql():
    endpoints = build_endpoints({"HOTRO_DATABASE_URL": "postgresql://a@h/app",
                                 "HOTRO_TRACKER_STORE_URL": "postgresql://b@h2/trackers"})
    assert (endpoints["tracker_store"]["url"], endpoints["tracker_store"]["db"]) == ("h2", "trackers")
    with pytest.raises(EndpointsError):
        build_endpoints({"HOTRO_TRACKER_STORE_URL": "mysql://h/db"})
    with pytest.raises(EndpointsError):
        build_endpoints({"HOTRO_REDIS_URL": "http://cache:6379"})


def test_the_file_holding_passwords_is_private(tmp_path):
    path = write_endpoints({"HOTRO_REDIS_URL": "redis://:pw@127.0.0.1:6379/0"}, tmp_path / "var" / "endpoints.yml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["lock_store"]["password"] == "pw"


def test_rasa_sends_the_action_secret_on_every_action_call(tmp_path):
    from rasa.utils.endpoints import read_endpoint_config

    path = write_endpoints({"ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook", "HOTRO_ACTION_SECRET": "act-s3cret"},
                           tmp_path / "endpoints.yml")
    # Read back by Rasa's own reader: the header is what its EndpointConfig sends with each request.
    action = read_endpoint_config(str(path), "action_endpoint")
    assert action.url == "http://127.0.0.1:5055/webhook"
    assert action.headers == {"X-Hotro-Action-Secret": "act-s3cret"}
    assert "headers" not in build_endpoints({})["action_endpoint"]
