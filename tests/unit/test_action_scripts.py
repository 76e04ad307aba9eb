"""Action scripts: the files in scripts/, their check, placeholders, and ticks recorded on a ticket."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from bot import action_scripts
from bot.action_scripts import ScriptError, check_directory, fill, load_scripts
from bot.categories import CATEGORIES
from bot.config import ROOT
from bot.parsers import ticket_id_from_code
from bot.services.action_scripts import ActionScriptService, StepError
from bot.services.tickets import ComplaintSubmission, TicketError, TicketService
from bot.store.db import session_scope
from bot.store.models import Customer, Order
from tests.serving import Clock


@pytest.fixture
def scripts(tmp_path):
    directory = tmp_path / "scripts"
    shutil.copytree(ROOT / "scripts", directory)
    return directory


def test_the_shop_scripts_cover_every_category_and_pass_the_check():
    assert check_directory(ROOT / "scripts") == []
    loaded = load_scripts(ROOT / "scripts")
    assert set(loaded) == set(CATEGORIES)
    damaged = loaded["damaged"]
    assert {"ask-photos", "check-carrier", "offer-remedy"} <= set(damaged.step_ids())
    assert all(reply.text["vi"] and reply.text["en"] for script in loaded.values() for reply in script.replies)


def test_the_check_names_each_mistake(scripts):
    (scripts / "damaged.yml").write_text(
        "category: damaged\n"
        "steps:\n  - {id: ask-photos, vi: Xin ảnh}\n  - {id: ask-photos, vi: a, en: b}\n"
        "replies:\n  - {id: hi, title: Chào, vi: 'Chào {ten_khach}', en: 'Hi {customer_name'}\n",
        encoding="utf-8")
    (scripts / "late.yml").write_text((scripts / "late_delivery.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (scripts / "late_delivery.yml").unlink()
    (scripts / "other.yml").write_text("- not a mapping\n", encoding="utf-8")
    problems = "\n".join(check_directory(scripts))
    assert "step 'ask-photos': 'en' must be non-empty text" in problems
    assert "id 'ask-photos' is used twice in steps" in problems
    assert "unknown placeholder {ten_khach}" in problems
    assert "reply 'hi' (en)" in problems  # the unclosed brace
    assert "late.yml: the file of category 'late_delivery' must be named late_delivery.yml" in problems
    assert "other.yml: must be a mapping" in problems
    with pytest.raises(ScriptError):
        load_scripts(scripts)
    assert action_scripts.main(["check", str(scripts)]) == 1
    assert action_scripts.main(["check", str(ROOT / "scripts")]) == 0
    assert action_scripts.main([]) == 2
    assert check_directory(scripts / "missing") == [f"{scripts / 'missing'}: no such folder (HOTRO_SCRIPTS_DIR)"]


def test_fill_replaces_known_values_and_keeps_the_missing_ones_visible():
    text = "Chào {customer_name}, phiếu {ticket_code}, đơn {order_number}, hạn {resolve_due}."
    filled, missing = fill(text, {"ticket_code": "KN-000007", "order_number": None, "customer_name": "",
                                  "resolve_due": "10h00 ngày 05/12/2026"}, "vi")
    assert filled == "Chào anh/chị, phiếu KN-000007, đơn {order_number}, hạn 10h00 ngày 05/12/2026."
    assert missing == ["order_number"]
    assert fill("Hi {customer_name}", {"customer_name": "Lan"}, "en") == ("Hi Lan", [])
    assert fill("Hi {customer_name}", {}, "en") == ("Hi there", [])


def _damaged_ticket(factory, clock) -> str:
    with session_scope(factory) as session:
        customer = Customer(name="Nguyễn Thị Mai", phone="0912345678")
        session.add(customer)
        session.flush()
        session.add(Order(number="DH200001", customer_id=customer.id, items="Bình hoa"))
        customer_id = customer.id
    ticket, _ = TicketService(factory, clock).open(ComplaintSubmission(
        "k-1", "web-mai", "web", "vi", "DH200001", True, "damaged", "Bình hoa bị vỡ", "0912345678",
        customer_id=customer_id))
    return ticket.code


def test_a_damaged_ticket_gets_its_script_with_the_replies_filled_in(db_factory, scripts):
    clock = Clock(datetime(2026, 12, 1, 3, 0))
    code = _damaged_ticket(db_factory, clock)
    service = ActionScriptService(db_factory, scripts, clock)
    script = service.for_ticket(code)
    assert script["category"] == "damaged" and script["ticket"] == code and script["language"] == "vi"
    assert script["category_label"]["vi"] == "Hàng bị hư hỏng, vỡ, lỗi"
    assert [s["id"] for s in script["steps"]][:3] == ["ask-photos", "check-carrier", "offer-remedy"]
    assert not any(s["done"] for s in script["steps"])
    first = script["replies"][0]
    assert first["vi"]["missing"] == [] and first["en"]["missing"] == []
    assert "Nguyễn Thị Mai" in first["vi"]["text"] and "DH200001" in first["vi"]["text"]
    assert code in first["vi"]["text"] and "{" not in first["vi"]["text"]
    remedy = next(r for r in script["replies"] if r["id"] == "offer-remedy")
    # The promised time in Vietnam time, in each language's format (priority normal: 48 h after 03:00 UTC).
    assert "10h00 ngày 03/12/2026" in remedy["vi"]["text"] and "10:00, 03/12/2026" in remedy["en"]["text"]


def test_ticks_are_recorded_on_the_ticket_with_who_and_when(db_factory, scripts):
    clock = Clock(datetime(2026, 12, 1, 3, 0))
    code = _damaged_ticket(db_factory, clock)
    service = ActionScriptService(db_factory, scripts, clock)
    clock.advance(minutes=5)
    service.mark(code, "ask-photos", True, "thu")
    clock.advance(minutes=5)
    service.mark(code, "check-carrier", True, "thu")
    service.mark(code, "check-carrier", False, "lan")
    steps = {s["id"]: s for s in service.for_ticket(code)["steps"]}
    assert steps["ask-photos"]["done"] and steps["ask-photos"]["by"] == "thu"
    assert steps["ask-photos"]["at"] == "2026-12-01T03:05:00Z"
    assert not steps["check-carrier"]["done"] and steps["check-carrier"]["by"] == "lan"
    assert not steps["offer-remedy"]["done"] and steps["offer-remedy"]["by"] is None
    # Kept in the database, not in the service.
    assert ActionScriptService(db_factory, scripts).marks(code)["ask-photos"].done
    other, _ = TicketService(db_factory, clock).open(ComplaintSubmission(
        "k-2", "web-mai-2", "web", "vi", None, False, "other", "hỏi chút", None))
    assert service.progress([(ticket_id_from_code(code), "damaged"), (other.id, "other")]) == {
        ticket_id_from_code(code): {"done": 1, "total": 4}, other.id: {"done": 0, "total": 3}}
    with pytest.raises(StepError, match="no step 'call-the-police'"):
        service.mark(code, "call-the-police", True, "thu")
    with pytest.raises(TicketError):
        service.mark("KN-999999", "ask-photos", True, "thu")
    with pytest.raises(TicketError):
        service.for_ticket("KN-999999")


def test_an_edited_script_shows_at_once(db_factory, scripts):
    code = _damaged_ticket(db_factory, Clock())
    service = ActionScriptService(db_factory, scripts)
    text = (scripts / "damaged.yml").read_text(encoding="utf-8")
    (scripts / "damaged.yml").write_text(text.replace("  - id: confirm-plan", "  - id: call-back\n"
                                                      "    vi: Gọi lại cho khách\n    en: Call the customer back\n"
                                                      "  - id: confirm-plan"), encoding="utf-8")
    assert "call-back" in [s["id"] for s in service.for_ticket(code)["steps"]]
    service.mark(code, "call-back", True, "thu")
