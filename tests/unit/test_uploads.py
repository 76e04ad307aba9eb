"""Website customers attach photos and PDFs (POST /upload); staff fetch them like Telegram customers' files.

A real gateway on a free port, a real SQLite database and a real upload folder; Rasa is unreachable, so a
message that reached it would be answered with the apology.
"""
import asyncio
import json

import aiohttp

from bot import cli
from bot.channels.common import APOLOGY, attachment_received
from bot.gateway.limits import GatewayLimits
from bot.gateway.uploads import UPLOADS_PER_HOUR
from bot.ratelimit import LimitSettings, Rate
from bot.services import registry
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from tests.serving import gateway_app, serve, web_chat, widget_socket
from tests.telegram_api import png

PNG = png(8, 6)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _secret(sender):
    return f"secret-of-{sender}"  # what tests.serving.web_chat gives


def _form(data, name, content_type="application/octet-stream", **fields):
    """A widget's upload form, built for a secret: the conversation's secret first, as the widget sends it."""
    def build(secret):
        form = aiohttp.FormData()
        form.add_field("secret", secret)
        for key, value in fields.items():
            form.add_field(key, value)
        form.add_field("file", data, filename=name, content_type=content_type)
        return form

    return build


def _caption_only(caption):
    def build(secret):
        form = aiohttp.FormData()
        form.add_field("secret", secret, content_type="text/plain")  # a content type makes the form multipart
        form.add_field("caption", caption, content_type="text/plain")
        return form

    return build


async def _post(session, url, sender, build, secret=None):
    """POST /upload for `sender`, with its secret unless the test gives another."""
    form = build(secret if secret is not None else _secret(sender or ""))
    target = f"{url}/upload" + (f"?sender={sender}" if sender is not None else "")
    async with session.post(target, data=form) as response:
        return response.status, await response.json(), response.headers


def _gateway(db_factory, tmp_path, scenario, chats=(), **app_options):
    """Run `scenario(session, url, token)` against a gateway whose uploads go to tmp_path/uploads.

    `chats`: the website conversations the scenario uses, opened with the tests' secrets.
    """
    staff = StaffService(db_factory)
    staff.add("lan", "correct horse battery", "Lan")
    token = staff.issue_token("lan")
    for sender in chats:
        web_chat(db_factory, sender)
    app = gateway_app(db_factory, upload_dir=tmp_path / "uploads", **app_options)

    async def run():
        runner, url = await serve(app)
        try:
            async with aiohttp.ClientSession() as session:
                return await scenario(session, url, token)
        finally:
            await runner.cleanup()

    return asyncio.run(run())


async def _staff_get(session, url, path, token):
    async with session.get(url + path, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, response.headers, await response.read()


def _stored(tmp_path):
    folder = tmp_path / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_photo_reaches_the_transcript_the_customers_tabs_and_the_desk(db_factory, tmp_path):
    async def scenario(session, url, token):
        async with widget_socket(session, url, "web-anh", _secret("web-anh")) as tab:
            assert (await tab.receive_json())["type"] == "history"
            created = await _post(session, url, "web-anh", _form(PNG, "../hộp vỡ.png", "image/png", ref="r1"))
            live = [await tab.receive_json(timeout=5), await tab.receive_json(timeout=5)]
        async with widget_socket(session, url, "web-anh", _secret("web-anh")) as reloaded:
            history = (await reloaded.receive_json())["messages"]
        _, _, body = await _staff_get(session, url, "/api/conversations/web-anh", token)
        lines = json.loads(body)["transcript"]
        served = await _staff_get(session, url, lines[0]["attachment_url"], token)
        anonymous = await session.get(url + lines[0]["attachment_url"])
        return created, live, history, lines, served, anonymous.status

    created, live, history, lines, served, anonymous = _gateway(db_factory, tmp_path, scenario, chats=["web-anh"])
    status, body, headers = created
    assert status == 201 and "Access-Control-Allow-Origin" not in headers  # no Origin: not a web page
    assert (body["kind"], body["file_name"]) == ("photo", "hộp vỡ.png")
    [stored] = _stored(tmp_path)
    assert stored.name == body["upload_id"] and stored.read_bytes() == PNG
    ack = attachment_received("vi", "photo")
    assert body["replies"] == [{"text": ack}]
    # The tab that sent it recognises its own upload by `ref`; then the acknowledgement, as from the bot.
    assert live[0] == {"type": "message", "author": "customer", "text": "", "buttons": [],
                       "attachment": {"kind": "photo", "file_name": "hộp vỡ.png"}, "ref": "r1"}
    assert live[1]["author"] == "bot" and live[1]["text"] == ack
    # After a reload the widget shows the line again, by name: the storage id never goes back to the public.
    assert history[0] == {"author": "customer", "name": None, "text": "", "buttons": [],
                          "attachment": {"kind": "photo", "file_name": "hộp vỡ.png"}}
    assert [(line["author"], line["text"]) for line in lines] == [("customer", "[photo: hộp vỡ.png]"), ("bot", ack)]
    assert lines[0]["data"] == {"attachment": {"kind": "photo", "upload_id": body["upload_id"],
                                               "file_name": "hộp vỡ.png"}}
    assert lines[0]["attachment_url"] == "/api/conversations/web-anh/attachments/0" and APOLOGY not in str(lines)
    status, headers, data = served
    assert status == 200 and data == PNG and headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]
    assert headers["Content-Disposition"].startswith("inline")
    assert anonymous == 401


def test_a_pdf_is_downloaded_under_a_name_that_cannot_open_as_a_page(db_factory, tmp_path):
    async def scenario(session, url, token):
        created = await _post(session, url, "web-binh",
                              _form(PDF, "hoá đơn.html", "text/html", caption="biên lai", language="en"))
        return created, await _staff_get(session, url, "/api/conversations/web-binh/attachments/0", token)

    (status, body, _), (served, headers, data) = _gateway(db_factory, tmp_path, scenario, chats=["web-binh"])
    assert status == 201 and (body["kind"], body["file_name"]) == ("document", "hoá đơn.html.pdf")
    assert body["replies"] == [{"text": attachment_received("en", "document")}]
    assert served == 200 and data == PDF and headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith('attachment; filename="hoa don.html.pdf"')
    assert ConversationService(db_factory).transcript("web-binh")[0].text == "biên lai"


def test_files_that_are_not_photos_or_pdfs_too_big_or_misaddressed_are_refused(db_factory, tmp_path):
    html = b"<!doctype html><script>alert(document.cookie)</script>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    big = b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024)

    async def scenario(session, url, token):
        results = [
            await _post(session, url, "web-chi", _form(html, "anh.jpg", "image/jpeg")),
            await _post(session, url, "web-chi", _form(svg, "anh.svg", "image/svg+xml")),
            await _post(session, url, "web-chi", _form(b"", "trong.png", "image/png")),
            await _post(session, url, "web-chi", _form(big, "to.jpg", "image/jpeg")),
            await _post(session, url, "tg-12345", _form(PNG, "a.png")),
            await _post(session, url, None, _form(PNG, "a.png")),
            await _post(session, url, "web-chi", _caption_only("hàng bị vỡ")),
        ]
        async with session.post(f"{url}/upload?sender=web-chi", json={"file": "a.png"}) as response:
            results.append((response.status, await response.json(), response.headers))
        return results

    results = _gateway(db_factory, tmp_path, scenario, chats=["web-chi"])
    assert [status for status, _, _ in results] == [415, 415, 415, 413, 400, 400, 400, 400]
    assert "JPEG, PNG or WebP" in results[0][1]["error"] and "10 MB" in results[3][1]["error"]
    assert "tg-" in results[4][1]["error"] and "sender" in results[5][1]["error"]
    assert "no file" in results[6][1]["error"] and "multipart" in results[7][1]["error"]
    assert _stored(tmp_path) == [] and ConversationService(db_factory).transcript("web-chi") == []


def test_only_the_holder_of_the_secret_and_allowed_sites_can_send_files(db_factory, tmp_path):
    shop = "https://shop.example.vn"

    async def scenario(session, url, token):
        async def post(sender, secret, origin=None):
            form = _form(PNG, "a.png")(secret)
            headers = {"Origin": origin} if origin else {}
            async with session.post(f"{url}/upload?sender={sender}", data=form, headers=headers) as response:
                return response.status, response.headers.get("Access-Control-Allow-Origin")

        return url, [
            await post("web-lan", "guessed"),  # the id alone is not enough
            await post("web-nobody", _secret("web-nobody")),  # never opened by the gateway
            await post("web-lan", _secret("web-lan"), "https://evil.example"),  # another site's page
            await post("web-lan", _secret("web-lan"), shop),
            await post("web-lan", _secret("web-lan"), url),  # the gateway's own demo page
        ]

    app_options = {"origins": frozenset({shop})}
    url, results = _gateway(db_factory, tmp_path, scenario, chats=["web-lan"], **app_options)
    assert results == [(403, None), (403, None), (403, None), (201, shop), (201, url)]
    assert len(_stored(tmp_path)) == 2


def test_a_conversation_may_upload_twenty_files_an_hour(db_factory, tmp_path):
    async def scenario(session, url, token):
        statuses = [(await _post(session, url, "web-dung", _form(PNG, f"{n}.png")))[0] for n in range(UPLOADS_PER_HOUR)]
        refused = await _post(session, url, "web-dung", _form(PNG, "one-more.png"))
        other = await _post(session, url, "web-em", _form(PNG, "mine.png"))
        return statuses, refused, other[0]

    # One address sends them all: its own limit (20 an hour too, by default) is raised to see the conversation's.
    statuses, refused, other = _gateway(db_factory, tmp_path, scenario, chats=["web-dung", "web-em"],
                                        limits=GatewayLimits(LimitSettings(uploads=Rate(100, 3600))))
    assert statuses == [201] * UPLOADS_PER_HOUR and refused[0] == 429 and "20 files an hour" in refused[1]["error"]
    assert other == 201 and len(_stored(tmp_path)) == UPLOADS_PER_HOUR + 1


def test_while_a_person_owns_the_chat_the_file_is_theirs_and_rasa_is_not_asked(db_factory, tmp_path):
    web_chat(db_factory, "web-giang")
    ConversationService(db_factory).set_owner("web-giang", "agent", "lan", "web")

    async def scenario(session, url, token):
        return await _post(session, url, "web-giang", _form(PNG, "vo.png", caption="hàng bị vỡ"))

    status, _, _ = _gateway(db_factory, tmp_path, scenario)
    conversations = ConversationService(db_factory)
    assert status == 201 and conversations.owner("web-giang") == "agent"
    assert [(line.author_type, line.text) for line in conversations.transcript("web-giang")] == [
        ("customer", "hàng bị vỡ"), ("bot", attachment_received("vi", "photo"))]


def test_forgetting_a_customer_deletes_their_uploaded_files(db_factory, sqlite_url, tmp_path, monkeypatch, capsys):
    async def scenario(session, url, token):
        mine = await _post(session, url, "web-hoa", _form(PNG, "vo.png"))
        theirs = await _post(session, url, "web-khac", _form(PDF, "khac.pdf"))
        return mine[1]["upload_id"], theirs[1]["upload_id"]

    mine, theirs = _gateway(db_factory, tmp_path, scenario, chats=["web-hoa", "web-khac"])
    folder = tmp_path / "uploads"
    monkeypatch.setenv("HOTRO_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HOTRO_UPLOAD_DIR", str(folder))
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    registry.settings.cache_clear()
    try:
        assert cli.main(["customers", "forget", "web-hoa"]) == 0
        assert "1 uploaded file(s)" in capsys.readouterr().out and (folder / mine).exists()
        assert cli.main(["customers", "forget", "web-hoa", "--yes"]) == 0
    finally:
        registry.settings.cache_clear()
    assert not (folder / mine).exists() and (folder / theirs).exists()
    assert all(line.data is None for line in ConversationService(db_factory).transcript("web-hoa"))
