"""Where the bot looks up the shop's orders: our database, or the shop's own HTTP API.

HTTP contract (HOTRO_ORDER_BACKEND=http):
    GET {HOTRO_ORDER_API_URL}/orders/{number}
        Authorization: Bearer {HOTRO_ORDER_API_TOKEN}   (when set)
    200 {"number": "DH100001", "status": "delivered", "items": "…",
         "customer": {"name": "…", "phone": "0912345678", "email": "…"}}
    404 when the order does not exist. Anything else is an error.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.parsers import normalize_phone, parse_order_number
from bot.store.db import session_scope
from bot.store.models import Order

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderInfo:
    number: str
    status: str
    items: str
    customer_name: str
    phone: Optional[str]
    email: Optional[str]
    customer_id: Optional[int] = None


class OrderLookupError(Exception):
    """The order source could not answer (down, timeout, bad reply)."""


class OrderBackend(Protocol):
    def lookup(self, number: str) -> Optional[OrderInfo]:
        ...


class DatabaseOrderBackend:
    def __init__(self, factory: sessionmaker):
        self._factory = factory

    def lookup(self, number: str) -> Optional[OrderInfo]:
        try:
            with session_scope(self._factory) as session:
                order = session.execute(select(Order).where(Order.number == number)).scalars().first()
                if order is None:
                    return None
                customer = order.customer
                return OrderInfo(
                    number=order.number,
                    status=order.status,
                    items=order.items,
                    customer_name=customer.name,
                    phone=customer.phone,
                    email=customer.email,
                    customer_id=customer.id,
                )
        except Exception as exc:  # database down or not migrated
            raise OrderLookupError(str(exc)) from exc


class HttpOrderBackend:
    def __init__(self, base_url: str, token: str = "", timeout: float = 3.0):
        if not base_url:
            raise ValueError("HOTRO_ORDER_API_URL is required for the http order backend")
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def lookup(self, number: str) -> Optional[OrderInfo]:
        url = f"{self._base_url}/orders/{number}"
        try:
            response = self._session.get(url, timeout=self._timeout)
        except requests.RequestException as exc:
            raise OrderLookupError(f"order API unreachable: {type(exc).__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise OrderLookupError(f"order API answered {response.status_code}")
        try:
            data = response.json()
            customer = data.get("customer") or {}
            returned = parse_order_number(str(data["number"]), expecting=True).number
            return OrderInfo(
                number=returned or number,
                status=str(data.get("status", "")),
                items=str(data.get("items", "")),
                customer_name=str(customer.get("name", "")),
                phone=normalize_phone(str(customer.get("phone") or "")),
                email=(customer.get("email") or None),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OrderLookupError("order API sent a reply we cannot read") from exc


def order_backend_from_settings(settings, factory: sessionmaker) -> OrderBackend:
    if settings.order_backend == "http":
        return HttpOrderBackend(settings.order_api_url, settings.order_api_token, settings.order_api_timeout)
    return DatabaseOrderBackend(factory)
