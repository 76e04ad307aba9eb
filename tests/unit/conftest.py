"""Fixtures for the unit tests that talk to a fake Telegram."""
import pytest

from tests.telegram_api import FakeTelegram


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh_handoff_quota():
    """Each test starts with every client's handoff quota full (the registry keeps one per process)."""
    from bot.services import registry

    registry.handoff_quota.cache_clear()
    yield
    registry.handoff_quota.cache_clear()
