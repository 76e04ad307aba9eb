"""POST /upload?sender=ID: a website customer attaches a photo (JPEG, PNG, WebP) or a PDF.

multipart/form-data with `secret` (the conversation's, from POST /conversations)
first, then `file`, and optionally `caption`, `language` (vi | en, for the
acknowledgement) and `ref` (the widget's own id for the upload: the tab that
sent it already shows it, and skips the echo that tells its other tabs).
The secret travels in the body, not a header, so that the widget on a shop's
own site makes a simple request (no CORS preflight).

The type is decided from the file's first bytes; the declared content type and
the name are never trusted. The bytes go to the upload folder under a random id,
the cleaned name to the transcript only. Staff fetch the file through the
attachments route (bot/gateway/attachments.py), like a Telegram customer's.

Limits, checked before the body is read: files per client (429 with
Retry-After, bot/gateway/limits.py), files per conversation (429), and the
upload folder's cap for everyone together (507: the disk is the shop's, and
the operator finds a line in the log).
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Dict, Optional, Tuple
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation.core import ConversationCore, bot_message
from bot.conversation.guard import sender_problem, text_problem
from bot.gateway.attachments import UPLOADS, Refused, image_type, safe_filename
from bot.gateway.inputs import MALFORMED, content_type
from bot.gateway.limits import GatewayLimits, request_language
from bot.gateway.origins import cors_headers, origin_allowed
from bot.gateway.web_channel import REF
from bot.services.uploads import StoreFull, UploadStore
from bot.store.models import utcnow
from bot.text import nfc

UPLOAD_CORE = web.AppKey("upload_core", ConversationCore)
UPLOAD_ORIGINS = web.AppKey("upload_origins", frozenset)
UPLOAD_LIMITS = web.AppKey("upload_limits", GatewayLimits)
MAX_UPLOAD = 10 * 1024 * 1024
UPLOADS_PER_HOUR = 20
MAX_FIELD = 16 * 1024  # caption, language, ref
EXTENSIONS = {"jpg": (".jpg", ".jpeg"), "png": (".png",), "webp": (".webp",), "pdf": (".pdf",)}
STORE_FULL = {
    "vi": "Hiện hệ thống tạm thời chưa nhận thêm được tệp. Bạn vui lòng mô tả bằng tin nhắn, hoặc gửi lại tệp sau nhé.",
    "en": "We cannot take more files just now. Please describe it in a message, or send the file again later.",
}


class OverLimit(Refused):
    """A refusal already made into its answer (the 429 of a per-client limit)."""

    def __init__(self, response: web.Response):
        super().__init__(response.status, "over a limit")
        self.response = response


def sniff(data: bytes) -> Optional[Tuple[str, str]]:
    """(kind, extension) of a file customers may upload, from its first bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "document", "pdf"
    image = image_type(data)
    if image is not None and image[1] in EXTENSIONS:
        return "photo", image[1]
    return None


def display_name(name: Optional[str], kind: str, extension: str) -> str:
    """The customer's name for the file, cleaned, always ending as what the file really is.

    Staff download non-images under this name: "bill.html" that is really a PDF must not open as a web page.
    """
    name = safe_filename(name, f"{kind}.{extension}")
    return name if name.lower().endswith(EXTENSIONS[extension]) else f"{name}.{extension}"


async def upload(request: web.Request) -> web.Response:
    # The widget may live on the shop's own site while the gateway has another address: an allowed page
    # may read the answers (without this the browser hides them, even "too big").
    cors = cors_headers(request, request.app[UPLOAD_ORIGINS])
    try:
        return await _upload(request, cors)
    except Refused as exc:
        response = exc.response if isinstance(exc, OverLimit) else web.json_response({"error": str(exc)},
                                                                                     status=exc.status, headers=cors)
        if not request.content.at_eof():
            # Refused before the whole body arrived (too big): the connection cannot carry another request.
            response.force_close()
        return response


async def _upload(request: web.Request, cors) -> web.Response:
    if not origin_allowed(request, request.app[UPLOAD_ORIGINS]):
        raise Refused(403, "this site may not send files here (HOTRO_ALLOWED_ORIGINS)")
    sender = request.query.get("sender")
    error = sender_problem(sender)
    if error:
        raise Refused(400, error)
    limits = request.app[UPLOAD_LIMITS]
    refused = await limits.refusal(request, limits.client(request), "uploads", request.query.get("language"), cors)
    if refused is not None:
        raise OverLimit(refused)
    core: ConversationCore = request.app[UPLOAD_CORE]
    conversations = core.conversations
    try:
        recent = await asyncio.to_thread(conversations.uploads_since, sender, utcnow() - timedelta(hours=1))
    except SQLAlchemyError:  # the database is down: take the file, the transcript line waits in the backlog
        recent = 0
    if recent >= UPLOADS_PER_HOUR:
        raise Refused(429, f"at most {UPLOADS_PER_HOUR} files an hour per conversation; try again later")
    if (request.content_length or 0) > MAX_UPLOAD + MAX_FIELD * 4:
        raise Refused(413, _too_big())
    store: UploadStore = request.app[UPLOADS]
    await _with_room(request_language(request, request.query.get("language")), store.check_room)  # before the file
    fields, data, file_name = await _read_form(request, core, sender)
    if data is None:
        raise Refused(400, "no file: send it in a multipart/form-data field named 'file'")
    found = sniff(data)
    if found is None:
        raise Refused(415, "only JPEG, PNG or WebP pictures and PDF documents can be sent")
    kind, extension = found
    caption = nfc(fields.get("caption", "")).strip()[:4000]
    problem = text_problem(caption, "caption")
    if problem:
        raise Refused(400, problem)
    language = request_language(request, fields.get("language") or request.query.get("language"))
    upload_id = await _with_room(language, store.save, data)
    attachment = {"kind": kind, "upload_id": upload_id, "file_name": display_name(file_name, kind, extension)}
    replies = await core.customer_attachment(sender, attachment, caption, language, "web")
    ref = fields.get("ref", "")
    shown = {"kind": kind, "file_name": attachment["file_name"]}
    hub = core.hub
    await hub.echo(sender, {"type": "message", "author": "customer", "text": caption, "buttons": [],
                            "attachment": shown, "ref": ref if REF.fullmatch(ref) else None}, None)
    for reply in replies:
        await hub.deliver(sender, bot_message(reply))
    return web.json_response(dict(attachment, replies=replies), status=201, headers=cors)


async def _read_form(request: web.Request, core: ConversationCore,
                     sender: str) -> Tuple[Dict[str, str], Optional[bytes], Optional[str]]:
    """(small text fields, the file's bytes or None, the file's name as the client gave it).

    The conversation's secret must come before the file: a stranger's file is never read.
    """
    if not content_type(request).startswith("multipart/form-data"):
        raise Refused(400, "send the file as multipart/form-data in a field named 'file'")
    fields: Dict[str, str] = {}
    data, file_name, opened = None, None, False
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise Refused(400, "nested multipart bodies are not accepted")
            if part.name == "secret":
                secret = (await _read_limited(part, MAX_FIELD, 400, "'secret' is too long")).decode("utf-8", "replace")
                try:
                    opened = await core.may_open(sender, secret)
                except SQLAlchemyError:
                    raise Refused(503, "files cannot be received for a moment; please try again") from None
            elif part.name == "file" and not opened:
                raise Refused(403, "unknown conversation or wrong secret (send 'secret' before 'file')")
            elif part.name == "file" and data is None:
                data = await _read_limited(part, MAX_UPLOAD, 413, _too_big())
                # Browsers send %22, %0A and %0D for quotes and line breaks; some clients percent-encode it all.
                file_name = unquote(part.filename) if part.filename else None
            elif part.name in ("caption", "language", "ref"):
                raw = await _read_limited(part, MAX_FIELD, 400, f"'{part.name}' is too long")
                fields[part.name] = raw.decode("utf-8", "replace")
            else:
                await part.release()
    except MALFORMED:
        raise Refused(400, "the multipart/form-data body is malformed") from None
    if not opened:
        raise Refused(403, "unknown conversation or wrong secret")
    return fields, data, file_name


async def _read_limited(part: BodyPartReader, limit: int, status: int, message: str) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = await part.read_chunk(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Refused(status, message)
        chunks.append(chunk)


async def _with_room(language: str, fn, *args):
    """fn(*args) off the event loop; 507 when the upload folder is full."""
    try:
        return await asyncio.to_thread(fn, *args)
    except StoreFull:
        raise Refused(507, STORE_FULL[language]) from None


def _too_big() -> str:
    return f"the file is larger than {MAX_UPLOAD // 2**20} MB"


def add_uploads(app: web.Application, core: ConversationCore, store: UploadStore,
                origins: frozenset = frozenset(), limits: Optional[GatewayLimits] = None) -> None:
    app[UPLOADS] = store
    app[UPLOAD_CORE] = core
    app[UPLOAD_ORIGINS] = frozenset(origins)
    app[UPLOAD_LIMITS] = limits or GatewayLimits()
    app.router.add_post("/upload", upload)
