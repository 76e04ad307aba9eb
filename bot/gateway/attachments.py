"""Customers' files for staff: GET /api/conversations/{id}/attachments/{n}.

Telegram photos and documents are fetched from Telegram; files website customers
uploaded (bot/gateway/uploads.py) are read from the upload folder.

`n` counts the conversation's attachments in transcript order, so the URL never
carries a file id: only a file that really is in that conversation can be
fetched. Files are served so that a browser never runs them: images, recognised
by their bytes rather than their name, as themselves; anything else as a download.
"""
from __future__ import annotations

import asyncio
import re
import unicodedata
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

from aiohttp import web

from bot.services.conversations import ConversationService, TranscriptLine
from bot.services.uploads import UploadStore
from bot.text import nfc

# Magic numbers of the image types a browser may show inline; SVG is deliberately absent (it can carry script).
IMAGE_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
                    (b"GIF87a", "image/gif", "gif"), (b"GIF89a", "image/gif", "gif"))
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Opened in a tab of its own, the file still gets no script, style or plugin.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "private, max-age=300",
}


UPLOADS = web.AppKey("uploads", UploadStore)  # the website customers' files (bot/gateway/uploads.py)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _attachment(line: TranscriptLine) -> Optional[Dict[str, Any]]:
    # Only the gateway records customer lines with data; bot lines may carry Rasa's own "attachment".
    found = (line.data or {}).get("attachment") if line.author_type == "customer" else None
    if not isinstance(found, dict):
        return None
    return found if isinstance(found.get("file_id"), str) or isinstance(found.get("upload_id"), str) else None


def attachments_of(lines: Sequence[TranscriptLine]) -> List[Dict[str, Any]]:
    return [found for found in map(_attachment, lines) if found is not None]


def attachment_urls(sender: str, lines: Sequence[TranscriptLine]) -> List[Optional[str]]:
    """For each line, the URL of its attachment (None when it has none)."""
    urls, count = [], 0
    for line in lines:
        if _attachment(line) is None:
            urls.append(None)
            continue
        urls.append(f"/api/conversations/{quote(sender, safe='')}/attachments/{count}")
        count += 1
    return urls


def image_type(data: bytes) -> Optional[tuple]:
    """(content type, extension) of an image a browser may show, from its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    for signature, content_type, extension in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return content_type, extension
    return None


def safe_filename(name: Optional[str], fallback: str) -> str:
    """The customer's file name without directories, control or direction-changing characters; `fallback` if nothing is left."""
    name = nfc(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip(" .")[:120] or fallback


def content_disposition(disposition: str, name: str) -> str:
    """RFC 6266: an ASCII name for old clients, the real one (UTF-8) for the others."""
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name.encode("ascii", "ignore").decode()) or "file"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(data: bytes, attachment: Dict[str, Any], n: int) -> web.Response:
    image = image_type(data)
    if image is not None:
        content_type, disposition = image[0], "inline"
        name = safe_filename(attachment.get("file_name"), f"{attachment.get('kind') or 'file'}-{n + 1}.{image[1]}")
    else:
        content_type, disposition = "application/octet-stream", "attachment"
        name = safe_filename(attachment.get("file_name"), f"file-{n + 1}")
    headers = dict(HEADERS, **{"Content-Disposition": content_disposition(disposition, name)})
    return web.Response(body=data, content_type=content_type, headers=headers)


def attachment_number(text: str) -> Optional[int]:
    """`n` of an attachment URL: ASCII digits only. str.isdigit() also takes "²" and "٣", which int() refuses
    or reads, and int() of thousands of digits raises."""
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


async def serve(app: web.Application, conversations: ConversationService, sender: str, n_text: str) -> web.Response:
    """The n-th attachment's bytes, from the upload folder or Telegram (or the brief cache); Refused otherwise."""
    n = attachment_number(n_text)
    found = attachments_of(await asyncio.to_thread(conversations.transcript, sender)) if n is not None else []
    if n is None or n >= len(found):
        raise Refused(404, "no such attachment in this conversation")
    if isinstance(found[n].get("upload_id"), str):
        data = await asyncio.to_thread(app[UPLOADS].read, found[n]["upload_id"])
        if data is None:
            raise Refused(404, "the file is no longer stored (erased at the customer's request, or removed)")
        return file_response(data, found[n], n)
    return file_response(await _from_telegram(app, found[n]["file_id"]), found[n], n)


async def _from_telegram(app: web.Application, file_id: str) -> bytes:
    from bot.channels.telegram.files import MAX_DOWNLOAD, FileTooBig, FileUnavailable
    from bot.channels.telegram.setup import telegram_of

    channel = telegram_of(app)
    if channel is None:
        raise Refused(503, "Telegram is not configured on this gateway (TELEGRAM_BOT_TOKEN): files cannot be fetched")
    if not channel.ready.is_set():
        raise Refused(503, "not connected to Telegram yet; try again in a moment")
    try:
        return await channel.files.fetch(file_id)
    except FileTooBig:
        raise Refused(413, f"the file is larger than the {MAX_DOWNLOAD // 2**20} MB Telegram lets bots download; "
                           "ask the customer to send it another way") from None
    except FileUnavailable as exc:
        raise Refused(502, f"could not fetch the file from Telegram ({exc}); try again later") from None
