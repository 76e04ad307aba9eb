"""Staff fetch the photos and files Telegram customers sent: the gateway's route, the fake Bot API's getFile and downloads."""
import asyncio
import json
import logging

import aiohttp

from bot.channels.telegram.files import FileCache
from bot.gateway.attachments import content_disposition, image_type, safe_filename
from bot.services.conversations import ConversationService
from bot.services.staff import StaffService
from tests.serving import gateway_app, serve
from tests.telegram_api import until
from tests.unit.test_telegram_channel import run_gateway

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n<html><script>alert('x')</script></html>"
NAME = '../../etc/"hoá đơn"\u202egpj.pdf'


async def fetch(session, url, token=None, cookies=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.get(url, headers=headers, cookies=cookies) as response:
        return response.status, response.headers, await response.read()


def attach(factory, sender, file_id, kind="photo", file_name=None):
    ConversationService(factory).record(sender, "customer", f"[{kind}]", "telegram", None,
                                        {"attachment": {"kind": kind, "file_id": file_id, "file_name": file_name}})


def test_staff_see_a_customers_photo_and_download_their_document(db_factory, fake_telegram, caplog):
    caplog.set_level(logging.DEBUG)
    staff = StaffService(db_factory)
    staff.add("lan", "correct horse battery", "Lan")
    token = staff.issue_token("lan")
    session_cookie, _ = staff.start_session("lan", "correct horse battery")
    user = fake_telegram.user(601, "Bao", "vi")

    async def scenario(channel, rasa, url):
        fake_telegram.send_photo(user, caption="hàng bị vỡ", data=JPEG)
        fake_telegram.send_document(user, NAME, data=PDF)
        await until(lambda: len(fake_telegram.sent_to(601)) >= 2, what="both acknowledgements")
        async with aiohttp.ClientSession() as session:
            status, _, body = await fetch(session, f"{url}/api/conversations/tg-601", token)
            lines = json.loads(body)["transcript"]
            links = [line["attachment_url"] for line in lines if line["attachment_url"]]
            photo = await fetch(session, url + links[0], token)
            again = await fetch(session, url + links[0], cookies={"hotro_desk": session_cookie})
            document = await fetch(session, url + links[1], token)
            anonymous = await fetch(session, url + links[0])
        return status, links, photo, again, document, anonymous

    status, links, photo, again, document, anonymous = run_gateway(db_factory, fake_telegram, scenario)
    assert status == 200 and links == ["/api/conversations/tg-601/attachments/0", "/api/conversations/tg-601/attachments/1"]
    assert photo[0] == 200 and photo[2] == JPEG and photo[1]["Content-Type"] == "image/jpeg"
    assert photo[1]["X-Content-Type-Options"] == "nosniff" and photo[1]["Content-Disposition"].startswith("inline")
    assert again[0] == 200 and again[2] == JPEG  # the desk's login cookie works like a token
    assert len(fake_telegram.calls_to("download")) == 2  # the second look at the photo came from the cache
    assert document[0] == 200 and document[2] == PDF
    assert document[1]["Content-Type"] == "application/octet-stream"
    assert document[1]["X-Content-Type-Options"] == "nosniff"
    disposition = document[1]["Content-Disposition"]
    assert disposition.startswith('attachment; filename="_hoa don_gpj.pdf"; filename*=UTF-8')
    assert "/" not in disposition.split("filename*=UTF-8''")[1] and "\u202e" not in disposition
    assert anonymous[0] == 401
    assert fake_telegram.token not in caplog.text


def _run_api(factory, fake, scenario):
    """Staff API calls against a gateway with Telegram on; (status, JSON or bytes) each."""
    token = StaffService(factory).issue_token("lan")

    async def run(channel, rasa, url):
        async with aiohttp.ClientSession() as session:
            async def get(path):
                status, headers, body = await fetch(session, url + path, token)
                return status, json.loads(body) if headers["Content-Type"].startswith("application/json") else body
            return await scenario(get)

    return run_gateway(factory, fake, run)


def test_only_an_attachment_of_that_conversation_is_served(db_factory, fake_telegram):
    StaffService(db_factory).add("lan", "correct horse battery")
    fake_telegram.add_file("theirs", JPEG)
    fake_telegram.add_file("mine", JPEG)
    attach(db_factory, "tg-602", "mine")
    attach(db_factory, "tg-603", "theirs")
    # Rasa can reply with an "attachment" of its own: it is no customer's file.
    ConversationService(db_factory).record("tg-602", "bot", "", "telegram", None, {"attachment": {"file_id": "theirs"}})

    async def scenario(get):
        return [await get(f"/api/conversations/{path}") for path in
                ("tg-602/attachments/0", "tg-602/attachments/1", "tg-602/attachments/-1", "tg-602/attachments/x",
                 "tg-604/attachments/0")]

    results = _run_api(db_factory, fake_telegram, scenario)
    assert results[0] == (200, JPEG)
    assert [status for status, _ in results[1:]] == [404, 404, 404, 404]
    assert all(body["error"] == "no such attachment in this conversation" for _, body in results[1:])
    assert [c["params"]["file_id"] for c in fake_telegram.calls if c["method"] == "getFile"] == ["mine"]


def test_a_file_too_big_for_bots_and_telegram_down_are_clear_errors(db_factory, fake_telegram, caplog):
    caplog.set_level(logging.DEBUG)
    StaffService(db_factory).add("lan", "correct horse battery")
    fake_telegram.add_file("huge", b"x", size=25 * 1024 * 1024)
    fake_telegram.add_file("photo", JPEG)
    attach(db_factory, "tg-605", "huge", "document", "video.mp4")
    attach(db_factory, "tg-605", "photo")

    async def scenario(get):
        too_big = await get("/api/conversations/tg-605/attachments/0")
        fake_telegram.outage(600)
        down = await get("/api/conversations/tg-605/attachments/1")
        still = await get("/api/me")
        fake_telegram.outage(0)
        back = await get("/api/conversations/tg-605/attachments/1")
        return too_big, down, still, back

    too_big, down, still, back = _run_api(db_factory, fake_telegram, scenario)
    assert too_big[0] == 413 and "20 MB" in too_big[1]["error"]
    assert down[0] == 502 and "Telegram" in down[1]["error"]
    assert still == (200, {"name": "lan", "display_name": "lan", "roles": ["agent"]})
    assert back == (200, JPEG)  # a failure is not cached
    assert fake_telegram.token not in caplog.text


def test_a_file_path_naming_a_local_file_is_not_read(db_factory, fake_telegram, tmp_path):
    # python-telegram-bot would read a local file when getFile's file_path names one.
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the desk")
    StaffService(db_factory).add("lan", "correct horse battery")
    fake_telegram.add_file("local", b"x", path=str(secret))
    attach(db_factory, "tg-607", "local", "document", "secret.txt")

    async def scenario(get):
        return await get("/api/conversations/tg-607/attachments/0")

    status, body = _run_api(db_factory, fake_telegram, scenario)
    assert status == 502 and "not for the desk" not in str(body)


def test_without_telegram_the_route_says_so(db_factory):
    staff = StaffService(db_factory)
    staff.add("lan", "correct horse battery")
    token = staff.issue_token("lan")
    attach(db_factory, "tg-606", "photo-1")

    async def main():
        runner, url = await serve(gateway_app(db_factory))
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{url}/api/conversations/tg-606/attachments/0",
                                       headers={"Authorization": f"Bearer {token}"}) as response:
                    return response.status, await response.json()
        finally:
            await runner.cleanup()

    status, body = asyncio.run(main())
    assert status == 503 and "TELEGRAM_BOT_TOKEN" in body["error"]


def test_only_real_images_are_shown_inline():
    assert image_type(JPEG) == ("image/jpeg", "jpg")
    assert image_type(b"\x89PNG\r\n\x1a\n....") == ("image/png", "png")
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert image_type(b"GIF89a...") == ("image/gif", "gif")
    assert image_type(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') is None
    assert image_type(b"<html><script>alert(1)</script>") is None and image_type(b"") is None


def test_file_names_are_sanitised():
    assert safe_filename("C:\\Users\\khach\\hoá đơn.pdf", "file-1") == "hoá đơn.pdf"
    assert safe_filename("evil\u202egpj.exe", "file-1") == "evilgpj.exe"
    assert safe_filename("a\r\nSet-Cookie: x", "file-1") == "aSet-Cookie: x"
    assert safe_filename("..", "file-1") == "file-1" and safe_filename(None, "photo-2.jpg") == "photo-2.jpg"
    assert content_disposition("attachment", 'đơn "1"; x.pdf') == (
        "attachment; filename=\"don _1__ x.pdf\"; filename*=UTF-8''%C4%91%C6%A1n%20%221%22%3B%20x.pdf")


def test_the_file_cache_keeps_within_its_size_and_time():
    cache = FileCache(max_bytes=10, ttl=60)
    cache.put("a", b"12345")
    cache.put("b", b"12345")
    assert cache.get("a") == b"12345"  # now the most recently used
    cache.put("c", b"123")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"12345", None, b"123")
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None
    cache.ttl = 0
    assert cache.get("a") is None
