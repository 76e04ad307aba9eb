"""Staff administration over the API and the CLI: add, skills and capacity, roles, disable, reset a password,
availability; and the gateway routing waiting chats when someone logs in or hands one back."""
import io

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot import cli
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from bot.store.migrate import alembic_config
from tests.unit.test_desk import PASSWORD
from tests.unit.test_staff_access import cli_env, login, run  # noqa: F401 - cli_env is a fixture


@pytest.fixture
def admins(db_factory):
    staff = StaffService(db_factory)
    staff.add("chu", PASSWORD, "Chủ shop", roles="admin")
    staff.add("lan", PASSWORD, "Lan")
    return {name: {"Authorization": "Bearer " + staff.issue_token(name)} for name in ("chu", "lan")}


def test_admins_add_people_set_skills_capacity_and_roles_and_disable_them(db_factory, admins):
    conversations = ConversationService(db_factory)
    conversations.record("web-held", "customer", "alo")
    conversations.set_owner("web-held", "agent", "lan")

    async def scenario(session, base):
        r = {}

        async def call(key, method, path, body=None, who="chu"):
            async with session.request(method, base + path, json=body, headers=admins[who]) as response:
                r[key] = (response.status, await response.json())

        await call("add", "POST", "/api/staff/accounts", {
            "name": "an", "password": PASSWORD, "display_name": "An", "roles": ["agent"],
            "skills": {"categories": ["wrong_item"], "languages": ["en"]}, "capacity": 2})
        await call("again", "POST", "/api/staff/accounts", {"name": "an", "password": PASSWORD})
        await call("bad_skill", "POST", "/api/staff/accounts",
                   {"name": "binh", "password": PASSWORD, "skills": {"languages": ["fr"]}})
        await call("bad_capacity", "PATCH", "/api/staff/accounts/an", {"capacity": 0})
        await call("unknown_key", "PATCH", "/api/staff/accounts/an", {"salary": 5})
        await call("agent_may_not", "POST", "/api/staff/accounts", {"name": "x1", "password": PASSWORD}, who="lan")
        await call("patch", "PATCH", "/api/staff/accounts/an", {
            "skills": {"categories": ["damaged", "wrong_item"], "languages": [], "channels": ["telegram"]},
            "capacity": 4, "roles": ["agent", "editor"], "display_name": "An Trần"})
        await call("ghost", "PATCH", "/api/staff/accounts/ghost", {"capacity": 2})
        await call("self", "PATCH", "/api/staff/accounts/chu", {"disabled": True})
        await call("disable", "PATCH", "/api/staff/accounts/lan", {"disabled": True})
        await call("password", "POST", "/api/staff/accounts/an/password", {"password": "a brand new password"})
        await call("short", "POST", "/api/staff/accounts/an/password", {"password": "short"})
        await call("list", "GET", "/api/staff/accounts")
        r["an_login"] = await login(session, base, "an", "a brand new password")
        return r

    r = run(db_factory, scenario)
    assert r["add"][0] == 201 and r["add"][1]["skills"] == {"categories": ["wrong_item"], "languages": ["en"],
                                                            "channels": []}
    assert r["add"][1]["capacity"] == 2
    assert [r[k][0] for k in ("again", "bad_skill", "bad_capacity", "unknown_key", "agent_may_not", "ghost", "self",
                              "short")] == [400, 400, 400, 400, 403, 404, 400, 400]
    assert "fr" in r["bad_skill"][1]["error"]
    patched = r["patch"][1]
    assert (patched["display_name"], patched["capacity"], patched["roles"]) == ("An Trần", 4, ["agent", "editor"])
    assert patched["skills"] == {"categories": ["wrong_item", "damaged"], "languages": [], "channels": ["telegram"]}
    assert r["disable"][0] == 200 and r["disable"][1]["disabled"] is True
    # Lan can no longer answer: her chat went back to the queue for someone else.
    assert conversations.summary("web-held").owner == "queued"
    assert r["password"] == (200, {"name": "an", "sessions_ended": 0})
    assert r["an_login"] == "/desk"
    assert {a["name"]: a["disabled"] for a in r["list"][1]} == {"an": False, "chu": False, "lan": True}


def test_staff_choose_their_availability_and_routing_serves_the_queue_when_they_log_in(db_factory, monkeypatch):
    monkeypatch.setenv("HOTRO_AUTO_ASSIGN", "1")
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan")
    staff.set_availability("lan", "offline")
    conversations = ConversationService(db_factory)
    for sender in ("web-1", "web-2"):
        conversations.record(sender, "customer", "cho tôi gặp nhân viên")
        TicketService(db_factory).open(ComplaintSubmission(f"{sender}:k", sender, "web", "vi", None, False, "damaged",
                                                           "vỡ", None))
        conversations.set_owner(sender, "queued")
    token = {"Authorization": "Bearer " + staff.issue_token("lan")}

    async def scenario(session, base):
        r = {"before": conversations.summary("web-1").owner}
        async with session.put(base + "/api/me/availability", json={"availability": "away"}, headers=token) as resp:
            r["away"] = (resp.status, (await resp.json())["availability"])
        r["after_away"] = conversations.summary("web-1").owner
        async with session.put(base + "/api/me/availability", json={"availability": "busy"}, headers=token) as resp:
            r["bad"] = resp.status
        r["login"] = await login(session, base, "lan", PASSWORD)  # logging in is coming online
        r["after_login"] = [conversations.summary(s).agent for s in ("web-1", "web-2")]
        async with session.get(base + "/api/me/account", headers=token) as resp:
            r["me"] = await resp.json()
        return r

    r = run(db_factory, scenario)
    assert (r["before"], r["away"], r["after_away"], r["bad"]) == ("queued", (200, "away"), "queued", 400)
    assert r["login"] == "/desk" and r["after_login"] == ["lan", "lan"]
    assert (r["me"]["availability"], r["me"]["capacity"]) == ("online", 3)


def test_the_cli_sets_skills_capacity_availability_and_passwords(cli_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["staff", "add", "an", "--categories", "wrong_item", "--languages", "en", "--capacity", "2",
                     "--password-stdin"]) == 0
    assert cli.main(["staff", "add", "binh", "--languages", "fr", "--password-stdin"]) == 1  # before any password
    assert cli.main(["staff", "skills", "an", "--channels", "telegram,web", "--capacity", "5"]) == 0
    assert cli.main(["staff", "skills", "an", "--capacity", "0"]) == 1
    assert cli.main(["staff", "availability", "an", "away"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert cli.main(["staff", "password", "an", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "an added (agent), skills wrong_item / en / any, 2 chats at once" in out
    assert "an: skills wrong_item / en / web,telegram, 5 chats at once" in out  # the other parts kept
    assert "an is away" in out and "an has a new password" in out
    assert StaffService(cli_env).check_password("an", "another long password") is not None
    assert cli.main(["staff", "list"]) == 0
    assert "skills wrong_item / en / web,telegram, 5 chats at once, away" in capsys.readouterr().out
    conversations = ConversationService(cli_env)
    conversations.record("web-an", "customer", "help")
    conversations.set_owner("web-an", "agent", "an")
    assert cli.main(["staff", "disable", "an"]) == 0
    assert "1 chat(s) back in the queue" in capsys.readouterr().out
    assert conversations.summary("web-an").owner == "queued"


def test_migration_0015_gives_earlier_accounts_any_skill_three_chats_and_goes_back(any_db_factory):
    engine = any_db_factory.kw["bind"]
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    migration = ScriptDirectory.from_config(config).get_revision("0015")
    assert migration.down_revision == "0014"
    command.downgrade(config, "0014")
    with engine.begin() as conn:
        assert "capacity" not in [c["name"] for c in inspect(conn).get_columns("staff")]
        conn.execute(text("INSERT INTO staff (name, display_name, password_hash, created_at) "
                          "VALUES ('old', 'Old', 'x', CURRENT_TIMESTAMP)"))
    command.upgrade(config, "0015")
    account = StaffService(any_db_factory).account("old")
    assert (account.capacity, account.skills.as_dict(), account.chosen_availability) == (
        3, {"categories": [], "languages": [], "channels": []}, "online")
    command.downgrade(config, "0014")
    command.upgrade(config, "head")


def test_a_chat_handed_back_frees_the_place_for_the_oldest_waiting_one_at_once(db_factory, monkeypatch):
    monkeypatch.setenv("HOTRO_AUTO_ASSIGN", "1")
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan", capacity=1)
    conversations = ConversationService(db_factory)
    for sender in ("web-1", "web-2", "web-3"):
        conversations.record(sender, "customer", "cho tôi gặp nhân viên")
        conversations.set_owner(sender, "queued")
    token = {"Authorization": "Bearer " + staff.issue_token("lan")}

    async def scenario(session, base):
        async with session.put(base + "/api/me/availability", json={"availability": "online"}, headers=token) as resp:
            assert resp.status == 200
        first = [conversations.summary(s).owner for s in ("web-1", "web-2", "web-3")]
        async with session.post(base + "/api/conversations/web-1/release", headers=token) as resp:
            assert resp.status == 200
        return first, [conversations.summary(s).owner for s in ("web-1", "web-2", "web-3")]

    first, after = run(db_factory, scenario)
    assert first == ["agent", "queued", "queued"]  # one place: the oldest chat
    assert after == ["bot", "agent", "queued"] and conversations.summary("web-2").agent == "lan"
