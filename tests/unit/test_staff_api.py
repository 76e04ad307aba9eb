"""Staff accounts and the staff API on a real HTTP port (Rasa not needed here)."""
import asyncio
import io
from datetime import timedelta

import aiohttp
import pytest

from bot import cli
from tests.serving import gateway_app, serve
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.services.staff import StaffError, StaffService, hash_password, password_matches
from bot.services.tickets import ComplaintSubmission, TicketService


def test_passwords_are_salted_hashes(any_db_factory):
    stored = hash_password("mật khẩu dài 123")
    assert "mật khẩu" not in stored and stored != hash_password("mật khẩu dài 123")
    assert password_matches("mật khẩu dài 123", stored) and not password_matches("wrong password", stored)
    service = StaffService(any_db_factory)
    service.add("lan", "correct horse battery", "Lan Nguyễn")
    assert service.check_password("lan", "correct horse battery").display_name == "Lan Nguyễn"
    assert service.check_password("lan", "nope nope nope") is None
    assert service.check_password("nobody", "correct horse battery") is None
    with pytest.raises(StaffError):
        service.add("lan", "another long password")
    with pytest.raises(StaffError):
        service.add("minh", "short")


def test_tokens_identify_staff_and_are_not_stored(db_factory):
    service = StaffService(db_factory)
    service.add("lan", "correct horse battery")
    token = service.issue_token("lan")
    assert service.by_token(token).name == "lan"
    assert service.by_token(token + "x") is None and service.by_token(None) is None
    with pytest.raises(StaffError):
        service.issue_token("nobody")


def test_cli_adds_staff_and_prints_a_token(sqlite_url, db_factory, monkeypatch, capsys):
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    registry.settings.cache_clear()
    try:
        assert cli.main(["staff", "add", "minh", "--password-stdin"]) == 0
        assert cli.main(["staff", "token", "minh"]) == 0
        token = capsys.readouterr().out.strip().splitlines()[-1]
        assert StaffService(db_factory).by_token(token).name == "minh"
        assert cli.main(["staff", "token", "ghost"]) == 1
    finally:
        registry.settings.cache_clear()



class Api:
    def __init__(self, session, base, token):
        self.session, self.base, self.token = session, base, token

    async def call(self, method, path, body=None, token="default"):
        headers = {}
        token = self.token if token == "default" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(method, self.base + path, json=body, headers=headers) as response:
            return response.status, await response.json()


def run_api(factory, scenario):
    async def main():
        runner, base = await serve(gateway_app(factory))
        try:
            async with aiohttp.ClientSession() as session:
                return await scenario(Api(session, base, StaffService(factory).issue_token("lan")))
        finally:
            await runner.cleanup()

    return asyncio.run(main())


@pytest.fixture
def staffed(db_factory):
    StaffService(db_factory).add("lan", "correct horse battery", "Lan")
    conversations = ConversationService(db_factory)
    conversations.record("web-1", "customer", "<b>cứu</b> tôi với")
    return db_factory


def test_no_api_access_without_a_valid_token(staffed):
    async def scenario(api):
        return [
            (await api.call("GET", "/api/conversations", token=None))[0],
            (await api.call("GET", "/api/conversations", token="forged"))[0],
            (await api.call("GET", "/api/tickets", token=None))[0],
            (await api.call("POST", "/api/conversations/web-1/claim", token=None))[0],
        ]

    assert run_api(staffed, scenario) == [401, 401, 401, 401]


def test_claim_reply_and_release(staffed):
    async def scenario(api):
        results = {}
        results["reply_before_claim"] = (await api.call("POST", "/api/conversations/web-1/messages", {"text": "hi"}))[0]
        results["claim"] = await api.call("POST", "/api/conversations/web-1/claim")
        results["agent_list"] = (await api.call("GET", "/api/conversations?owner=agent"))[1]
        results["reply"] = (await api.call("POST", "/api/conversations/web-1/messages", {"text": "Chào chị, em là Lan"}))[0]
        results["empty_reply"] = (await api.call("POST", "/api/conversations/web-1/messages", {"text": "  "}))[0]
        results["detail"] = (await api.call("GET", "/api/conversations/web-1"))[1]
        results["release"] = await api.call("POST", "/api/conversations/web-1/release")
        results["missing"] = (await api.call("GET", "/api/conversations/nobody"))[0]
        return results

    r = run_api(staffed, scenario)
    assert r["reply_before_claim"] == 409
    assert r["claim"] == (200, {"id": "web-1", "owner": "agent", "agent": "lan"})
    assert [c["id"] for c in r["agent_list"]] == ["web-1"]
    assert r["reply"] == 201 and r["empty_reply"] == 400
    transcript = r["detail"]["transcript"]
    assert transcript[0] == {**transcript[0], "author": "customer", "text": "<b>cứu</b> tôi với"}
    assert {"author": "staff", "name": "Lan", "text": "Chào chị, em là Lan"}.items() <= transcript[-1].items()
    assert r["release"] == (200, {"id": "web-1", "owner": "bot"})
    assert ConversationService(staffed).owner("web-1") == "bot"
    assert r["missing"] == 404


def test_ticket_filters_and_status_changes(staffed):
    tickets = TicketService(staffed)
    for key, category, texts in (("k1", "wrong_item", ()), ("k2", "refund_payment", ()), ("k3", "other", ("lừa đảo",))):
        tickets.open(ComplaintSubmission(key, "web-1", "rest", "vi", None, False, category, "…", None, customer_texts=texts))
    old, _ = TicketService(staffed, clock=lambda: __import__("datetime").datetime.utcnow() - timedelta(days=3)).open(
        ComplaintSubmission("k4", "web-2", "rest", "vi", None, False, "damaged", "…", None))

    async def scenario(api):
        return {
            "high": (await api.call("GET", "/api/tickets?priority=high"))[1],
            "urgent": (await api.call("GET", "/api/tickets?priority=urgent"))[1],
            "overdue": (await api.call("GET", "/api/tickets?overdue=true"))[1],
            "patch": await api.call("PATCH", f"/api/tickets/{old.code}", {"status": "in_progress", "note": "đã gọi"}),
            "bad": (await api.call("PATCH", f"/api/tickets/{old.code}", {"status": "done"}))[0],
            "missing": (await api.call("PATCH", "/api/tickets/KN-999999", {"status": "closed"}))[0],
        }

    r = run_api(staffed, scenario)
    assert [t["category"] for t in r["high"]] == ["refund_payment"]
    assert [t["category"] for t in r["urgent"]] == ["other"]
    assert [t["code"] for t in r["overdue"]] == [old.code]
    status, body = r["patch"]
    assert status == 200 and body["status"] == "in_progress" and body["history"][-1]["author"] == "lan"
    assert (r["bad"], r["missing"]) == (400, 404)
