"""Staff access: expiring API tokens, disabling an account, listing and revoking tokens, login throttling."""
import asyncio
from datetime import datetime, timedelta

import aiohttp
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from bot import cli
from bot.services.login_throttle import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, WINDOW
from bot.services.staff import SESSION_IDLE, LoginThrottled, StaffError, StaffService
from bot.store.migrate import alembic_config
from bot.store.models import StaffToken
from tests.serving import gateway_app, serve
from tests.unit.test_desk import PASSWORD, Clock


@pytest.fixture
def clock():
    return Clock()


def test_api_tokens_expire_after_their_lifetime_whatever_their_use(any_db_factory, clock):
    staff = StaffService(any_db_factory, clock=clock, token_days=90)
    staff.add("lan", PASSWORD)
    token = staff.issue_token("lan")
    short = staff.issue_token("lan", days=1)
    forever = staff.issue_token("lan", days=0)
    clock.now += timedelta(days=89)
    assert staff.by_token(token).name == "lan"  # used daily: still the same fixed expiry, not moved on
    assert staff.by_token(short) is None
    clock.now += timedelta(days=1, minutes=1)
    assert staff.by_token(token) is None
    assert staff.by_token(forever).name == "lan"
    with pytest.raises(StaffError):
        staff.issue_token("lan", days=-1)


def test_the_token_lifetime_comes_from_the_environment(db_factory, clock, monkeypatch):
    monkeypatch.setenv("HOTRO_STAFF_TOKEN_DAYS", "7")
    staff = StaffService(db_factory, clock=clock)
    staff.add("lan", PASSWORD)
    token = staff.issue_token("lan")
    [listed] = staff.tokens("lan")
    assert listed.expires_at == clock.now + timedelta(days=7)
    clock.now += timedelta(days=7, seconds=1)
    assert staff.by_token(token) is None
    monkeypatch.setenv("HOTRO_STAFF_TOKEN_DAYS", "-3")
    with pytest.raises(ValueError):
        StaffService(db_factory)


def test_disabling_ends_sessions_and_tokens_and_locks_every_door(any_db_factory, clock):
    staff = StaffService(any_db_factory, clock=clock)
    staff.add("lan", PASSWORD, "Lan")
    staff.add("minh", PASSWORD, "Minh")
    staff.link_telegram("lan", "700001")
    session, _ = staff.start_session("lan", PASSWORD)
    token = staff.issue_token("lan")
    colleague = staff.issue_token("minh")

    assert staff.disable("lan") == 2
    assert staff.by_session(session) is None and staff.by_token(token) is None
    assert staff.start_session("lan", PASSWORD) is None  # the same answer as a wrong password
    assert staff.by_telegram_user("700001") is None
    assert [m.name for m in staff.all()] == ["minh"] and staff.get("lan") is None  # nobody assigns work to them
    with pytest.raises(StaffError):
        staff.issue_token("lan")
    assert staff.by_token(colleague).name == "minh"
    assert [(a.name, a.disabled, a.telegram_linked) for a in staff.accounts()] == [
        ("lan", True, True), ("minh", False, False)]

    staff.enable("lan")
    assert staff.by_session(session) is None and staff.by_token(token) is None  # ended for good
    assert staff.start_session("lan", PASSWORD) is not None
    assert staff.by_telegram_user("700001").name == "lan"
    with pytest.raises(StaffError):
        staff.disable("nobody")


def test_tokens_are_listed_without_their_secret_and_revoked_one_by_one(any_db_factory, clock):
    staff = StaffService(any_db_factory, clock=clock, token_days=90)
    staff.add("lan", PASSWORD)
    staff.add("minh", PASSWORD)
    session, _ = staff.start_session("lan", PASSWORD)
    token = staff.issue_token("lan")
    clock.now += timedelta(minutes=5)
    staff.by_token(token)
    other = staff.issue_token("minh")

    listed = staff.tokens()
    assert [(t.owner, t.kind) for t in listed] == [("lan", "session"), ("lan", "api"), ("minh", "api")]
    api = listed[1]
    assert api.last_used_at == clock.now and api.expires_at == api.created_at + timedelta(days=90)
    assert all(secret not in repr(listed) for secret in (session, token, other))
    assert [t.owner for t in staff.tokens("minh")] == ["minh"]
    with pytest.raises(StaffError):
        staff.tokens("nobody")

    assert staff.revoke(api.id).owner == "lan"
    assert staff.by_token(token) is None and staff.by_session(session).name == "lan"
    with pytest.raises(StaffError):
        staff.revoke(api.id)
    clock.now += SESSION_IDLE * 2
    assert [t.owner for t in staff.tokens()] == ["minh"]  # an expired session is no longer a way in


def test_logins_are_throttled_per_account_from_any_address(any_db_factory, clock):
    staff = StaffService(any_db_factory, clock=clock)
    staff.add("lan", PASSWORD)
    staff.add("minh", PASSWORD)
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        assert staff.start_session("lan", "wrong password", f"198.51.100.{n}") is None
    with pytest.raises(LoginThrottled):
        staff.start_session("lan", PASSWORD, "203.0.113.1")  # the right password, from a fresh address
    with pytest.raises(LoginThrottled):
        staff.start_session("LAN ", PASSWORD, "203.0.113.1")
    assert staff.start_session("minh", PASSWORD, "198.51.100.0") is not None  # a colleague at one of those addresses
    clock.now += WINDOW
    assert staff.start_session("lan", PASSWORD, "203.0.113.1") is not None


def test_a_name_that_does_not_exist_is_throttled_the_same(db_factory, clock):
    staff = StaffService(db_factory, clock=clock)
    for n in range(MAX_FAILURES_PER_ACCOUNT):
        staff.start_session("ghost", "wrong password", f"198.51.100.{n}")
    with pytest.raises(LoginThrottled):  # as a real account would be: the refusal does not reveal which is real
        staff.start_session("ghost", "wrong password", "203.0.113.1")


def test_logins_are_throttled_per_address_across_accounts(db_factory, clock):
    staff = StaffService(db_factory, clock=clock)
    staff.add("lan", PASSWORD)
    for n in range(MAX_FAILURES_PER_ADDRESS):
        staff.start_session(f"guess{n}", "wrong password", "198.51.100.7")
    with pytest.raises(LoginThrottled):
        staff.start_session("lan", PASSWORD, "198.51.100.7")
    assert staff.start_session("lan", PASSWORD, "198.51.100.8") is not None


def test_a_good_login_forgives_the_accounts_mistakes_but_not_the_addresss(db_factory, clock):
    staff = StaffService(db_factory, clock=clock)
    staff.add("lan", PASSWORD)
    staff.add("minh", PASSWORD)
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        staff.start_session("lan", "typo typo typo", "198.51.100.7")
    assert staff.start_session("lan", PASSWORD, "198.51.100.7") is not None
    staff.start_session("lan", "typo typo typo", "198.51.100.7")
    assert staff.start_session("lan", PASSWORD, "198.51.100.7") is not None  # not locked by the earlier typos
    for _ in range(MAX_FAILURES_PER_ADDRESS - MAX_FAILURES_PER_ACCOUNT - 1):
        staff.start_session("minh", "wrong", "198.51.100.7")
        assert staff.start_session("minh", PASSWORD, "198.51.100.7")  # a guesser's own account: no reset
    staff.start_session("minh", "wrong", "198.51.100.7")
    with pytest.raises(LoginThrottled):
        staff.start_session("lan", PASSWORD, "198.51.100.7")


def test_the_staff_access_migration_gives_old_api_tokens_an_expiry_and_downgrades(any_db_factory):
    engine = any_db_factory.kw["bind"]
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    # Found by its file name, so the test holds whatever number the migration ends up with among others.
    [migration] = [r for r in ScriptDirectory.from_config(config).walk_revisions()
                   if r.path.endswith("_staff_access.py")]
    before = migration.down_revision
    command.downgrade(config, before)
    with engine.begin() as conn:
        assert "login_failures" not in inspect(conn).get_table_names()
        conn.execute(text("INSERT INTO staff (name, display_name, password_hash, created_at) "
                          "VALUES ('lan', 'Lan', 'x', :now)"), {"now": datetime.utcnow()})
        staff_id = conn.execute(text("SELECT id FROM staff WHERE name = 'lan'")).scalar_one()
        for kind, token_hash, expires in (("api", "a" * 64, None), ("session", "s" * 64, datetime(2030, 1, 1))):
            conn.execute(text("INSERT INTO staff_tokens (staff_id, token_hash, kind, created_at, expires_at) "
                              "VALUES (:s, :h, :k, :now, :e)"),
                         {"s": staff_id, "h": token_hash, "k": kind, "now": datetime.utcnow(), "e": expires})
    command.upgrade(config, migration.revision)
    with engine.begin() as conn:
        expiry = dict(conn.execute(select(StaffToken.kind, StaffToken.expires_at)).all())
        assert timedelta(days=89) < expiry["api"] - datetime.utcnow() <= timedelta(days=90)
        assert expiry["session"] == datetime(2030, 1, 1)
        assert conn.execute(text("SELECT disabled_at FROM staff")).scalar_one() is None
        assert "login_failures" in inspect(conn).get_table_names()
    command.downgrade(config, before)
    with engine.begin() as conn:
        # the code before 0011 would have made an API token with an expiry idle-expiring
        assert conn.execute(select(StaffToken.expires_at).where(StaffToken.kind == "api")).scalar_one() is None
        assert "disabled_at" not in [c["name"] for c in inspect(conn).get_columns("staff")]
    command.upgrade(config, "head")


# -- over HTTP and the command line ----------------------------------------------------------


def run(factory, scenario, **options):
    """`scenario(session, base)` against the gateway as production builds it (`options` for create_app)."""
    async def main():
        runner, base = await serve(gateway_app(factory, **options))
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                return await scenario(session, base)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


async def login(session, base, name, password, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with session.post(base + "/desk/login", data={"name": name, "password": password}, headers=headers,
                            allow_redirects=False) as response:
        return response.headers.get("Location")


@pytest.fixture
def cli_env(configured_db):
    return configured_db


def test_behind_a_trusted_proxy_one_guesser_does_not_lock_out_the_team(db_factory, monkeypatch):
    monkeypatch.setenv("HOTRO_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    StaffService(db_factory).add("lan", PASSWORD)
    StaffService(db_factory).add("minh", PASSWORD)

    async def scenario(session, base):
        guesses = [await login(session, base, f"guess{n}", "wrong password", "203.0.113.66, 10.1.2.3")
                   for n in range(MAX_FAILURES_PER_ADDRESS)]
        guesser = await login(session, base, "minh", PASSWORD, "203.0.113.66")
        colleague = await login(session, base, "lan", PASSWORD, "198.51.100.20")  # same proxy, another client
        return guesses, guesser, colleague

    guesses, guesser, colleague = run(db_factory, scenario)
    assert set(guesses) == {"/desk/login?e=wrong"}
    assert guesser == "/desk/login?e=busy" and colleague == "/desk"


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(db_factory, monkeypatch):
    monkeypatch.delenv("HOTRO_TRUSTED_PROXIES", raising=False)
    StaffService(db_factory).add("lan", PASSWORD)

    async def scenario(session, base):
        for n in range(MAX_FAILURES_PER_ADDRESS):
            await login(session, base, f"guess{n}", "wrong password", f"198.51.100.{n}")
        return await login(session, base, "lan", PASSWORD, "192.0.2.1")

    assert run(db_factory, scenario) == "/desk/login?e=busy"


def test_disable_on_the_command_line_logs_out_the_desk_and_the_api_at_once(cli_env, capsys):
    staff = StaffService(cli_env)
    staff.add("lan", PASSWORD, "Lan")
    token = staff.issue_token("lan")

    async def scenario(session, base):
        await login(session, base, "lan", PASSWORD)
        async with session.get(base + "/api/me") as response:
            before = response.status
        assert cli.main(["staff", "disable", "lan"]) == 0
        async with session.get(base + "/api/me") as response:
            cookie = response.status
        async with session.get(base + "/api/me", headers={"Authorization": f"Bearer {token}"}) as response:
            bearer = response.status
        async with session.get(base + "/desk", allow_redirects=False) as response:
            desk = response.headers.get("Location")
        again = await login(session, base, "lan", PASSWORD)
        assert cli.main(["staff", "enable", "lan"]) == 0
        return before, cookie, bearer, desk, again, await login(session, base, "lan", PASSWORD)

    assert run(cli_env, scenario) == (200, 401, 401, "/desk/login", "/desk/login?e=wrong", "/desk")
    out = capsys.readouterr().out
    assert "lan is disabled: 2 session(s) and token(s) ended" in out and token not in out


def test_cli_lists_tokens_without_secrets_and_revokes_one(cli_env, capsys):
    staff = StaffService(cli_env)
    staff.add("lan", PASSWORD)
    staff.add("minh", PASSWORD)
    session, _ = staff.start_session("lan", PASSWORD)
    token = staff.issue_token("lan", days=0)
    staff.issue_token("minh")
    assert cli.main(["staff", "tokens"]) == 0
    out = capsys.readouterr().out
    assert session not in out and token not in out
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["id", "owner", "kind", "created", "last", "used"]
    assert [row.split()[1:3] for row in rows] == [["lan", "session"], ["lan", "api"], ["minh", "api"]]
    assert rows[1].endswith("never")  # --days 0
    api_id = rows[1].split()[0]

    assert cli.main(["staff", "tokens", "minh"]) == 0
    assert [row.split()[1] for row in capsys.readouterr().out.splitlines()[1:]] == ["minh"]
    assert cli.main(["staff", "revoke", api_id]) == 0
    assert capsys.readouterr().out.strip() == f"api token {api_id} of lan revoked"
    assert staff.by_token(token) is None and staff.by_session(session) is not None
    assert cli.main(["staff", "revoke", api_id]) == 1
    assert cli.main(["staff", "tokens", "ghost"]) == 1
    assert cli.main(["staff", "token", "lan", "--days", "30"]) == 0
    assert staff.tokens("lan")[-1].expires_at.date() == (datetime.utcnow() + timedelta(days=30)).date()


def test_cli_staff_list_shows_display_names_without_their_control_characters(cli_env, capsys):
    staff = StaffService(cli_env)
    staff.add("lan", PASSWORD, "Lan \x1b]0;pwned\x07")
    staff.add("minh", PASSWORD, "Minh")
    staff.disable("minh")
    assert cli.main(["staff", "list"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "Lan \\x1b]0;pwned\\x07" in out
    assert [line.split()[:2] for line in out.splitlines()] == [["lan", "active"], ["minh", "disabled"]]
