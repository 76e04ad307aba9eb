"""Editing the FAQ files from the desk: validation like `faq check`, comments kept, history, conflicts, hostile input."""
import os
import stat
import threading

import pytest
import yaml

from bot.faq.library import FaqLibrary
from bot.faq.loader import load_file
from bot.services.faq import FaqService
from bot.services.faq_editor import (
    EntryNotFound, FaqConflict, FaqEditor, FaqInvalid, try_question, work_list,
)
from tests.unit.test_faq import SHIPPING

COMMENTED = """\
# Liên hệ / Contact
entries:
  # giờ làm việc: xem lại mỗi Tết
  - id: opening-hours
    reviewed: 2026-11-20
    tags: [lien-he, contact]   # shown to nobody
    questions:
      vi:
        - Shop làm việc mấy giờ?
        - Mấy giờ shop mở cửa?
      en:
        - What are your opening hours?
        - When are you open?
    answer:
      vi: |
        Shop làm việc 8:00–21:00 mỗi ngày.
      en: |
        We are open 8:00–21:00 every day.

  - id: hotline
    reviewed: 2026-11-20
    questions:
      vi:
        - Số hotline của shop là gì?
        - Tổng đài chăm sóc khách hàng số mấy?
      en:
        - What is your hotline number?
    answer:
      vi: "Hotline: 1900 1234."
      en: "Hotline: 1900 1234."
    links:
      - title: Liên hệ
        url: https://shop.example.vn/lien-he
"""

WHOLESALE = {
    "id": "wholesale-discount",
    "questions": {"vi": ["Mua sỉ có được giảm giá không?", "Đặt số lượng lớn thì giá thế nào?"],
                  "en": ["Do you give discounts for bulk orders?"]},
    "answer": {"vi": "Đơn từ 50 sản phẩm được giảm 10%.", "en": "Orders of 50 items or more get 10% off."},
    "tags": ["khuyen-mai"],
    "links": [{"title": "Mua sỉ", "url": "https://shop.example.vn/mua-si"}],
}


@pytest.fixture
def faq_dir(tmp_path):
    d = tmp_path / "faq"
    d.mkdir()
    (d / "giao-hang.yml").write_text(SHIPPING, encoding="utf-8")
    (d / "lien-he.yml").write_text(COMMENTED, encoding="utf-8")
    return d


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix in (".yml", ".yaml")}


def test_a_new_entry_is_appended_checked_and_served(faq_dir, any_db_factory):
    library = FaqLibrary(faq_dir, check_interval=0, background=False)
    assert library.get("wholesale-discount") is None
    saved = FaqEditor(faq_dir, any_db_factory).create("khuyen-mai", WHOLESALE, "hoa", topic_title="Khuyến mãi / Promotions")
    text = (faq_dir / "khuyen-mai.yml").read_text(encoding="utf-8")
    assert text.startswith("# Khuyến mãi / Promotions\nentries:\n  - id: wholesale-discount\n")
    assert "    answer:\n      vi: |\n        Đơn từ 50 sản phẩm được giảm 10%.\n" in text
    assert load_file(faq_dir / "khuyen-mai.yml").problems == []
    assert saved.entry.topic == "khuyen-mai" and saved.entry.entry["questions"] == WHOLESALE["questions"]
    # The bot's library notices the file by itself: what customers get within seconds.
    served = library.get("wholesale-discount")
    assert served.answer["vi"] == "Đơn từ 50 sản phẩm được giảm 10%."
    assert [tuple(link) for link in served.links] == [("Mua sỉ", "https://shop.example.vn/mua-si")]
    assert library.search("Mua sỉ có được giảm giá không?")[0].entry.id == "wholesale-discount"
    # In an existing file: after the last entry, with the blank line the other entries have.
    FaqEditor(faq_dir, any_db_factory).create("lien-he", dict(WHOLESALE, id="store-visit", questions={
        "vi": ["Shop có cửa hàng để xem trực tiếp không?", "Tôi đến cửa hàng thử đồ được không?"],
        "en": ["Do you have a physical store?"]}, answer={"vi": "Shop chỉ bán online.", "en": "We only sell online."},
        links=[]), "hoa")
    after = (faq_dir / "lien-he.yml").read_text(encoding="utf-8")
    assert after.startswith(COMMENTED) and after[len(COMMENTED):].startswith("\n  - id: store-visit\n")


def test_an_edit_changes_only_its_lines_and_keeps_comments(faq_dir, db_factory):
    editor = FaqEditor(faq_dir, db_factory)
    current = editor.get("opening-hours")
    assert current.topic == "lien-he" and current.entry["answer"]["vi"] == "Shop làm việc 8:00–21:00 mỗi ngày."
    body = dict(current.entry, answer={"vi": "Shop làm việc 8:00–22:00 mỗi ngày.",
                                       "en": current.entry["answer"]["en"]})
    editor.update("opening-hours", current.version, body, "hoa")
    before, after = COMMENTED.splitlines(), (faq_dir / "lien-he.yml").read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after)
    assert [b for _, b in changed][1:] == ["        Shop làm việc 8:00–22:00 mỗi ngày."]
    assert changed[0][1].startswith("    reviewed: ")  # saving is reviewing: today's date
    assert "  # giờ làm việc: xem lại mỗi Tết" in after and "    tags: [lien-he, contact]   # shown to nobody" in after
    assert '      vi: "Hotline: 1900 1234."' in after  # the other entry keeps its quoting


def test_a_save_the_faq_check_refuses_changes_nothing_and_names_the_field(faq_dir, db_factory):
    editor = FaqEditor(faq_dir, db_factory)
    before = snapshot(faq_dir)
    current = editor.get("opening-hours")
    with pytest.raises(FaqInvalid) as refused:
        editor.update("opening-hours", current.version, dict(current.entry, answer={"vi": "Mở 8:00.", "en": "  "}), "hoa")
    assert list(refused.value.fields) == ["answer.en"]
    assert "answer.en is missing or empty" in refused.value.fields["answer.en"][0]
    with pytest.raises(FaqInvalid) as refused:
        editor.update("opening-hours", current.version, dict(current.entry, questions={"vi": [], "en": ["When?"]}), "hoa")
    assert "questions.vi needs at least one question" in refused.value.fields["questions.vi"][0]
    # Another entry's questions word for word: the two would answer each other's questions.
    twin = dict(WHOLESALE, id="hours-again", questions={"vi": ["Shop làm việc mấy giờ?", "Mấy giờ shop mở cửa?"],
                                                        "en": ["What are your opening hours?"]})
    with pytest.raises(FaqInvalid) as refused:
        editor.create("lien-he", twin, "hoa")
    assert "answer each other's questions" in refused.value.fields["questions.vi"][0]
    assert refused.value.fields["questions.vi"][0].startswith("question 1: ")
    with pytest.raises(FaqInvalid) as refused:
        editor.create("lien-he", dict(WHOLESALE, id="hotline"), "hoa")
    assert "already an entry" in refused.value.fields["id"][0]
    assert snapshot(faq_dir) == before and editor.history("opening-hours") == []


@pytest.mark.parametrize("field, value, where", [
    # YAML written by hand from editor text would become keys or a second entry; dumped by the library it is text.
    ("questions", {"vi": ["x\n  - id: evil", "Hỏi gì?"], "en": ["ok?"]}, "questions.vi"),
    ("questions", {"vi": ["a\u202eb", "Hỏi gì?"], "en": ["ok?"]}, "questions.vi"),
    ("questions", {"vi": ["x" * 301, "Hỏi gì?"], "en": ["ok?"]}, "questions.vi"),
    ("questions", {"vi": ["Hỏi gì?"] * 101, "en": ["ok?"]}, "questions.vi"),
    ("answer", {"vi": "x" * 4001, "en": "y"}, "answer.vi"),
    ("answer", {"vi": "ok\x1b[31m", "en": "y"}, "answer.vi"),
    ("answer", {"vi": "ok", "en": "a\u2028  - id: evil"}, "answer.en"),
    ("questions", {"vi": ["half \ud800 a character", "Hỏi gì?"], "en": ["ok?"]}, "questions.vi"),
    ("answer", {"vi": ["not", "text"], "en": "y"}, "answer.vi"),
    ("tags", ["a, b"], "tags"),
    ("tags", "khuyen-mai", "tags"),
    ("links", [{"title": "x", "url": "javascript:alert(1)"}], "links"),
    ("links", [{"title": "x", "url": "https://a.vn/\nb"}], "links"),
    ("links", [{"title": "x", "url": "https://a.vn", "onclick": "y"}], "links"),
    ("colour", "red", "entry"),
])
def test_hostile_or_oversized_input_is_refused_before_any_yaml(faq_dir, db_factory, field, value, where):
    before = snapshot(faq_dir)
    with pytest.raises(FaqInvalid) as refused:
        FaqEditor(faq_dir, db_factory).create("khuyen-mai", dict(WHOLESALE, **{field: value}), "hoa")
    assert where in refused.value.fields
    assert snapshot(faq_dir) == before


@pytest.mark.parametrize("topic", ["../faq2", "a/b", ".hidden", "/etc/passwd", "Giao Hang", "x" * 61, ""])
def test_a_topic_is_a_plain_file_name_inside_the_folder(faq_dir, db_factory, topic):
    with pytest.raises(FaqInvalid) as refused:
        FaqEditor(faq_dir, db_factory).create(topic, WHOLESALE, "hoa")
    assert "topic" in refused.value.fields
    # (hotro.db's -wal and -shm: SQLite's own files while a connection is open)
    assert sorted(p.name for p in faq_dir.parent.iterdir() if not p.name.endswith(("-wal", "-shm"))) == \
        ["faq", "hotro.db"]
    assert sorted(p.name for p in faq_dir.iterdir()) == ["giao-hang.yml", "lien-he.yml"]


@pytest.mark.parametrize("entry_id", ["Wholesale", "a b", "../x", "x" * 81, "", 7])
def test_an_id_is_lowercase_letters_digits_and_dashes(faq_dir, db_factory, entry_id):
    with pytest.raises(FaqInvalid) as refused:
        FaqEditor(faq_dir, db_factory).create("khuyen-mai", dict(WHOLESALE, id=entry_id), "hoa")
    assert "id" in refused.value.fields


def test_a_question_that_looks_like_yaml_stays_a_question(faq_dir, db_factory):
    tricky = ["Giá: bao nhiêu # thật không?", "- id: evil", "null", "'quoted' \"twice\"", "{a: b}"]
    FaqEditor(faq_dir, db_factory).create("khuyen-mai", dict(WHOLESALE, questions={"vi": tricky, "en": ["yes"]}), "hoa")
    data = yaml.safe_load((faq_dir / "khuyen-mai.yml").read_text(encoding="utf-8"))
    assert [e["id"] for e in data["entries"]] == ["wholesale-discount"]
    assert data["entries"][0]["questions"] == {"vi": tricky, "en": ["yes"]}


def test_two_editors_on_one_entry_the_second_gets_a_conflict(faq_dir, any_db_factory):
    editor = FaqEditor(faq_dir, any_db_factory)
    opened = editor.get("opening-hours")
    first = dict(opened.entry, answer={"vi": "Mở 7:00–22:00.", "en": "Open 7:00–22:00."})
    second = dict(opened.entry, answer={"vi": "Mở 9:00–18:00.", "en": "Open 9:00–18:00."})
    editor.update("opening-hours", opened.version, first, "hoa")
    with pytest.raises(FaqConflict) as conflict:
        editor.update("opening-hours", opened.version, second, "minh")
    assert conflict.value.current.entry["answer"]["vi"] == "Mở 7:00–22:00."
    assert editor.get("opening-hours").entry["answer"]["vi"] == "Mở 7:00–22:00."
    # A change by hand in the file counts as a change too.
    now = editor.get("opening-hours")
    path = faq_dir / "lien-he.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("Mở 7:00–22:00.", "Mở 7:30–22:00."), encoding="utf-8")
    with pytest.raises(FaqConflict):
        editor.update("opening-hours", now.version, second, "minh")
    with pytest.raises(FaqConflict):
        editor.update("opening-hours", None, second, "minh")


def test_simultaneous_saves_of_one_version_one_wins(faq_dir, db_factory):
    opened = FaqEditor(faq_dir, db_factory).get("opening-hours")
    outcomes = []

    def save(n):
        try:
            FaqEditor(faq_dir, db_factory).update(
                "opening-hours", opened.version, dict(opened.entry, answer={"vi": f"Mở {n}.", "en": f"Open {n}."}), f"e{n}")
            outcomes.append("saved")
        except FaqConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "saved"]
    assert len(FaqEditor(faq_dir, db_factory).history("opening-hours")) == 1


def test_history_records_who_and_what_and_restores_an_earlier_version(faq_dir, any_db_factory):
    editor = FaqEditor(faq_dir, any_db_factory)
    created = editor.create("khuyen-mai", WHOLESALE, "hoa")
    changed = editor.update("wholesale-discount", created.entry.version,
                            dict(WHOLESALE, answer={"vi": "Giảm 15% từ 100 sản phẩm.", "en": "15% off from 100 items."}),
                            "minh")
    history = editor.history("wholesale-discount")
    assert [(r.action, r.author) for r in history] == [("update", "minh"), ("create", "hoa")]
    assert history[0].before["entry"]["answer"]["vi"] == "Đơn từ 50 sản phẩm được giảm 10%."
    assert history[0].after["entry"]["answer"]["vi"] == "Giảm 15% từ 100 sản phẩm."
    assert history[1].before is None and history[1].after["topic"] == "khuyen-mai"
    restored = editor.restore("wholesale-discount", history[1].id, changed.entry.version, "hoa")
    assert restored.entry.entry["answer"]["vi"] == "Đơn từ 50 sản phẩm được giảm 10%."
    assert editor.history("wholesale-discount")[0].action == "restore"
    with pytest.raises(FaqConflict):  # restoring from a stale page is a conflict like any save
        editor.restore("wholesale-discount", history[0].id, changed.entry.version, "minh")
    with pytest.raises(EntryNotFound):
        editor.restore("opening-hours", history[0].id, None, "minh")  # another entry's revision


def test_a_retired_entry_leaves_its_file_and_can_come_back(faq_dir, any_db_factory):
    editor = FaqEditor(faq_dir, any_db_factory)
    library = FaqLibrary(faq_dir, check_interval=0, background=False)
    hotline = editor.get("hotline")
    retired = editor.retire("hotline", hotline.version, "hoa")
    assert library.get("hotline") is None and library.get("opening-hours") is not None
    assert (faq_dir / "lien-he.yml").read_text(encoding="utf-8").rstrip("\n") == COMMENTED.split("\n\n  - id: hotline")[0]
    assert [r.faq_id for r in editor.retired()] == ["hotline"]
    with pytest.raises(FaqConflict):
        editor.update("hotline", hotline.version, hotline.entry, "minh")
    with pytest.raises(FaqInvalid):
        editor.create("lien-he", dict(WHOLESALE, id="hotline"), "minh")  # a retired id is restored, not reused
    editor.restore("hotline", retired.id, None, "minh")
    assert [tuple(link) for link in library.get("hotline").links] == [("Liên hệ", "https://shop.example.vn/lien-he")]
    assert editor.retired() == []


def test_the_file_keeps_its_permissions_and_no_temporary_file_stays(faq_dir, db_factory):
    path = faq_dir / "lien-he.yml"
    os.chmod(path, 0o640)
    current = FaqEditor(faq_dir, db_factory).get("opening-hours")
    FaqEditor(faq_dir, db_factory).update("opening-hours", current.version, current.entry, "hoa")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in faq_dir.iterdir()) == [".faq-editor.lock", "giao-hang.yml", "lien-he.yml"]
    FaqEditor(faq_dir, db_factory).create("mua-si", WHOLESALE, "hoa")
    assert stat.S_IMODE((faq_dir / "mua-si.yml").stat().st_mode) == 0o644  # readable by the bot's other processes


def test_search_by_words_and_topic(faq_dir, db_factory):
    editor = FaqEditor(faq_dir, db_factory)
    assert [e["id"] for _, e in editor.search("phi ship")] == ["delivery-fee"]  # without diacritics
    assert [e["id"] for _, e in editor.search("", "lien-he")] == ["opening-hours", "hotline"]
    assert [(t.name, t.title) for t in editor.topics()] == [("giao-hang", ""), ("lien-he", "Liên hệ / Contact")]
    with pytest.raises(EntryNotFound):
        editor.get("nothing-here")


def test_a_file_broken_by_hand_is_shown_not_edited(faq_dir, db_factory):
    (faq_dir / "hong.yml").write_text("entries: [\n", encoding="utf-8")
    editor = FaqEditor(faq_dir, db_factory)
    assert "not valid YAML" in {t.name: t.problem for t in editor.topics()}["hong"]
    with pytest.raises(FaqInvalid) as refused:
        editor.create("hong", WHOLESALE, "hoa")
    assert "fix the file by hand" in refused.value.fields["entry"][0]
    current = editor.get("opening-hours")  # the other files are still edited
    editor.update("opening-hours", current.version, current.entry, "hoa")


# -- try a question, and the report as work -------------------------------------------------------------


def test_try_a_question_shows_the_decision_and_ranked_scores(faq_dir, db_factory):
    service = FaqService(FaqLibrary(faq_dir), db_factory)
    tried = try_question(service, "Phí ship bao nhiêu?")
    assert tried["decision"] == "answer" and tried["entry"] == "delivery-fee"
    assert tried["ranked"][0]["id"] == "delivery-fee" and 0 < tried["ranked"][0]["score"] <= 1
    assert tried["ranked"][0]["score"] >= tried["ranked"][-1]["score"]
    assert try_question(service, "con mèo đang ngủ trên mái nhà")["decision"] == "none"


def test_the_report_becomes_work_masked_and_done_when_added(faq_dir, any_db_factory):
    service = FaqService(FaqLibrary(faq_dir, check_interval=0, background=False), any_db_factory)
    editor = FaqEditor(faq_dir, any_db_factory)
    for sender in ("s1", "s2", "s3"):
        service.record("unanswered", "con mèo đang ngủ trên mái nhà, gọi 0912 345 678", "vi", sender)
    for sender in ("s4", "s5"):
        service.record("picked", "ship bao lâu thì tới", "vi", sender, faq_id="delivery-fee")
    service.record("not_helpful", "do you ship to Laos? mail me at lan@example.com", "en", "s6", faq_id="delivery-fee")
    service.record("unanswered", "tiền ship ra đảo Phú Quốc hết bao nhiêu", "vi", "s7")
    service.record("helpful", "phí ship?", "vi", "s8", faq_id="delivery-fee")
    items = work_list(service, editor)
    assert [(i.kind, i.count) for i in items] == [("unanswered", 3), ("picked", 2), ("not_helpful", 1),
                                                  ("unanswered", 1)]
    unrelated, picked, thumbs_down, close = items
    assert "0912 345 678" not in unrelated.question and "0912***678" in unrelated.question
    assert "lan@example.com" not in thumbs_down.question and thumbs_down.language == "en"
    assert unrelated.action == "new_entry"  # nothing in the FAQ is near: a new topic
    assert (close.action, close.entry) == ("add_example", "delivery-fee")  # the entry the FAQ leans to
    assert (picked.action, picked.entry) == ("add_example", "delivery-fee")
    assert (thumbs_down.action, thumbs_down.faq_id) == ("new_entry", "delivery-fee")
    # The editor adds the picked wording as an example question: that line is done.
    fee = editor.get("delivery-fee")
    questions = dict(fee.entry["questions"], vi=fee.entry["questions"]["vi"] + [picked.question])
    editor.update("delivery-fee", fee.version, dict(fee.entry, questions=questions), "hoa")
    assert [i.kind for i in work_list(service, editor)] == ["unanswered", "not_helpful", "unanswered"]
