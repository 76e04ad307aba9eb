"""/api/faq: the desk's FAQ tab and other tools edit the FAQ (bot/services/faq_editor.py does the work).

Behind the staff API's authentication, CSRF and the `faq` permission (editors and admins: see
ROUTE_PERMISSIONS in api.py). Writes go to the FAQ folder the bot reads (HOTRO_FAQ_DIR).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Optional

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from bot.conversation.guard import text_problem
from bot.gateway.api import _run
from bot.gateway.inputs import BadInput, path_id, read_object
from bot.services.faq_editor import (
    EntryNotFound, FaqConflict, FaqEditor, FaqInvalid, try_question, work_list,
)

logger = logging.getLogger(__name__)

MAX_QUESTION = 1000  # a "try a question" box, not a document


class FaqDesk:
    """The editor, and the FAQ as the bot answers from it (for "try a question" and the report). The
    library trains a model when built, so it is built on first use, not with every gateway."""

    def __init__(self, directory: Path, factory: sessionmaker):
        # No reload on each save: the library notices changed files itself when next asked (it retrains then,
        # a few seconds of CPU this process should not spend for every save nobody tries).
        self.editor = FaqEditor(directory, factory)
        self._directory = Path(directory)
        self._factory = factory
        self._service = None
        self._lock = threading.Lock()

    def service(self):
        with self._lock:
            if self._service is None:
                from bot.faq.library import FaqLibrary
                from bot.services.faq import FaqService

                self._service = FaqService(FaqLibrary(self._directory), self._factory)
            return self._service


DESK = web.AppKey("faq_desk", FaqDesk)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _version(body: dict) -> Optional[str]:
    value = body.get("version")
    return value if isinstance(value, str) else None


async def _edit(fn, *args) -> web.Response:
    """Run a change and turn the editor's refusals into answers the desk shows at the right place."""
    try:
        result = await _run(fn, *args)
    except FaqInvalid as exc:
        return _error(422, "the FAQ check refused this save: nothing was changed", fields=exc.fields,
                      warnings=exc.warnings)
    except FaqConflict as exc:
        return _error(409, str(exc), current=exc.current.as_dict() if exc.current else None)
    except EntryNotFound as exc:
        return _error(404, str(exc))
    if hasattr(result, "entry"):
        return web.json_response({**result.entry.as_dict(), "revision": result.revision, "warnings": result.warnings})
    return web.json_response(result.as_dict())


def _summary(topic: str, entry: dict) -> dict:
    questions = entry.get("questions") if isinstance(entry.get("questions"), dict) else {}
    first = next((q for lang in ("vi", "en") for q in (questions.get(lang) or []) if isinstance(q, str)), "")
    return {"id": entry.get("id"), "topic": topic, "question": first, "tags": entry.get("tags") or [],
            "reviewed": entry.get("reviewed"),
            "questions": {lang: len(v) for lang, v in questions.items() if isinstance(v, list)}}


async def list_entries(request: web.Request) -> web.Response:
    """?q= (words in the id, questions, answers or tags, with or without diacritics) &topic= (a file)."""
    editor = request.app[DESK].editor
    query, topic = request.query.get("q", "")[:200], request.query.get("topic") or None
    topics = await _run(editor.topics)
    hits = await _run(editor.search, query, topic)
    retired = await _run(editor.retired)
    return web.json_response({
        "topics": [{"name": t.name, "title": t.title, "entries": len(t.entries), "problem": t.problem}
                   for t in topics],
        "entries": [_summary(t, e) for t, e in hits],
        "retired": [{"id": r.faq_id, "topic": (r.before or {}).get("topic"), "revision": r.id, "author": r.author,
                     "at": r.created_at.isoformat() + "Z"} for r in retired],
    })


def _entry_id(request: web.Request) -> str:
    return path_id(request, "id", "FAQ entry")


async def get_entry(request: web.Request) -> web.Response:
    try:
        found = await _run(request.app[DESK].editor.get, _entry_id(request))
    except EntryNotFound as exc:
        return _error(404, str(exc))
    return web.json_response(found.as_dict())


async def create_entry(request: web.Request) -> web.Response:
    """{"topic": "khuyen-mai", "topic_title": "…" (a new topic's heading), "entry": {id, questions, answer, tags, links}}"""
    body = await read_object(request)
    if not isinstance(body.get("entry"), dict) or not isinstance(body.get("topic"), str):
        return _error(400, 'send {"topic": "…", "entry": {…}}')
    response = await _edit(request.app[DESK].editor.create, body["topic"], body["entry"], request["staff"].name,
                           body.get("topic_title") if isinstance(body.get("topic_title"), str) else "")
    if response.status == 200:
        response.set_status(201)
    return response


async def update_entry(request: web.Request) -> web.Response:
    """{"version": from GET, "entry": {questions, answer, tags, links}}: 409 if the entry changed since."""
    entry_id = _entry_id(request)
    body = await read_object(request)
    if not isinstance(body.get("entry"), dict):
        return _error(400, 'send {"version": "…", "entry": {…}}')
    return await _edit(request.app[DESK].editor.update, entry_id, _version(body), body["entry"],
                       request["staff"].name)


async def retire_entry(request: web.Request) -> web.Response:
    entry_id = _entry_id(request)
    body = await read_object(request)
    return await _edit(request.app[DESK].editor.retire, entry_id, _version(body), request["staff"].name)


async def entry_history(request: web.Request) -> web.Response:
    revisions = await _run(request.app[DESK].editor.history, _entry_id(request))
    return web.json_response([r.as_dict() for r in revisions])


async def restore_entry(request: web.Request) -> web.Response:
    """{"revision": id from the history, "version": the entry's current version (none if it is retired)}"""
    entry_id = _entry_id(request)
    body = await read_object(request)
    if not isinstance(body.get("revision"), int) or isinstance(body.get("revision"), bool):
        return _error(400, 'send {"revision": 12, "version": "…"}')
    return await _edit(request.app[DESK].editor.restore, entry_id, body["revision"], _version(body),
                       request["staff"].name)


async def try_a_question(request: web.Request) -> web.Response:
    question = (await read_object(request)).get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION:
        return _error(400, f"'question' is a non-empty text of at most {MAX_QUESTION} characters")
    problem = text_problem(question, "question")
    if problem:
        raise BadInput(problem)
    desk = request.app[DESK]
    service = await _run(desk.service)
    # The editor tries what they just saved: wait for the files on disk, not the background rebuild.
    await _run(service.library.refresh)
    return web.json_response(await _run(try_question, service, question.strip()))


async def report(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    service = await _run(desk.service)
    items = await _run(work_list, service, desk.editor)
    return web.json_response([item.as_dict() for item in items])


def add_faq_api(app: web.Application, directory: Path, factory: sessionmaker) -> None:
    app[DESK] = FaqDesk(directory, factory)
    app.router.add_get("/api/faq/entries", list_entries)
    app.router.add_post("/api/faq/entries", create_entry)
    app.router.add_get("/api/faq/entries/{id}", get_entry)
    app.router.add_put("/api/faq/entries/{id}", update_entry)
    app.router.add_post("/api/faq/entries/{id}/retire", retire_entry)
    app.router.add_get("/api/faq/entries/{id}/history", entry_history)
    app.router.add_post("/api/faq/entries/{id}/restore", restore_entry)
    app.router.add_post("/api/faq/try", try_a_question)
    app.router.add_get("/api/faq/report", report)
