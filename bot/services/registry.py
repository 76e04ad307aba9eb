"""The services one process uses, built once from the environment."""
from __future__ import annotations

import os
from functools import lru_cache

from bot.config import Settings
from bot.services.handoff import HandoffService
from bot.services.orders import OrderBackend, order_backend_from_settings
from bot.services.tickets import TicketService
from bot.store.db import session_factory


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


def tickets() -> TicketService:
    return TicketService(session_factory(settings().database_url))


@lru_cache(maxsize=1)
def orders() -> OrderBackend:
    return order_backend_from_settings(settings(), session_factory(settings().database_url))


def handoff() -> HandoffService:
    from bot.services.conversations import ConversationService
    from bot.services.handoff import LiveHandoff
    from bot.services.staff import StaffService

    factory = session_factory(settings().database_url)
    conversations = ConversationService(factory)
    live = LiveHandoff(
        conversations, StaffService(factory).last_seen, settings().opening_hours,
        settings().staff_online_minutes, utc_offset_hours=settings().timezone_offset_hours, routing=routing(),
    )
    return HandoffService(tickets(), live)


def routing():
    """The routing service, or None when HOTRO_AUTO_ASSIGN is off (staff claim chats themselves)."""
    if not settings().auto_assign:
        return None
    from bot.services.conversations import ConversationService
    from bot.services.routing import RoutingService

    factory = session_factory(settings().database_url)
    return RoutingService.from_settings(factory, ConversationService(factory), settings())


@lru_cache(maxsize=1)
def handoff_quota():
    """One per process: it holds the in-memory count (or the Redis client, with HOTRO_REDIS_URL)."""
    from bot.ratelimit import LimitSettings, make_limiter
    from bot.services.handoff_quota import HandoffQuota

    return HandoffQuota(make_limiter(os.environ.get("HOTRO_REDIS_URL") or None), LimitSettings.from_env().handoffs)


@lru_cache(maxsize=1)
def faq_library():
    from bot.faq.library import FaqLibrary

    return FaqLibrary(settings().faq_dir).watch()


def faq():
    from bot.services.faq import FaqService

    return FaqService(faq_library(), session_factory(settings().database_url))


def surveys():
    from bot.services.surveys import SurveyService

    return SurveyService(session_factory(settings().database_url), settings().nps_period_days,
                         settings().ces_period_days)
