import unicodedata

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import VietnameseTokenizer


def tokens(text):
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


def test_nfd_nfc_and_no_diacritics_give_the_same_tokens():
    text = "Tôi muốn khiếu nại đơn hàng"
    nfd = unicodedata.normalize("NFD", text)
    expected = ["toi", "muon", "khieu", "nai", "don", "hang"]
    assert tokens(text) == expected
    assert tokens(nfd) == expected
    assert tokens("toi muon khieu nai don hang") == expected


def test_token_offsets_point_into_the_text():
    text = "Đơn DH100003 bị vỡ"
    tokenizer = VietnameseTokenizer(VietnameseTokenizer.get_default_config())
    for token in tokenizer.tokenize(Message(data={"text": text}), "text"):
        assert len(text[token.start:token.end]) == len(token.text)
