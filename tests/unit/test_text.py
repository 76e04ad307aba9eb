import unicodedata

import pytest

from bot.text import detect_language, fold, nfc, words


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
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected
