"""Staff roles: agent (chats, tickets), editor (the FAQ), admin (everything); enforced by the API, the desk and
the Telegram staff group; set on the command line; existing accounts become agents on upgrade."""
import re
from datetime import datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot import cli
from bot.gateway.api import ROUTE_PERMISSIONS, route_permission
from bot.services import roles
from bot.services.staff import StaffError, StaffService
from bot.store.migrate import alembic_config
from tests.serving import gateway_app
from tests.unit.test_desk import PASSWORD
from tests.unit.test_staff_access import cli_env, run  # noqa: F401 - cli_env is a fixture
from tests.unit.test_faq_editor import COMMENTED


def test_roles_parse_and_grant():
    assert roles.parse_roles("Editor, agent") == ("agent", "editor")
    assert roles.parse_roles(["admin"]) == ("admin",)
    for wrong in ("", "agent,boss", 3, ["agent", 1], [" "]):
        with pytest.raises(roles.RoleError):
            roles.parse_roles(wrong)
    assert roles.allowed(["agent"], roles.CONVERSATIONS) and roles.allowed(["agent"], roles.TICKETS)
    assert not roles.allowed(["agent"], roles.FAQ) and not roles.allowed(["agent"], roles.ACCOUNTS)
    assert roles.allowed(["editor"], roles.FAQ) and not roles.allowed(["editor"], roles.CONVERSATIONS)
    assert not roles.allowed(["editor"], roles.TICKETS) and not roles.allowed(["editor"], roles.FIGURES)
    assert all(roles.allowed(["admin"], p) for p in roles.PERMISSIONS)
    assert roles.from_stored("agent,boss") == ("agent",)  # a hand-edited row never grants an unknown power


def test_accounts_have_roles_and_the_last_admin_stays(any_db_factory):
    staff = StaffService(any_db_factory)
    assert staff.add("lan", PASSWORD).roles == ("agent",)  # the most common person on a team
    assert staff.add("hoa", PASSWORD, roles="editor").roles == ("editor",)
    assert staff.add("chu", PASSWORD, roles=["admin", "agent"]).roles == ("agent", "admin")
    with pytest.raises(StaffError):
        staff.add("x1", PASSWORD, roles="boss")
    assert staff.by_session(staff.start_session("hoa", PASSWORD)[0]).roles == ("editor",)
    assert staff.by_token(staff.issue_token("chu")).can(roles.ACCOUNTS)
    with pytest.raises(StaffError, match="only active admin"):
        staff.set_roles("chu", "agent")
    staff.set_roles("lan", "agent,admin")
    assert staff.set_roles("chu", "agent").roles == ("agent",)  # another admin exists now
    assert {a.name: a.roles for a in staff.accounts()} == {"chu": ("agent",), "hoa": ("editor",),
                                                            "lan": ("agent", "admin")}


def test_the_migration_makes_existing_accounts_agents_and_downgrades(any_db_factory):
    engine = any_db_factory.kw["bind"]
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    [migration] = [r for r in ScriptDirectory.from_config(config).walk_revisions()
                   if r.path.endswith("_roles_faq_revisions.py")]
    command.downgrade(config, migration.down_revision)
    with engine.begin() as conn:
        assert "roles" not in [c["name"] for c in inspect(conn).get_columns("staff")]
        assert "faq_revisions" not in inspect(conn).get_table_names()
        conn.execute(text("INSERT INTO staff (name, display_name, password_hash, created_at) "
                          "VALUES ('lan', 'Lan', 'x', :now)"), {"now": datetime.utcnow()})
    command.upgrade(config, migration.revision)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT roles FROM staff WHERE name = 'lan'")).scalar_one() == "agent"
        assert "faq_revisions" in inspect(conn).get_table_names()
    command.downgrade(config, migration.down_revision)
    command.upgrade(config, "head")
    assert StaffService(any_db_factory).get("lan").roles == ("agent",)


def test_cli_adds_with_roles_changes_them_and_lists_them(cli_env, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["staff", "add", "hoa", "--roles", "editor", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["staff", "add", "lan", "--password-stdin"]) == 0
    assert cli.main(["staff", "add", "minh", "--roles", "agent,boss", "--password-stdin"]) == 1  # before any password
    assert cli.main(["staff", "roles", "lan", "agent,editor,admin"]) == 0
    assert cli.main(["staff", "roles", "ghost", "agent"]) == 1
    out = capsys.readouterr().out
    assert "hoa added (editor)" in out and "lan added (agent)" in out and "lan is now agent, editor, admin" in out
    assert cli.main(["staff", "list"]) == 0
    listed = {line.split()[0]: line.split()[2] for line in capsys.readouterr().out.splitlines()}
    assert listed == {"hoa": "editor", "lan": "agent,editor,admin"}
    assert StaffService(cli_env).get("minh") is None


# -- over HTTP ---------------------------------------------------------------------------------------------


@pytest.fixture
def team(db_factory, tmp_path):
    staff = StaffService(db_factory)
    staff.add("lan", PASSWORD, "Lan", roles="agent")
    staff.add("hoa", PASSWORD, "Hoa", roles="editor")
    staff.add("chu", PASSWORD, "Chủ shop", roles="admin")
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "lien-he.yml").write_text(COMMENTED, encoding="utf-8")
    from bot.services.conversations import ConversationService

    ConversationService(db_factory).record("web-1", "customer", "xin chào")
    return {name: {"Authorization": "Bearer " + staff.issue_token(name)} for name in ("lan", "hoa", "chu")}, faq


def test_the_api_enforces_roles(db_factory, team):
    tokens, faq = team
    calls = [
        ("GET", "/api/conversations", None), ("GET", "/api/conversations/web-1", None),
        ("POST", "/api/conversations/web-1/notes", {"text": "x"}), ("GET", "/api/tickets", None),
        ("GET", "/api/kpis", None), ("GET", "/api/staff", None),
        ("GET", "/api/faq/entries", None), ("GET", "/api/faq/entries/hotline", None),
        ("PUT", "/api/faq/entries/hotline", {"version": "x", "entry": {}}),
        ("POST", "/api/faq/entries", {"topic": "lien-he", "entry": {}}), ("GET", "/api/faq/report", None),
        ("GET", "/api/staff/accounts", None), ("PUT", "/api/staff/accounts/lan/roles", {"roles": ["agent"]}),
    ]

    async def scenario(session, base):
        seen = {}
        for name, headers in tokens.items():
            for method, path, body in calls:
                async with session.request(method, base + path, json=body, headers=headers) as response:
                    seen[(name, method, path)] = response.status
            async with session.get(base + "/api/me", headers=headers) as response:
                seen[(name, "me")] = (await response.json())["roles"]
        return seen

    seen = run(db_factory, scenario, faq_dir=faq)
    agent = {k[1:]: v for k, v in seen.items() if k[0] == "lan" and k[1] != "me"}
    editor = {k[1:]: v for k, v in seen.items() if k[0] == "hoa" and k[1] != "me"}
    admin = {k[1:]: v for k, v in seen.items() if k[0] == "chu" and k[1] != "me"}
    assert {k: v for k, v in agent.items() if "/api/faq" in k[1] or "/accounts" in k[1]} == {
        k: 403 for k in agent if "/api/faq" in k[1] or "/accounts" in k[1]}
    assert all(v < 400 for k, v in agent.items() if "/api/faq" not in k[1] and "/accounts" not in k[1])
    assert {k: v for k, v in editor.items() if "/api/faq" not in k[1]} == {
        k: 403 for k in editor if "/api/faq" not in k[1]}
    assert editor[("GET", "/api/faq/entries")] == 200 and editor[("PUT", "/api/faq/entries/hotline")] == 409
    assert editor[("POST", "/api/faq/entries")] == 422  # allowed, refused by the check (empty entry)
    assert all(v != 403 for v in admin.values()) and admin[("PUT", "/api/staff/accounts/lan/roles")] == 200
    assert (seen[("lan", "me")], seen[("hoa", "me")], seen[("chu", "me")]) == (["agent"], ["editor"], ["admin"])


def test_admins_manage_roles_over_the_api(db_factory, team):
    tokens, faq = team

    async def scenario(session, base):
        r = {}
        async with session.get(base + "/api/staff/accounts", headers=tokens["chu"]) as response:
            r["list"] = await response.json()
        for key, name, body in (("set", "hoa", {"roles": ["editor", "agent"]}), ("bad", "hoa", {"roles": ["boss"]}),
                                ("ghost", "ghost", {"roles": ["agent"]}), ("last", "chu", {"roles": ["agent"]}),
                                ("empty", "hoa", {})):
            async with session.put(f"{base}/api/staff/accounts/{name}/roles", json=body,
                                   headers=tokens["chu"]) as response:
                r[key] = (response.status, await response.json())
        return r

    r = run(db_factory, scenario, faq_dir=faq)
    assert [(a["name"], a["roles"]) for a in r["list"]] == [("chu", ["admin"]), ("hoa", ["editor"]), ("lan", ["agent"])]
    assert r["set"] == (200, {**r["set"][1], "roles": ["agent", "editor"]})
    assert [r[k][0] for k in ("bad", "ghost", "last", "empty")] == [400, 404, 400, 400]
    assert StaffService(db_factory).get("chu").roles == ("admin",)


def test_every_api_route_has_its_own_permission(db_factory, tmp_path):
    app = gateway_app(db_factory, faq_dir=tmp_path)
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/") and path != "/api/openapi.yaml":
            assert any(path == p or path.startswith(p + "/") for p, _ in ROUTE_PERMISSIONS), path
    assert route_permission("/api/something-new") == roles.ACCOUNTS  # closed by default


def test_the_desk_shows_an_editor_only_the_faq(db_factory, team):
    _tokens, faq = team

    async def scenario(session, base):
        async with session.post(base + "/desk/login", data={"name": "hoa", "password": PASSWORD}) as response:
            page = await response.text()
        csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
        async with session.get(base + "/api/conversations") as response:
            conversations = response.status
        async with session.put(base + "/api/faq/entries/hotline", json={"version": "x", "entry": {}}) as response:
            without_csrf = response.status
        async with session.put(base + "/api/faq/entries/hotline", json={"version": "x", "entry": {}},
                               headers={"X-CSRF-Token": csrf}) as response:
            with_csrf = response.status
        return page, conversations, without_csrf, with_csrf

    page, conversations, without_csrf, with_csrf = run(db_factory, scenario, faq_dir=faq)
    assert '<meta name="staff-permissions" content="faq">' in page
    assert (conversations, without_csrf, with_csrf) == (403, 403, 409)
