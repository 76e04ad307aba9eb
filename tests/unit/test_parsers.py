import pytest

from bot.parsers import (
    mask_contact,
    mask_email,
    mask_phone,
    normalize_contact,
    parse_contact,
    parse_email,
    parse_order_number,
    parse_phone,
    parse_ticket_code,
)


@pytest.mark.parametrize(
    "text",
    ["DH100001", "dh100001", "dh 100 001", "DH-100001", "Dh.100.001", "đơn DH100001 bị vỡ", "mã đơn là 100001",
     "order number 100001", "dh 100-001 nhé"],
)
def test_order_number_forms(text):
    assert parse_order_number(text).number == "DH100001"


def test_bare_six_digits_count_only_when_the_bot_asked():
    assert parse_order_number("100001").number is None
    assert parse_order_number("100001", expecting=True).number == "DH100001"


@pytest.mark.parametrize("text", ["DH12345", "DH1234567", "dh 12", "12345"])
def test_malformed_order_numbers_are_attempts_without_a_number(text):
    parsed = parse_order_number(text, expecting=True)
    assert parsed.number is None
    assert parsed.attempted


def test_phone_numbers_are_not_order_numbers():
    assert parse_order_number("0912 345 678", expecting=True).number is None
    assert parse_order_number("số của tôi 0912.345.678").number is None


def test_text_without_any_attempt():
    assert parse_order_number("tôi không nhớ", expecting=True) == parse_order_number("", expecting=True)
    assert not parse_order_number("tôi không nhớ", expecting=True).attempted


@pytest.mark.parametrize(
    "text, phone",
    [
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("84912345678", "0912345678"),
        ("sdt của tôi là 0987-654-321 nhé", "0987654321"),
        ("024 3826 1234", "02438261234"),
    ],
)
def test_vietnamese_phones(text, phone):
    assert parse_phone(text) == phone


@pytest.mark.parametrize("text", ["0123 456 789", "091234567", "+1 415 555 0100", "DH100001", "12345678901234"])
def test_not_vietnamese_phones(text):
    assert parse_phone(text) is None


def test_emails():
    assert parse_email("email mình là Lan.Nguyen@Gmail.com nhé") == "lan.nguyen@gmail.com"
    assert parse_email("lan@") is None
    assert parse_email("lan@gmail") is None


def test_contact_prefers_email_and_normalises():
    assert parse_contact("0912345678 hoặc an@yahoo.com").kind == "email"
    assert normalize_contact("+84 912 345 678") == normalize_contact("0912.345.678")


@pytest.mark.parametrize("text", ["KN-000012", "kn 12", "kn000012", "phiếu KN 000012 của tôi"])
def test_ticket_codes(text):
    assert parse_ticket_code(text) == "KN-000012"


def test_not_ticket_codes():
    assert parse_ticket_code("KN-1234567") is None
    assert parse_ticket_code("khiếu nại") is None


def test_masking_hides_most_of_the_contact():
    assert mask_phone("0912345678") == "0912***678"
    assert mask_email("lan.nguyen@gmail.com") == "l***@gmail.com"
    assert "345" not in mask_contact("0912345678")
    assert mask_contact(None) == ""


def test_redact_contacts_masks_phones_and_emails_only():
    from bot.parsers import redact_contacts

    text = "gọi 0912 345 678 hoặc mail lan.nguyen@gmail.com về đơn DH100001 giá 350000"
    redacted = redact_contacts(text)
    assert "345" not in redacted and "lan.nguyen" not in redacted
    assert "0912***678" in redacted and "l***@gmail.com" in redacted
    assert "DH100001" in redacted and "350000" in redacted
