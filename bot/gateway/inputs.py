"""Reading what a request carries, for every route: bad input is a 4xx with {"error": ...}, never a 500.

aiohttp and Python let through, or fail on, more than a handler expects:
- JSON nested a thousand deep raises RecursionError, not ValueError;
- a body that is not UTF-8, or names a charset Python does not know (LookupError), fails in
  `request.post()` and `request.text()`; a Content-Type header that is not ASCII fails even
  `request.content_type`;
- header values are decoded with surrogateescape, so a token or cookie may hold lone surrogates.
Handlers call these instead of aiohttp's readers; the refusals are HTTP exceptions with a JSON body,
which the gateway's json_errors middleware lets through as they are.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from bot.conversation.guard import is_token, text_problem

# What aiohttp's own parsers raise on a body or header they cannot read: UnicodeError is a ValueError, a
# multipart part's header with NUL is an HttpProcessingError, a bad parameter in one has raised IndexError
# and AssertionError.
MALFORMED = (ValueError, LookupError, IndexError, AssertionError, HttpProcessingError)


def json_error(status: int, message: str, headers: Optional[Mapping[str, str]] = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class BadInput(web.HTTPBadRequest):
    """A 400 with a JSON error, raised from wherever the input is read."""

    def __init__(self, message: str, headers: Optional[Mapping[str, str]] = None):
        super().__init__(text=json.dumps({"error": message}), content_type="application/json", headers=headers)
        self.message = message


class NotFound(web.HTTPNotFound):
    def __init__(self, message: str):
        super().__init__(text=json.dumps({"error": message}), content_type="application/json")


def parse_json(raw) -> Any:
    """JSON text or bytes (UTF-8, -16 or -32) to a value; ValueError with a sentence for anything else."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError:  # not JSON, not UTF-8, or a number of thousands of digits
        raise ValueError("the body must be JSON") from None


async def read_json(request: web.Request) -> Any:
    """The body's JSON value, whatever its declared charset; BadInput otherwise (413 past the size limit)."""
    raw = await request.read()
    try:
        return parse_json(raw)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


async def read_object(request: web.Request) -> Dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadInput("the body must be a JSON object")
    return body


def content_type(request: web.Request) -> str:
    """The body's media type; "" when the header cannot be read."""
    try:
        return request.content_type
    except MALFORMED:
        return ""


async def read_form(request: web.Request, headers: Optional[Mapping[str, str]] = None) -> MultiDictProxy:
    """A form body's fields (empty for other content types); BadInput when it cannot be decoded."""
    try:
        return await request.post()
    except MALFORMED:
        raise BadInput("the form cannot be read (is it UTF-8?)", headers) from None


def form_text(form: MultiDictProxy, key: str) -> str:
    """A form field as text: "" when missing or a file; BadInput when it cannot be stored."""
    value = form.get(key, "")
    if not isinstance(value, str):
        return ""
    problem = text_problem(value, key)
    if problem:
        raise BadInput(problem)
    return value


def path_id(request: web.Request, key: str, what: str) -> str:
    """An id from the URL; a 404 for one no record can have (NUL, which PostgreSQL cannot even look up)."""
    value = request.match_info[key]
    if text_problem(value, key):
        raise NotFound(f"no such {what}")
    return value


def credential(value: Optional[str]) -> Optional[str]:
    """A token, secret or cookie from a header as the gateway could have issued it; None otherwise."""
    value = value.strip() if isinstance(value, str) else value
    return value if is_token(value) else None
