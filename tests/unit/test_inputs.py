"""The rules every route reads its input by (bot/conversation/guard.py, bot/gateway/inputs.py and the routes' own)."""
from datetime import datetime

import pytest

from bot.conversation.guard import is_token, text_problem
from bot.gateway.attachments import attachment_number, content_disposition, safe_filename
from bot.gateway.inputs import credential, parse_json
from bot.gateway.kpi_api import period_from
from bot.gateway.uploads import display_name


def test_text_that_no_database_can_store_is_named():
    assert text_problem("xin chào 😀 \u202e\u200b", "message") is None
    assert text_problem("", "message") is None  # emptiness is each route's own rule
    assert text_problem(5, "text") == "'text' must be a string"
    assert text_problem(None, "text") == "'text' must be a string"
    assert "surrogates" in text_problem("a\ud800", "message")
    assert "surrogates" in text_problem("\udcff", "message")  # a header byte aiohttp decoded with surrogateescape
    assert "NUL" in text_problem("a\x00b", "note")  # PostgreSQL: "A string literal cannot contain NUL"


def test_only_what_could_be_an_issued_token_reaches_hashing():
    assert is_token("Zm9v-YmFy_123") and credential(" Zm9v-YmFy_123 ") == "Zm9v-YmFy_123"
    for odd in (None, "", "é", "\udcff", "a\x00", "a\tb", "x" * 513, 5):
        assert not is_token(odd) and credential(odd) is None


def test_json_that_python_cannot_read_is_a_value_error_with_a_sentence():
    assert parse_json(b'{"a": [1, "\\u00e0"]}') == {"a": [1, "à"]}
    assert parse_json(b'"\\ud800"') == "\ud800"  # valid JSON: text_problem refuses it afterwards
    for raw, sentence in [(b"[" * 100000 + b"]" * 100000, "nested too deeply"), (b"9" * 5000, "must be JSON"),
                          (b'"\xed\xa0', "must be JSON"), (b"", "must be JSON"), (b"{", "must be JSON")]:
        with pytest.raises(ValueError, match=sentence):
            parse_json(raw)


def test_attachment_numbers_are_ascii_digits():
    assert attachment_number("0") == 0 and attachment_number("12") == 12 and attachment_number("007") == 7
    for odd in ("²", "٣", "-1", "1e3", " 1", "0x1", "", "9" * 5000, "9" * 10):
        assert attachment_number(odd) is None


def test_file_names_lose_what_would_break_a_header_and_keep_what_they_are():
    for name in ("a\r\nSet-Cookie: x.png", "a\x00b.png", "\ud800.png", "\u202egnp.png", "a\u0085b.png"):
        cleaned = display_name(name, "photo", "png")
        assert cleaned.endswith(".png") and not any(ch in cleaned for ch in "\r\n\x00\ud800\u202e\u0085")
        header = content_disposition("attachment", cleaned)
        header.encode("latin-1")  # what aiohttp writes; a CR or LF would end the header
        assert "\r" not in header and "\n" not in header
    assert display_name("\r\n", "document", "pdf") == "document.pdf"
    assert safe_filename("\x00\x01", "file-1") == "file-1"


def test_kpi_periods_refuse_numbers_and_dates_a_timedelta_cannot_hold():
    now = datetime(2026, 11, 20, 12, 0)
    assert period_from({"days": "30"}, now) == (datetime(2026, 10, 21, 12, 0), now)
    assert period_from({"days": " 7 "}, now)[0] == datetime(2026, 11, 13, 12, 0)
    for bad in ({"days": "²"}, {"days": "٣"}, {"days": "9" * 5000}, {"days": "99999999999"}, {"days": "1e3"},
                {"from": "0001-01-01", "to": "2026-11-01"}, {"from": "2026-11-01", "to": "9999-12-31"}):
        with pytest.raises(ValueError):
            period_from(bad, now)
