"""Each input that gave a 500 (issue 10, and what the fuzz test found), sent as raw bytes to a real gateway.

On SQLite and on PostgreSQL: PostgreSQL refuses NUL in any string, even in a lookup, where SQLite keeps it.
"""
import asyncio
import json

import aiohttp

from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from bot.services.tickets import ComplaintSubmission, TicketService
from tests.fuzzing import multipart, request_bytes, send_raw, show
from tests.serving import FakeRasa, gateway_app, serve, web_chat
from tests.telegram_api import png

PASSWORD = "correct horse battery"
JSON = (b"Content-Type", b"application/json")
FORM = (b"Content-Type", b"application/x-www-form-urlencoded")
DEEP = b"[" * 1000 + b"]" * 1000


def _requests(token: str, session: str, secret: str, ticket: str):
    """(what, method, path, headers, body, expected status) for each known cause."""
    bearer = (b"Authorization", b"Bearer " + token.encode())
    cookie = (b"Cookie", b"hotro_desk=" + session.encode())
    conversation = b"/api/conversations/staff-chat"

    def upload(file_header: bytes, caption: bytes = b"", content_type: bytes = b"multipart/form-data; boundary=B"):
        parts = [([b'Content-Disposition: form-data; name="secret"'], secret.encode()),
                 ([b'Content-Disposition: form-data; name="caption"'], caption),
                 ([b'Content-Disposition: form-data; name="file"; ' + file_header], png(2, 2))]
        return ("POST", b"/upload?sender=web-chat", [(b"Content-Type", content_type)], multipart(parts, b"B"))

    return [
        # customers
        ("REST nested 1000 deep", "POST", b"/webhooks/rest/webhook", [JSON], DEEP, 400),
        ("REST surrogate message", "POST", b"/webhooks/rest/webhook", [JSON], b'{"sender": "s", "message": "\\ud800"}', 400),
        ("REST surrogate sender", "POST", b"/webhooks/rest/webhook", [JSON], b'{"sender": "\\ud800", "message": "hi"}', 400),
        ("REST NUL in message", "POST", b"/webhooks/rest/webhook", [JSON], b'{"sender": "s", "message": "a\\u0000"}', 400),
        ("REST secret not ASCII", "POST", b"/webhooks/rest/webhook", [JSON, (b"X-Conversation-Secret", b"\xff\xfe")],
         b'{"sender": "web-chat", "message": "hi"}', 403),
        ("new chat, unknown charset", "POST", b"/conversations",
         [(b"Content-Type", b"application/x-www-form-urlencoded; charset=nope")], b"language=en", 400),
        ("new chat, form not UTF-8", "POST", b"/conversations", [FORM], b"language=\xed\xa0\x80", 400),
        ("new chat, Content-Type not ASCII", "POST", b"/conversations", [(b"Content-Type", b"\xf1\xb8\xa5")], b"", 201),
        ("new chat, Origin not ASCII", "POST", b"/conversations", [(b"Origin", b"http://\xff")], b"", 403),
        ("upload, NUL in caption", *upload(b'filename="a.png"', caption=b"a\x00b"), 400),
        ("upload, NUL in a part header", *upload(b'filename="a\x00b.png"'), 400),
        ("upload, Content-Type not ASCII", *upload(b'filename="a.png"', content_type=b"multipart/\xff"), 400),
        ("upload, CR LF NUL in the name", *upload(b'filename="a%0D%0A%00b.png"'), 201),
        ("upload, RFC 5987 surrogate name", *upload(b"filename*=UTF-8''%ED%A0%80.png"), 201),
        # staff
        ("attachment n = superscript two", "GET", conversation + b"/attachments/%C2%B2", [bearer], None, 404),
        ("attachment n of 5000 digits", "GET", conversation + b"/attachments/" + b"9" * 5000, [bearer], None, 404),
        ("conversation id with NUL", "GET", b"/api/conversations/a%00b", [bearer], None, 404),
        ("staff reply nested 1000 deep", "POST", conversation + b"/messages", [bearer, JSON], DEEP, 400),
        ("staff reply surrogate", "POST", conversation + b"/messages", [bearer, JSON], b'{"text": "\\ud800"}', 400),
        ("staff reply, bogus charset", "POST", conversation + b"/messages",
         [bearer, (b"Content-Type", b"application/json; charset=bogus")], b'{"text": "hi"}', 409),
        ("note with NUL", "POST", conversation + b"/notes", [bearer, JSON], b'{"text": "a\\u0000"}', 400),
        ("note surrogate", "POST", conversation + b"/notes", [bearer, JSON], b'{"text": "\\udfff"}', 400),
        ("claim for a surrogate name", "POST", conversation + b"/claim", [bearer, JSON], b'{"agent": "\\ud800"}', 400),
        ("claim, body not JSON", "POST", conversation + b"/claim", [bearer, JSON], b"{", 400),
        ("ticket note surrogate", "PATCH", b"/api/tickets/" + ticket.encode(), [bearer, JSON],
         b'{"status": "in_progress", "note": "\\ud800"}', 400),
        ("ticket assignee with NUL", "PATCH", b"/api/tickets/" + ticket.encode(), [bearer, JSON],
         b'{"assignee": "lan\\u0000"}', 400),
        ("ticket code with NUL", "PATCH", b"/api/tickets/a%00", [bearer, JSON], b'{"status": "new"}', 404),
        ("bearer token not ASCII", "GET", b"/api/me", [(b"Authorization", b"Bearer \xff\xfe")], None, 401),
        ("CSRF token not ASCII", "POST", conversation + b"/claim", [cookie, (b"X-CSRF-Token", b"\xc3\xa9")], None, 403),
        ("KPI days beyond a timedelta", "GET", b"/api/kpis?days=99999999999", [bearer], None, 400),
        ("KPI from year 1", "GET", b"/api/kpis?from=0001-01-01&to=2026-11-01", [bearer], None, 400),
        ("KPI to year 9999", "GET", b"/api/kpis?from=2026-11-01&to=9999-12-31", [bearer], None, 400),
        ("desk login, unknown charset", "POST", b"/desk/login",
         [(b"Content-Type", b"application/x-www-form-urlencoded; charset=nope")], b"name=lan&password=x", 400),
        ("desk login, NUL in the name", "POST", b"/desk/login", [FORM], b"name=lan%00&password=xxxxxxxx", 400),
        ("desk login from another site", "POST", b"/desk/login", [FORM, (b"Origin", b"https://evil.example")],
         b"name=lan&password=x", 403),
        ("desk logout, CSRF not ASCII", "POST", b"/desk/logout", [FORM, cookie], b"csrf=%C3%A9", 403),
        ("desk page, cookie not ASCII", "GET", b"/desk", [(b"Cookie", b"hotro_desk=\xff")], None, 302),
        ("wrong method", "DELETE", b"/api/me", [bearer], None, 405),
    ]


async def _run(factory):
    staff = StaffService(factory)
    staff.add("lan", PASSWORD, "Lan")
    token, (session, _) = staff.issue_token("lan"), staff.start_session("lan", PASSWORD)
    secret = web_chat(factory, "web-chat")
    ConversationService(factory).record("staff-chat", "customer", "hàng bị vỡ")
    ticket, _ = TicketService(factory).open(
        ComplaintSubmission("k1", "staff-chat", "rest", "vi", None, False, "damaged", "vỡ", None))
    rasa = await FakeRasa().start()
    runner, base = await serve(gateway_app(factory, rasa.url))
    port = int(base.rsplit(":", 1)[1])
    try:
        answers = []
        for what, method, path, headers, body, expected in _requests(token, session, secret, ticket.code):
            raw = request_bytes(method.encode(), path, headers, body)
            answers.append((what, expected, await send_raw(port, raw), raw))
        async with aiohttp.ClientSession() as client:
            # A lone surrogate as the socket's secret used to end the connection with no answer.
            async with client.ws_connect(f"{base}/ws") as socket:
                await socket.send_str('{"type": "open", "sender": "web-chat", "secret": "\\ud800"}')
                message = await socket.receive(timeout=5)
                refused = json.loads(message.data) if message.type == aiohttp.WSMsgType.TEXT else message.type.name
            async with client.post(f"{base}/webhooks/rest/webhook", json={"sender": "after", "message": "hi"}) as response:
                after = (response.status, await response.json())
        return answers, refused, after
    finally:
        await runner.cleanup()
        await rasa.stop()


def test_each_input_that_gave_a_500_gets_its_4xx(any_db_factory):
    answers, refused, after = asyncio.run(_run(any_db_factory))
    wrong = [f"{what}: expected {expected}, got {answer.status} {answer.body[:200]!r}\n    {show(raw)}"
             for what, expected, answer, raw in answers if answer.status != expected or answer.problem()]
    assert not wrong, "\n".join(wrong)
    for what, expected, answer, _ in answers:
        if expected >= 400:
            assert json.loads(answer.body)["error"], what
    assert refused == {"type": "error", "error": "unknown conversation or wrong secret", "code": "forbidden"}
    assert after == (200, [{"recipient_id": "after", "text": "echo hi"}])
    # The odd names were cleaned before they were kept: nothing that could end a header line.
    names = [line.data["attachment"]["file_name"] for line in ConversationService(any_db_factory).transcript("web-chat")
             if line.data and "attachment" in line.data]
    assert names == ["ab.png", "photo.png"]
