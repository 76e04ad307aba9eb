"""NPS and CES on the running stack: asked when their rules say, answered by typing, stored, and shown to staff."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.db import session_factory, session_scope
from bot.store.models import SurveyAnswer
from tests.integration.conftest import staff_api


def survey_rows(stack, sender):
    with session_scope(session_factory(stack.db_url)) as session:
        return [(r.kind, r.score, r.ticket_code) for r in session.execute(
            select(SurveyAnswer).where(SurveyAnswer.sender_id == sender).order_by(SurveyAnswer.id)).scalars()]


async def until(ws, wanted, timeout=30):
    """The next frame the widget receives that `wanted` accepts (bot replies may come as several frames)."""
    while True:
        frame = await ws.receive_json(timeout=timeout)
        if wanted(frame):
            return frame


def test_nps_after_a_resolved_complaint_typed_stored_and_shown(stack):
    import aiohttp

    from tests.serving import new_widget_chat, widget_socket

    factory = session_factory(stack.db_url)
    staff = StaffService(factory)
    staff.add("nps.mai", "correct horse battery", "Mai")
    token = staff.issue_token("nps.mai")
    headers = {"Authorization": f"Bearer {token}"}
    before = staff_api(stack, "GET", "/api/kpis?days=1", token)["nps"]["answers"]

    async def main():
        async with aiohttp.ClientSession() as session:
            sender, secret = await new_widget_chat(session, stack.gateway_url)
            async with widget_socket(session, stack.gateway_url, sender, secret) as ws:
                await ws.receive_json(timeout=10)  # history
                await ws.send_json({"type": "message", "text": "xin chào shop"})
                await ws.receive_json(timeout=30)
                ticket, _ = TicketService(factory).open(ComplaintSubmission(
                    f"nps-{sender}", sender, "web", "vi", "DH100003", True, "damaged", "hàng bị vỡ", None))
                base = f"{stack.gateway_url}/api/conversations/{sender}"
                await session.post(f"{base}/claim", headers=headers)
                await session.post(f"{base}/messages", headers=headers, json={"text": "Shop đã gửi hàng mới cho chị ạ"})
                await until(ws, lambda f: f.get("author") == "staff")
                TicketService(factory).set_status(ticket.code, "resolved", "nps.mai", "đã gửi hàng thay thế")
                await session.post(f"{base}/release", headers=headers)
                await until(ws, lambda f: [b["title"] for b in f.get("buttons") or []] == ["1", "2", "3", "4", "5"])
                await ws.send_json({"type": "message", "text": "5 sao"})  # the CSAT rating, typed
                nps_question = await until(ws, lambda f: len(f.get("buttons") or []) == 11)
                await ws.send_json({"type": "message", "text": "mười điểm"})
                thanks = await until(ws, lambda f: f.get("author") == "bot")
        return sender, ticket.code, nps_question, thanks

    sender, code, question, thanks = asyncio.run(asyncio.wait_for(main(), 150))
    assert "giới thiệu shop" in question["text"]
    assert [b["title"] for b in question["buttons"]] == [str(i) for i in range(11)]
    assert "Cảm ơn bạn đã trả lời" in thanks["text"]
    assert survey_rows(stack, sender) == [("nps", 10, code)]
    # Shown to staff: the figure, and the week's point on the NPS chart.
    figures = staff_api(stack, "GET", "/api/kpis?days=1", token)
    assert figures["nps"]["answers"] == before + 1 and figures["nps"]["high"] >= 1
    chart = [c for c in staff_api(stack, "GET", "/api/charts?days=7", token)["charts"] if c["id"] == "nps"][0]
    assert chart["series"][0]["values"][-1] is not None and "0–10" in chart["definition"]


def test_ces_after_a_helpful_faq_answer_typed_in_words_and_not_asked_twice(chat, stack):
    c = chat("ces-typed", via_gateway=True)
    c.say("Phí ship bao nhiêu vậy shop?")
    thumbs = [b for b in c.buttons() if b["title"] == "👍"]
    assert thumbs, "an FAQ answer offers 👍 / 👎"
    reply = c.say(thumbs[0]["payload"])
    assert "dễ dàng" in reply and [b["title"] for b in c.buttons()] == ["1", "2", "3", "4", "5"]
    assert "Cảm ơn bạn đã trả lời" in c.say("rất dễ")
    assert survey_rows(stack, "ces-typed") == [("ces", 5, None)]
    # Another helpful answer the same day: thanked, not asked again (once per HOTRO_CES_PERIOD_DAYS).
    c.say("Shop ơi giao hàng mất mấy ngày vậy?")
    thumbs = [b for b in c.buttons() if b["title"] == "👍"]
    reply = c.say(thumbs[0]["payload"])
    assert "dễ dàng" not in reply and not c.buttons()
    assert survey_rows(stack, "ces-typed") == [("ces", 5, None)]
