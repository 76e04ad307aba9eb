"""Fixtures for the unit tests that talk to a fake Telegram."""
import pytest

from tests.telegram_api import FakeTelegram


@pytest.fixture
def fake_telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()
