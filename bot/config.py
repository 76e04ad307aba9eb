"""Settings, all from the environment; every entry point first fills it from the git-ignored
.env without overriding what is already set (bot/settings_env.py).

Secrets (tokens, database passwords) are never in the repository.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent


def _default_db_url() -> str:
    return f"sqlite:///{ROOT / 'var' / 'hotro.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_db_url)
    order_backend: str = "db"  # "db" or "http"
    order_api_url: str = ""
    order_api_token: str = ""
    order_api_timeout: float = 3.0
    faq_dir: Path = ROOT / "faq"
    scripts_dir: Path = ROOT / "scripts"  # action scripts: steps and saved replies per complaint category
    timezone_offset_hours: int = 7  # Vietnam has no daylight saving
    opening_hours: str = "08:00-21:00"  # when staff answer live, Vietnam time
    staff_online_minutes: int = 10  # a staff member counts as online this long after using the desk/API
    upload_dir: Path = ROOT / "var" / "uploads"  # files website customers attach (never in git)
    staff_token_days: int = 90  # lifetime of a new API token; 0: it never expires
    trusted_proxies: str = ""  # reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, commas)
    auto_assign: bool = True  # routing gives handed-off chats and new tickets to staff (bot/services/routing.py)
    routing_fallback_seconds: int = 120  # nobody with the right skills this long: anyone available takes it
    routing_sweep_seconds: int = 5  # how often the gateway looks at the queue for the fallback
    sla_clock: str = "wall"  # "wall": the 24 h / 48 h are clock hours (seed 000); "business": business_hours.yml's
    business_hours_file: Path = ROOT / "business_hours.yml"
    nps_period_days: int = 90  # ask a customer "would you recommend us" at most once in this many days
    ces_period_days: int = 30  # ask "how easy was it" at most once in this many days

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            database_url=env.get("HOTRO_DATABASE_URL") or _default_db_url(),
            order_backend=env.get("HOTRO_ORDER_BACKEND", "db").strip().lower(),
            order_api_url=env.get("HOTRO_ORDER_API_URL", "").rstrip("/"),
            order_api_token=env.get("HOTRO_ORDER_API_TOKEN", ""),
            order_api_timeout=decimal_number("HOTRO_ORDER_API_TIMEOUT", env.get("HOTRO_ORDER_API_TIMEOUT") or "3",
                                             minimum=0.1),
            faq_dir=Path(env.get("HOTRO_FAQ_DIR") or ROOT / "faq"),
            scripts_dir=Path(env.get("HOTRO_SCRIPTS_DIR") or ROOT / "scripts"),
            opening_hours=env.get("HOTRO_OPENING_HOURS", "08:00-21:00"),
            staff_online_minutes=whole_number("HOTRO_STAFF_ONLINE_MINUTES",
                                              env.get("HOTRO_STAFF_ONLINE_MINUTES") or "10", minimum=1),
            upload_dir=Path(env.get("HOTRO_UPLOAD_DIR") or ROOT / "var" / "uploads"),
            staff_token_days=_non_negative("HOTRO_STAFF_TOKEN_DAYS", env.get("HOTRO_STAFF_TOKEN_DAYS") or "90"),
            trusted_proxies=env.get("HOTRO_TRUSTED_PROXIES", ""),
            auto_assign=_flag("HOTRO_AUTO_ASSIGN", env.get("HOTRO_AUTO_ASSIGN", "1")),
            routing_fallback_seconds=_non_negative("HOTRO_ROUTING_FALLBACK_SECONDS",
                                                   env.get("HOTRO_ROUTING_FALLBACK_SECONDS") or "120"),
            routing_sweep_seconds=max(1, _non_negative("HOTRO_ROUTING_SWEEP_SECONDS",
                                                       env.get("HOTRO_ROUTING_SWEEP_SECONDS") or "5")),
            sla_clock=_choice("HOTRO_SLA_CLOCK", env.get("HOTRO_SLA_CLOCK") or "wall", ("wall", "business")),
            business_hours_file=Path(env.get("HOTRO_BUSINESS_HOURS_FILE") or ROOT / "business_hours.yml"),
            nps_period_days=_non_negative("HOTRO_NPS_PERIOD_DAYS", env.get("HOTRO_NPS_PERIOD_DAYS") or "90"),
            ces_period_days=_non_negative("HOTRO_CES_PERIOD_DAYS", env.get("HOTRO_CES_PERIOD_DAYS") or "30"),
        )


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{name} is 1 (on) or 0 (off), not {value}")


def _choice(name: str, value: str, allowed) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value}")
    return value


def whole_number(name: str, value: str, minimum: Optional[int] = None) -> int:
    """A setting that is a whole number: a wrong one stops start-up with the setting's name, not int()'s words."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be {minimum} or more, not {value}")
    return number


def decimal_number(name: str, value: str, minimum: float = 0.0) -> float:
    """A setting that is a number of seconds or the like (2, 0.5): finite and at least `minimum`."""
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ValueError(f"{name} must be a number of at least {minimum:g}, not {value}")
    return number


def _non_negative(name: str, value: str) -> int:
    return whole_number(name, value, minimum=0)
