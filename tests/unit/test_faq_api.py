"""/api/faq over HTTP: what the desk's FAQ tab and other tools use (the rules are in test_faq_editor.py)."""
import pytest

from bot.services.faq import FaqService
from bot.faq.library import FaqLibrary
from bot.services.staff import StaffService
from tests.unit.test_desk import PASSWORD
from tests.unit.test_faq_editor import COMMENTED, WHOLESALE
from tests.unit.test_roles import run


@pytest.fixture
def editor_setup(db_factory, tmp_path):
    StaffService(db_factory).add("hoa", PASSWORD, "Hoa", roles="editor")
    faq = tmp_path / "faq"
    faq.mkdir()
    (faq / "lien-he.yml").write_text(COMMENTED, encoding="utf-8")
    return {"Authorization": "Bearer " + StaffService(db_factory).issue_token("hoa")}, faq


async def call(session, base, headers, method, path, body=None):
    async with session.request(method, base + path, json=body, headers=headers) as response:
        return response.status, await response.json()


def test_an_editor_adds_edits_and_restores_an_entry_over_the_api(db_factory, editor_setup):
    headers, faq = editor_setup

    async def scenario(session, base):
        r = {}
        r["create"] = await call(session, base, headers, "POST", "/api/faq/entries",
                                 {"topic": "khuyen-mai", "topic_title": "Khuyến mãi", "entry": WHOLESALE})
        r["again"] = await call(session, base, headers, "POST", "/api/faq/entries",
                                {"topic": "khuyen-mai", "entry": WHOLESALE})
        r["list"] = await call(session, base, headers, "GET", "/api/faq/entries?q=mua+si")
        r["get"] = await call(session, base, headers, "GET", "/api/faq/entries/wholesale-discount")
        version = r["get"][1]["version"]
        edited = dict(WHOLESALE, answer={"vi": "Giảm 15%.", "en": "15% off."})
        r["broken"] = await call(session, base, headers, "PUT", "/api/faq/entries/wholesale-discount",
                                 {"version": version, "entry": dict(edited, answer={"vi": "Giảm 15%.", "en": ""})})
        r["update"] = await call(session, base, headers, "PUT", "/api/faq/entries/wholesale-discount",
                                 {"version": version, "entry": edited})
        r["stale"] = await call(session, base, headers, "PUT", "/api/faq/entries/wholesale-discount",
                                {"version": version, "entry": WHOLESALE})
        r["history"] = await call(session, base, headers, "GET", "/api/faq/entries/wholesale-discount/history")
        first = r["history"][1][-1]["id"]
        r["restore"] = await call(session, base, headers, "POST", "/api/faq/entries/wholesale-discount/restore",
                                  {"revision": first, "version": r["update"][1]["version"]})
        r["retire"] = await call(session, base, headers, "POST", "/api/faq/entries/wholesale-discount/retire",
                                 {"version": r["restore"][1]["version"]})
        r["retired"] = await call(session, base, headers, "GET", "/api/faq/entries")
        r["gone"] = await call(session, base, headers, "GET", "/api/faq/entries/wholesale-discount")
        r["bad_body"] = await call(session, base, headers, "POST", "/api/faq/entries", ["not", "an", "object"])
        r["bad_revision"] = await call(session, base, headers, "POST", "/api/faq/entries/hotline/restore",
                                       {"revision": "1"})
        return r

    r = run(db_factory, scenario, faq_dir=faq)
    assert r["create"][0] == 201 and r["create"][1]["topic"] == "khuyen-mai" and r["create"][1]["revision"]
    assert r["again"][0] == 422 and "already an entry" in r["again"][1]["fields"]["id"][0]
    assert [e["id"] for e in r["list"][1]["entries"]] == ["wholesale-discount"]
    assert {t["name"]: t["title"] for t in r["list"][1]["topics"]} == {"khuyen-mai": "Khuyến mãi",
                                                                       "lien-he": "Liên hệ / Contact"}
    assert r["get"][1]["entry"]["questions"] == WHOLESALE["questions"]
    assert r["broken"][0] == 422 and list(r["broken"][1]["fields"]) == ["answer.en"]
    assert r["update"][0] == 200 and r["update"][1]["entry"]["answer"]["vi"] == "Giảm 15%."
    assert r["stale"][0] == 409 and r["stale"][1]["current"]["entry"]["answer"]["vi"] == "Giảm 15%."
    assert [(h["action"], h["author"]) for h in r["history"][1]] == [("update", "hoa"), ("create", "hoa")]
    assert r["restore"][0] == 200 and r["restore"][1]["entry"]["answer"]["vi"] == WHOLESALE["answer"]["vi"]
    assert r["retire"][0] == 200 and r["retire"][1]["action"] == "retire"
    assert [x["id"] for x in r["retired"][1]["retired"]] == ["wholesale-discount"]
    assert r["gone"][0] == 404
    assert (r["bad_body"][0], r["bad_revision"][0]) == (400, 400)
    assert "wholesale-discount" not in (faq / "khuyen-mai.yml").read_text(encoding="utf-8")


def test_try_a_question_and_the_report_over_the_api(db_factory, editor_setup):
    headers, faq = editor_setup
    FaqService(FaqLibrary(faq), db_factory).record("picked", "số tổng đài là gì, gọi lại 0912345678", "vi", "s1",
                                                   faq_id="hotline")

    async def scenario(session, base):
        tried = await call(session, base, headers, "POST", "/api/faq/try", {"question": "Số hotline của shop là gì?"})
        empty = await call(session, base, headers, "POST", "/api/faq/try", {"question": "  "})
        report = await call(session, base, headers, "GET", "/api/faq/report")
        return tried, empty, report

    tried, empty, report = run(db_factory, scenario, faq_dir=faq)
    assert tried[0] == 200 and tried[1]["decision"] == "answer" and tried[1]["entry"] == "hotline"
    assert [m["id"] for m in tried[1]["ranked"]][0] == "hotline" and "score" in tried[1]["ranked"][0]
    assert empty[0] == 400
    [line] = report[1]
    assert line["question"] == "số tổng đài là gì, gọi lại 0912***678"
    assert (line["action"], line["entry"], line["kind"], line["count"]) == ("add_example", "hotline", "picked", 1)


def test_hostile_requests_to_the_faq_routes_get_json_4xx_and_change_nothing(db_factory, editor_setup):
    headers, faq = editor_setup
    before = {p.name: p.read_bytes() for p in faq.iterdir()}
    deep = "[" * 5000 + "]" * 5000
    requests = [
        ("POST", "/api/faq/entries", "[1, 2]"), ("POST", "/api/faq/entries", deep),
        ("POST", "/api/faq/entries", '{"topic": "x", "entry": {"id": "a\\ud800", "questions": {"vi": ["\\ud800"]}}}'),
        ("POST", "/api/faq/entries", '{"topic": "../../etc", "entry": {"id": "x"}}'),
        ("PUT", "/api/faq/entries/hotline", '{"version": 12, "entry": {"questions": {"vi": "x"}}}'),
        ("PUT", "/api/faq/entries/hot%00line", '{"version": "x", "entry": {}}'),
        ("POST", "/api/faq/entries/hotline/restore", '{"revision": 99999999999999999999999}'),
        ("POST", "/api/faq/entries/hotline/restore", '{"revision": true}'),
        ("POST", "/api/faq/entries/hotline/retire", "not json"),
        ("POST", "/api/faq/try", '{"question": "\\u0000"}'), ("POST", "/api/faq/try", '{"question": "' + "x" * 1001 + '"}'),
        ("GET", "/api/faq/entries/%00", None), ("GET", "/api/faq/entries?q=%ED%A0%80&topic=%00", None),
    ]

    async def scenario(session, base):
        seen = []
        for method, path, body in requests:
            async with session.request(method, base + path, data=body, headers={
                    **headers, "Content-Type": "application/json"}) as response:
                seen.append((path, response.status, response.content_type))
        return seen

    seen = run(db_factory, scenario, faq_dir=faq)
    assert all(400 <= status < 500 or (status == 200 and path.startswith("/api/faq/entries?")) for path, status, _ in seen), seen
    assert all(kind == "application/json" for _, _, kind in seen), seen
    assert {p.name: p.read_bytes() for p in faq.iterdir() if p.name != ".faq-editor.lock"} == before
