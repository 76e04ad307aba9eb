import unicodedata

import pytest

from bot.text import detect_language, fold, looks_like_question, nfc, terminal_safe, words


def test_fold_removes_diacritics_and_maps_d():
    assert fold("Tôi muốn khiếu nại ĐƠN hàng") == "toi muon khieu nai don hang"


def test_fold_is_the_same_for_nfc_and_nfd_input():
    text = "muốn hủy đơn"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert fold(nfd) == fold(text) == "muon huy don"
    assert nfc(nfd) == text


def test_fold_keeps_one_character_per_nfc_character():
    text = "Giao sai màu, đổi giúp"
    assert len(fold(text)) == len(nfc(text))


def test_words_splits_on_punctuation():
    assert words("DH100001, bị vỡ!") == ["dh100001", "bi", "vo"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tôi muốn khiếu nại", "vi"),
        ("toi muon khieu nai don hang", "vi"),
        ("I want to file a complaint", "en"),
        ("my order arrived broken", "en"),
        ("hello", "en"),
        ("DH100001", None),
        ("0912 345 678", None),
        ("ok", None),
        ("/affirm", None),
        ("", None),
        # An address is a name, not words: it keeps the conversation's language.
        ("bao.vo@example.com", None),
        ("nguyen.van.toi@gmail.com", None),
        ("email mình là bao.vo@example.com", "vi"),
        ("my email is bao.vo@example.com", "en"),
        ("www.minh-ban-hang.vn", None),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_terminal_safe_shows_control_and_bidi_characters_instead_of_obeying_them():
    assert terminal_safe("vỡ\x1b[2J\x07 ly") == "vỡ\\x1b[2J\\x07 ly"
    assert terminal_safe("a\nb\tc\rd\x00\x7f") == "a\\nb\\tc\\rd\\x00\\u007f"
    assert terminal_safe("\x9b31m \u202eabc\u202c \u2066x\u2069 \u200f") == "\\u009b31m \\u202eabc\\u202c \\u2066x\\u2069 \\u200f"
    assert terminal_safe("Tôi muốn khiếu nại 👍 — “ok”") == "Tôi muốn khiếu nại 👍 — “ok”"
    assert terminal_safe(None) == ""


def test_terminal_safe_keeps_json_valid_and_its_own_line_breaks():
    import json

    data = {"description": "x\x1b]0;title\x07\u009b\u202e\ny"}
    shown = terminal_safe(json.dumps(data, ensure_ascii=False, indent=2), keep_newlines=True)
    assert json.loads(shown) == data and shown.count("\n") == 2
    assert not any(ch in shown for ch in "\x1b\x07\u009b\u202e")


@pytest.mark.parametrize("text", [
    "sp bảo hành bao lâu v shop", "how long does a refund take?", "phí ship bao nhiêu vậy shop",
    "sp đổi trả dc ko shop", "shop giao hàng tới đâu rồi", "can I pay by card", "doi tra the nao",
])
def test_questions_however_they_are_put(text):
    assert looks_like_question(text)


@pytest.mark.parametrize("text", [
    "nồi chiên bật ko lên, đèn ko sáng", "thiếu cái ốp lưng trong hộp", "the screen is cracked in the top corner",
    "ok", "đồng ý", "do not call me after 9pm", "i got a blue dress instead of the red one", "",
])
def test_statements_are_not_questions(text):
    assert not looks_like_question(text)
