"""A wrong number in a setting stops start-up with the setting's name, never with int()'s own words."""
import pytest

from bot.config import decimal_number, whole_number
from bot.rasa_instances import process_count, rasa_urls


@pytest.mark.parametrize("value, minimum, expected", [("3", 1, 3), (" 12 ", None, 12), ("-100123", None, -100123),
                                                      (7, 0, 7)])
def test_whole_numbers_are_read(value, minimum, expected):
    assert whole_number("X", value, minimum=minimum) == expected


@pytest.mark.parametrize("value, message", [("abc", "HOTRO_X must be a whole number, not 'abc'"),
                                            ("1.5", "HOTRO_X must be a whole number"),
                                            ("0", "HOTRO_X must be 1 or more, not 0")])
def test_a_wrong_whole_number_names_its_setting(value, message):
    with pytest.raises(ValueError, match=message):
        whole_number("HOTRO_X", value, minimum=1)


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-1", ""])
def test_a_wrong_decimal_number_names_its_setting(value):
    with pytest.raises(ValueError, match="HOTRO_Y must be a number"):
        decimal_number("HOTRO_Y", value, minimum=0.5)
    assert decimal_number("HOTRO_Y", "2.5", minimum=0.5) == 2.5


def test_start_up_settings_name_themselves():
    from bot.channels.telegram.settings import TelegramSettings
    from bot.supervisor import RestartPolicy

    with pytest.raises(ValueError, match="HOTRO_RASA_PROCESSES must be a whole number"):
        process_count({"HOTRO_RASA_PROCESSES": "abc"})
    with pytest.raises(ValueError, match="RASA_PORT must be a whole number"):
        rasa_urls({"RASA_PORT": "50o5"})
    with pytest.raises(ValueError, match="HOTRO_RESTART_BURST must be a whole number"):
        RestartPolicy.from_env({"HOTRO_RESTART_BURST": "many"})
    with pytest.raises(ValueError, match="TELEGRAM_POLL_TIMEOUT must be a whole number"):
        TelegramSettings.from_env({"TELEGRAM_POLL_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="TELEGRAM_STAFF_CHAT_ID must be a whole number"):
        TelegramSettings.from_env({"TELEGRAM_STAFF_CHAT_ID": "@shop_staff"})


@pytest.mark.parametrize("urls", ["file:///etc/passwd", "127.0.0.1:5005", "http://:5005", "http://rasa:port",
                                  "gopher://rasa:5005", "http://rasa:5005,ftp://rasa-2:5006", "http://rasa/?x=1"])
def test_rasa_urls_must_be_http_addresses(urls):
    with pytest.raises(ValueError, match="HOTRO_RASA_URLS: .* is not an http:// or https:// address"):
        rasa_urls({"HOTRO_RASA_URLS": urls})


def test_good_rasa_urls_are_kept():
    assert rasa_urls({"HOTRO_RASA_URLS": "http://10.0.0.2:5005/, https://rasa-2.internal"}) == [
        "http://10.0.0.2:5005", "https://rasa-2.internal"]
    with pytest.raises(ValueError, match="RASA_URL: "):
        rasa_urls({"RASA_URL": "rasa:5005"})
