import json
import os
import threading
import time
from pathlib import Path

import pytest

from bot import cli
from bot.faq.check import check_directory
from bot.faq.index import FaqIndex
from bot.faq.library import FaqLibrary
from bot.faq.loader import load_file
from bot.services import registry
from bot.services.faq import FaqService, decide

ENTRY = """\
  - id: {id}
    reviewed: 2026-11-20
    questions:
      vi:
{vi}
      en:
{en}
    answer:
      vi: {answer_vi}
      en: {answer_en}
"""


def entry(id, vi, en, answer_vi, answer_en):
    return ENTRY.format(
        id=id,
        vi="\n".join(f"        - {q}" for q in vi),
        en="\n".join(f"        - {q}" for q in en),
        answer_vi=answer_vi,
        answer_en=answer_en,
    )


SHIPPING = "entries:\n" + entry(
    "delivery-fee",
    ["Phí ship bao nhiêu?", "Tiền vận chuyển là bao nhiêu?", "Giao hàng có mất phí không?"],
    ["How much is shipping?", "What is the delivery fee?"],
    "Phí giao hàng 30.000đ, miễn phí từ 300.000đ.",
    "Delivery costs 30,000đ, free from 300,000đ.",
) + entry(
    "cod",
    ["Có thanh toán khi nhận hàng không?", "Shop có COD không?"],
    ["Can I pay on delivery?", "Do you accept cash on delivery?"],
    "Có, shop nhận COD toàn quốc.",
    "Yes, cash on delivery everywhere in Vietnam.",
)

HOURS = "entries:\n" + entry(
    "opening-hours",
    ["Shop làm việc mấy giờ?", "Mấy giờ shop mở cửa?"],
    ["What are your opening hours?", "When are you open?"],
    "Shop làm việc 8:00–21:00 mỗi ngày.",
    "We are open 8:00–21:00 every day.",
)


@pytest.fixture
def faq_dir(tmp_path):
    d = tmp_path / "faq"
    d.mkdir()
    (d / "giao-hang.yml").write_text(SHIPPING, encoding="utf-8")
    (d / "lien-he.yml").write_text(HOURS, encoding="utf-8")
    return d


def touch_later(path: Path, text: str) -> None:
    """Write, making sure the modification time moves on even on coarse clocks."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_answers_in_both_languages_and_without_diacritics(faq_dir):
    library = FaqLibrary(faq_dir)
    assert library.search("phi ship bao nhieu vay shop")[0].entry.id == "delivery-fee"
    assert library.search("phí vận chuyển hết bao nhiêu tiền")[0].entry.id == "delivery-fee"
    assert library.search("do you take cash on delivery")[0].entry.id == "cod"
    assert library.search("mấy giờ mở cửa vậy")[0].entry.id == "opening-hours"


def test_decisions(faq_dir):
    library = FaqLibrary(faq_dir)
    assert decide(library.search("Phí ship bao nhiêu?")).kind == "answer"
    assert decide(library.search("con mèo đang ngủ trên mái nhà")).kind == "none"
    assert decide([]).kind == "none"


def test_hot_reload_picks_up_an_edit(faq_dir):
    library = FaqLibrary(faq_dir, check_interval=0)
    assert "300.000đ" in library.get("delivery-fee").answer["vi"]
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    library.get("delivery-fee")  # the question that notices the change
    assert library.wait(timeout=10)
    assert "500.000đ" in library.get("delivery-fee").answer["vi"]
    # A new file with a new entry is picked up too.
    touch_later(faq_dir / "bao-hanh.yml", "entries:\n" + entry(
        "warranty", ["Bảo hành bao lâu?", "Sản phẩm được bảo hành mấy tháng?"], ["How long is the warranty?"],
        "Bảo hành 12 tháng.", "12 months warranty."))
    library.search("bao hanh may thang")
    assert library.wait(timeout=10)
    assert library.search("bao hanh may thang")[0].entry.id == "warranty"


def test_a_watched_library_rebuilds_an_edit_before_anyone_asks(faq_dir):
    library = FaqLibrary(faq_dir, check_interval=0.2).watch()
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    deadline = time.monotonic() + 10
    while library.rebuilds < 2 and time.monotonic() < deadline:  # `rebuilds` does not look at the files
        time.sleep(0.05)
    assert library.rebuilds == 2 and library.wait(timeout=10)
    assert "500.000đ" in library._snapshot.by_id["delivery-fee"].answer["vi"]


class SlowBuilder:
    """Builds real indexes, but a rebuild waits until the test lets it finish."""

    def __init__(self):
        self.release = threading.Event()
        self.started = threading.Event()
        self.calls = 0

    def __call__(self, entries):
        self.calls += 1
        if self.calls > 1:  # the first build, in the constructor, is not held up
            self.started.set()
            assert self.release.wait(timeout=30)
        return FaqIndex(entries)


def test_the_previous_index_answers_while_a_rebuild_runs(faq_dir):
    builder = SlowBuilder()
    library = FaqLibrary(faq_dir, check_interval=0, builder=builder)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    # The question that notices the change is answered at once, by the old index.
    started = time.monotonic()
    matches = library.search("phi ship bao nhieu")
    assert matches[0].entry.id == "delivery-fee" and "300.000đ" in matches[0].entry.answer["vi"]
    assert builder.started.wait(timeout=10) and library.rebuilding
    for _ in range(5):
        assert "300.000đ" in library.get("delivery-fee").answer["vi"]
        assert library.search("mấy giờ mở cửa vậy")[0].entry.id == "opening-hours"
    assert time.monotonic() - started < 5  # nobody waited for the held-up rebuild
    builder.release.set()
    assert library.wait(timeout=10)
    assert "500.000đ" in library.get("delivery-fee").answer["vi"]
    assert "500.000đ" in library.search("phi ship bao nhieu")[0].entry.answer["vi"]


def test_a_change_during_a_rebuild_is_picked_up_after_it(faq_dir):
    builder = SlowBuilder()
    library = FaqLibrary(faq_dir, check_interval=0, builder=builder)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    library.search("phi ship")
    assert builder.started.wait(timeout=10)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "700.000đ"))
    library.search("phi ship")  # noticed while the first rebuild is still held up
    builder.release.set()
    deadline = time.monotonic() + 10
    while "700.000đ" not in library.get("delivery-fee").answer["vi"] and time.monotonic() < deadline:
        library.wait(timeout=1)
    assert "700.000đ" in library.get("delivery-fee").answer["vi"]


def test_a_failed_rebuild_keeps_the_previous_index(faq_dir, caplog):
    calls = []

    def failing_after_first(entries):
        calls.append(len(entries))
        if len(calls) > 1:
            raise MemoryError("no room for a second index")
        return FaqIndex(entries)

    library = FaqLibrary(faq_dir, check_interval=0, builder=failing_after_first)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    library.search("phi ship")
    assert library.wait(timeout=10)
    assert "300.000đ" in library.search("phi ship bao nhieu")[0].entry.answer["vi"]
    assert "FAQ rebuild failed" in caplog.text


def test_refresh_blocks_until_the_edit_is_served(faq_dir):
    library = FaqLibrary(faq_dir, check_interval=3600)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING.replace("300.000đ", "500.000đ"))
    library.refresh()
    assert "500.000đ" in library.get("delivery-fee").answer["vi"]


def test_a_broken_file_keeps_the_last_good_version(faq_dir, caplog):
    library = FaqLibrary(faq_dir, check_interval=0)
    touch_later(faq_dir / "giao-hang.yml", SHIPPING + "  - id: [broken\n")
    library.refresh()
    assert library.get("delivery-fee") is not None
    assert library.get("opening-hours") is not None
    assert library.problems and "giao-hang.yml" in str(library.problems[0])
    assert "FAQ not reloaded" in caplog.text


def test_a_file_broken_from_the_start_does_not_hide_the_others(faq_dir):
    (faq_dir / "giao-hang.yml").write_text("entries: [", encoding="utf-8")
    library = FaqLibrary(faq_dir)
    assert library.get("opening-hours") is not None
    assert library.get("delivery-fee") is None


def test_loader_reports_file_and_line(faq_dir):
    broken = SHIPPING.replace("      en: Delivery costs 30,000đ, free from 300,000đ.\n", "").replace(
        "  - id: cod", "  - id: COD!\n    colour: red")
    path = faq_dir / "giao-hang.yml"
    path.write_text(broken, encoding="utf-8")
    messages = [str(p) for p in load_file(path).problems]
    assert any(m.startswith("giao-hang.yml:") and "answer.en" in m for m in messages)
    assert any("id 'COD!'" in m for m in messages)
    assert any("unknown key 'colour'" in m and m.startswith("giao-hang.yml:") for m in messages)


def test_check_finds_duplicates_and_missing_languages(faq_dir):
    (faq_dir / "copy.yml").write_text(HOURS, encoding="utf-8")
    (faq_dir / "half.yml").write_text(
        HOURS.replace("opening-hours", "half").replace("      en: We are open 8:00–21:00 every day.\n", ""),
        encoding="utf-8",
    )
    errors, _ = check_directory(faq_dir)
    text = "\n".join(map(str, errors))
    assert "duplicate id 'opening-hours'" in text
    assert "answer.en is missing" in text


def test_check_finds_entries_that_answer_each_others_questions(faq_dir):
    twin = HOURS.replace("opening-hours", "hours-again")
    (faq_dir / "twin.yml").write_text(twin, encoding="utf-8")
    errors, _ = check_directory(faq_dir)
    assert any("answer each other's questions" in str(e) for e in errors)


def test_check_passes_a_clean_faq(faq_dir):
    errors, _ = check_directory(faq_dir)
    assert errors == []


def test_feedback_and_unanswered_questions_are_reported(faq_dir, db_factory):
    service = FaqService(FaqLibrary(faq_dir), db_factory)
    for question in ("Shop có bán thẻ cào không?", "shop co ban the cao khong", "Có trả góp không?"):
        service.record("unanswered", question, "vi", "s1")
    service.record("not_helpful", "phí ship về Cà Mau?", "vi", "s2", faq_id="delivery-fee")
    service.record("helpful", "mấy giờ mở cửa", "vi", "s3", faq_id="opening-hours")
    report = service.report()
    assert (report[0].count, report[0].kind) == (2, "unanswered")  # with and without diacritics count together
    assert {(r.kind, r.faq_id) for r in report} == {("unanswered", None), ("not_helpful", "delivery-fee")}
    assert all(r.kind != "helpful" for r in report)


def test_cli_check_and_report(faq_dir, sqlite_url, db_factory, monkeypatch, capsys):
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HOTRO_FAQ_DIR", str(faq_dir))
    registry.settings.cache_clear()
    registry.faq_library.cache_clear()
    try:
        assert cli.main(["faq", "check"]) == 0
        registry.faq().record("unanswered", "có trả góp không", "vi", "s1")
        assert cli.main(["faq", "report", "--json"]) == 0
        out = capsys.readouterr().out
        assert json.loads(out[out.index("["):])[0]["question"] == "có trả góp không"
        (faq_dir / "bad.yml").write_text("entries:\n  - id: x\n", encoding="utf-8")
        assert cli.main(["faq", "check"]) == 1
        assert "bad.yml:2: entry is missing 'questions'" in capsys.readouterr().out
    finally:
        registry.settings.cache_clear()
        registry.faq_library.cache_clear()


def _match(id, score, similarity):
    from bot.faq.index import FaqMatch
    from bot.faq.loader import FaqEntry

    return FaqMatch(FaqEntry(id, {"vi": ("q",), "en": ("q",)}, {"vi": "a", "en": "a"}, None), score, similarity)


def test_decide_answers_only_a_clear_winner():
    assert decide([_match("a", 0.7, 0.6), _match("b", 0.1, 0.3)]).kind == "answer"
    # Two entries nearly tied: the customer chooses.
    tied = decide([_match("a", 0.45, 0.5), _match("b", 0.40, 0.5), _match("c", 0.05, 0.1)])
    assert tied.kind == "suggest" and [e.id for e in tied.suggestions] == ["a", "b"]
    # Probable but unlike any example question: offered, not asserted.
    assert decide([_match("a", 0.8, 0.19)]).kind == "suggest"
    assert decide([_match("a", 0.8, 0.1)]).kind == "none"


def test_concepts_join_languages_and_spellings():
    from bot.faq.lexicon import concept_text

    assert "c_refund" in concept_text("hoàn tiền mất bao lâu") and "c_refund" in concept_text("get my money back")
    assert concept_text("phí ship") == concept_text("phi ship")
    assert {"c_howmuch", "c_ship"} <= set(concept_text("tiền ship bao nhiêu").split())
    assert "c_password" in concept_text("quen mk roi") and "c_forget" in concept_text("forgot my password")
    assert "shop" not in concept_text("shop ơi cho mình hỏi")  # filler words carry no meaning


def test_broken_is_not_read_as_no():
    from bot.faq.lexicon import concept_text

    # "hỏng" (broken) folds to "hong"; only "hông" with its accent is chat for "không".
    assert "c_damaged" in concept_text("hàng bị hỏng") and "c_damaged" in concept_text("hang bi hong")
    assert "c_damaged" not in concept_text("đổi được hông shop") and "hong" not in concept_text("đổi được hông")


def test_cross_validation_holds_each_question_out(faq_dir, capsys):
    from bot.faq.evaluate import cross_validate

    # Letters found in one question only (no other question or answer has them) cannot be
    # learned once that question is held out: it finds nothing, so it must count as a miss.
    shipping = (faq_dir / "giao-hang.yml").read_text(encoding="utf-8")
    (faq_dir / "giao-hang.yml").write_text(shipping.replace("Shop có COD không?", "Ωψξζ λμ?"), encoding="utf-8")
    result = cross_validate(faq_dir, folds=2)
    entries = FaqLibrary(faq_dir).entries
    vi = sum(len(e.questions["vi"]) for e in entries)
    en = sum(len(e.questions["en"]) for e in entries)
    assert result.total == {"vi": vi, "vi_khong_dau": vi, "en": en}
    assert sum(result.top1.values()) + len(result.misses) == 2 * vi + en
    assert any(text == "Ωψξζ λμ?" and predicted == "-" for _, _, predicted, text in result.misses)
    assert result.top1["en"] >= 1  # held-out English questions are still found through the others
    assert cli.main(["faq", "cv", "--dir", str(faq_dir)]) == 0
    assert "vi_khong_dau" in capsys.readouterr().out


def test_faq_questions_can_be_exported_as_nlu_examples(faq_dir, tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.faq.nlu_export import export

    path, count = export(faq_dir, tmp_path / "faq_generated.yml")
    examples = load_data(str(path)).intent_examples
    assert count == len(examples) > 0
    assert {e.get("intent") for e in examples} == {"faq"}
    assert "phi ship bao nhieu?" in {e.get("text") for e in examples}  # the folded form is added too
