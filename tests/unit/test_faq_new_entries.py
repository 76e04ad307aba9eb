"""A new FAQ entry works from its first questions: retrieval, routing past the NLU, links per language."""
import asyncio
import shutil
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import cli
from bot.actions.conversation import ActionCapabilities, ActionHandleFallback, ActionHowCanHelp
from bot.actions.faq import answer_entry
from bot.faq.check import check_directory
from bot.faq.evaluate import evaluate, few_shot_cross_validate
from bot.faq.index import FaqIndex
from bot.faq.library import FaqLibrary
from bot.faq.loader import load_file
from bot.services import registry
from bot.services.faq import decide
from tests.faq_fixtures import WHOLESALE

ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture
def faq_copy(tmp_path):
    """The real faq/ (about 25 questions per entry) with a new entry of three questions."""
    directory = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", directory)
    (directory / "ban-si.yml").write_text(WHOLESALE, encoding="utf-8")
    return directory


@pytest.fixture
def live_faq(faq_copy, monkeypatch, sqlite_url, db_factory):
    monkeypatch.setenv("HOTRO_FAQ_DIR", str(faq_copy))
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    registry.settings.cache_clear()
    registry.faq_library.cache_clear()
    yield faq_copy
    registry.settings.cache_clear()
    registry.faq_library.cache_clear()


def test_a_three_question_entry_is_found_among_entries_with_twenty_five(faq_copy):
    library = FaqLibrary(faq_copy)
    for question in ("mua si co giam gia khong", "shop có bán giá sỉ không ạ", "do you have wholesale prices for bulk buyers"):
        assert library.search(question)[0].entry.id == "wholesale-pricing", question
    # ... and the big entries keep their own questions.
    assert library.search("phí ship bao nhiêu")[0].entry.id == "delivery-fee"
    assert library.search("voucher nhập ở đâu")[0].entry.id == "voucher-how-to-use"


def test_the_answer_text_alone_finds_an_entry():
    # "chiết khấu 15%" is only in the answer: its own vocabulary counts.
    entries = load_file(_write_tmp(WHOLESALE)).entries + load_file(ROOT / "faq" / "giao-hang.yml").entries
    index = FaqIndex(entries)
    assert index.search("chiet khau 15% tu bao nhieu san pham")[0].entry.id == "wholesale-pricing"


def _write_tmp(text: str) -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8")
    handle.write(text)
    handle.close()
    return Path(handle.name)


def test_unrelated_chat_gets_no_answer(faq_copy):
    library = FaqLibrary(faq_copy)
    for text in ("kể chuyện cười đi", "what's the weather like in Paris"):
        assert decide(library.search(text, 4)).kind != "answer", text


def test_few_shot_cross_validation_scores_new_and_existing_entries(tmp_path):
    directory = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", directory)
    for path in directory.glob("*.yml"):
        if path.name not in ("giao-hang.yml", "thanh-toan.yml", "doi-tra-hoan-tien.yml"):
            path.unlink()
    new, existing = few_shot_cross_validate(directory, folds=3)
    entries = FaqLibrary(directory).entries
    held_out_new = sum(len(e.questions["vi"]) - 2 for e in entries)
    assert new.total["vi"] == held_out_new == new.total["vi_khong_dau"]
    assert new.total["en"] == sum(len(e.questions["en"]) - 1 for e in entries)
    # Existing entries: each fold scores its fifth (here third) of their questions.
    assert existing.total["vi"] == sum(1 for i, e in enumerate(entries) for n in range(len(e.questions["vi"]))
                                       if n % 3 != i % 3)
    # Far better than chance (1 in 18) for an entry that kept three questions.
    assert new.accuracy("vi") > 0.4 and existing.accuracy("vi") > 0.8


def test_eval_adds_entries_to_a_copy_of_the_faq(tmp_path, capsys):
    added = tmp_path / "new.yml"
    added.write_text(WHOLESALE, encoding="utf-8")
    cases = tmp_path / "cases.yml"
    cases.write_text("- id: wholesale-pricing\n  vi: [mua sỉ có giá riêng không]\n"
                     "  vi_khong_dau: [mua si co gia rieng khong]\n  en: ['wholesale prices for bulk?']\n",
                     encoding="utf-8")
    result = evaluate(ROOT / "faq", cases, added)
    assert result.total == {"vi": 1, "vi_khong_dau": 1, "en": 1}
    assert sum(result.top1.values()) == 3
    assert not (ROOT / "faq" / "zz-added-new.yml").exists()
    # Without the added entries the same cases cannot be found: the gate measures the addition.
    assert sum(evaluate(ROOT / "faq", cases).top1.values()) == 0
    assert cli.main(["faq", "eval", str(cases), "--add-entries", str(added), "--min-top1", "0.8"]) == 0
    assert cli.main(["faq", "eval", str(cases), "--min-top1", "0.8"]) == 1


# --- links in the customer's language -------------------------------------------------------

def test_links_have_a_title_per_language_and_the_plain_form_is_vietnamese(tmp_path):
    entry = load_file(_write_tmp(WHOLESALE)).entries[0]
    assert entry.links[0].title("vi") == "Bảng giá sỉ" and entry.links[0].title("en") == "Wholesale price list"
    plain = WHOLESALE.replace("      - title:\n          vi: Bảng giá sỉ\n          en: Wholesale price list\n",
                              "      - title: Bảng giá sỉ\n")
    old = load_file(_write_tmp(plain)).entries[0]
    assert old.links[0].title("vi") == "Bảng giá sỉ" and old.links[0].title("en") is None
    title, url = old.links[0]  # callers that unpack (title, url) keep working
    assert (title, url) == ("Bảng giá sỉ", "https://shop.example.vn/gia-si")
    broken = load_file(_write_tmp(WHOLESALE.replace("          en: Wholesale price list", "          fr: Prix de gros")))
    assert any("link title language 'fr'" in str(p) for p in broken.problems)


def test_an_english_answer_never_shows_a_vietnamese_link_title():
    entry = load_file(_write_tmp(WHOLESALE)).entries[0]
    dispatcher = CollectingDispatcher()
    answer_entry(dispatcher, entry, "en")
    assert dispatcher.messages[0]["text"].endswith("\nWholesale price list: https://shop.example.vn/gia-si")
    plain = load_file(_write_tmp(WHOLESALE.replace(
        "      - title:\n          vi: Bảng giá sỉ\n          en: Wholesale price list\n", "      - title: Bảng giá sỉ\n"))).entries[0]
    dispatcher = CollectingDispatcher()
    answer_entry(dispatcher, plain, "en")
    text = dispatcher.messages[0]["text"]
    assert text.endswith("\nhttps://shop.example.vn/gia-si") and "Bảng giá sỉ" not in text
    dispatcher = CollectingDispatcher()
    answer_entry(dispatcher, plain, "vi")
    assert dispatcher.messages[0]["text"].endswith("\nBảng giá sỉ: https://shop.example.vn/gia-si")


def test_check_warns_about_a_link_without_an_english_title(tmp_path):
    directory = tmp_path / "faq"
    directory.mkdir()
    (directory / "ban-si.yml").write_text(WHOLESALE.replace(
        "      - title:\n          vi: Bảng giá sỉ\n          en: Wholesale price list\n", "      - title: Bảng giá sỉ\n"),
        encoding="utf-8")
    problems, warnings = check_directory(directory)
    assert not problems
    assert any("has no en title" in w.message for w in warnings)
    (directory / "ban-si.yml").write_text(WHOLESALE, encoding="utf-8")
    assert check_directory(directory) == ([], [])


def test_every_link_in_the_faq_has_both_titles():
    _, warnings = check_directory(ROOT / "faq")
    assert not [w for w in warnings if "title" in w.message]


# --- routing: the FAQ answers what the NLU did not send to it ------------------------------

def tracker(text, intent, confidence, language="vi"):
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    events = [{"event": "user", "text": text, "timestamp": 1.0, "parse_data": latest}]
    return Tracker("c-1", {"language": language}, latest, events, False, None, {}, "action_listen")


def run(action, t):
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages


def test_an_unsure_out_of_scope_with_a_confident_faq_answer_gets_the_answer(live_faq):
    messages = run(ActionHandleFallback(), tracker("mua sỉ có giá riêng không", "out_of_scope", 0.56))
    assert "giá sỉ" in messages[0]["text"]
    assert messages[1]["response"] == "utter_faq_ask_helpful"
    # The same words, but the NLU is sure they are not a shop question: its reading stands.
    messages = run(ActionHandleFallback(), tracker("mua sỉ có giá riêng không", "out_of_scope", 0.95))
    assert [m["response"] for m in messages] == ["utter_fallback_rephrase"]


def test_out_of_scope_chat_still_gets_the_fallback(live_faq):
    messages = run(ActionHandleFallback(), tracker("kể chuyện cười đi", "out_of_scope", 0.6))
    assert [m["response"] for m in messages] == ["utter_fallback_rephrase"]


def test_a_low_confidence_capabilities_question_gets_the_faq_answer(live_faq):
    messages = run(ActionCapabilities(), tracker("điểm tích lũy dùng để làm gì", "ask_capabilities", 0.55))
    assert messages[0]["text"] and "điểm" in messages[0]["text"].lower()
    # Sure of itself, the NLU keeps its reading.
    messages = run(ActionCapabilities(), tracker("điểm tích lũy dùng để làm gì", "ask_capabilities", 0.95))
    assert [m["response"] for m in messages] == ["utter_capabilities"]
    messages = run(ActionCapabilities(), tracker("bạn làm được gì", "ask_capabilities", 0.55))
    assert [m["response"] for m in messages] == ["utter_capabilities"]


def test_a_low_confidence_affirm_that_is_an_faq_question_gets_the_answer(live_faq):
    messages = run(ActionHowCanHelp(), tracker("ok vậy mua sỉ có chiết khấu không", "affirm", 0.6))
    assert "giá sỉ" in messages[0]["text"]
    assert [m["response"] for m in run(ActionHowCanHelp(), tracker("ok", "affirm", 0.6))] == ["utter_how_can_help"]


def test_a_button_payload_is_never_overruled(live_faq):
    messages = run(ActionHandleFallback(), tracker("/out_of_scope", "out_of_scope", 1.0))
    assert [m["response"] for m in messages] == ["utter_fallback_rephrase"]


def test_the_english_answer_in_the_fallback_has_the_english_link_title(live_faq):
    messages = run(ActionHandleFallback(), tracker("do you give a discount if I buy in bulk to resell", "out_of_scope", 0.6, "en"))
    assert messages[0]["text"].endswith("Wholesale price list: https://shop.example.vn/gia-si")
