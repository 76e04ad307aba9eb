"""Staff accounts: passwords (scrypt, from Python's standard library on OpenSSL) and API tokens."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.store.db import session_scope
from bot.store.models import Staff, StaffToken, utcnow

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
MIN_PASSWORD_LENGTH = 10
# A desk login lasts a shift without activity; each request moves the expiry on.
SESSION_IDLE = timedelta(hours=8)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class StaffError(Exception):
    pass


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    display_name: str


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a desk session: derived from it, so nothing more is stored.

    A cross-site page can make the browser send the session cookie but cannot
    read the desk page, so it cannot know this value.
    """
    return hashlib.sha256(b"hotro-csrf:" + session_token.encode()).hexdigest()


class StaffService:
    def __init__(self, factory: sessionmaker, clock: Callable = utcnow):
        self._factory = factory
        self._clock = clock

    def add(self, name: str, password: str, display_name: Optional[str] = None) -> StaffMember:
        if not NAME_PATTERN.match(name):
            raise StaffError("a staff name is 2-50 lowercase letters, digits, dots, dashes or underscores")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        try:
            with session_scope(self._factory) as session:
                staff = Staff(name=name, display_name=display_name or name, password_hash=hash_password(password),
                              created_at=self._clock())
                session.add(staff)
                session.flush()
                return StaffMember(staff.id, staff.name, staff.display_name)
        except IntegrityError as exc:
            raise StaffError(f"there is already a staff member called {name}") from exc

    def check_password(self, name: str, password: str) -> Optional[StaffMember]:
        with session_scope(self._factory) as session:
            staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
            if staff is None:
                hash_password(password)  # same time whether or not the name exists
                return None
            if not password_matches(password, staff.password_hash):
                return None
            return StaffMember(staff.id, staff.name, staff.display_name)

    def all(self) -> List[StaffMember]:
        with session_scope(self._factory) as session:
            rows = session.execute(select(Staff).order_by(Staff.display_name)).scalars()
            return [StaffMember(s.id, s.name, s.display_name) for s in rows]

    def get(self, name: str) -> Optional[StaffMember]:
        with session_scope(self._factory) as session:
            staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
            return StaffMember(staff.id, staff.name, staff.display_name) if staff else None

    def issue_token(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        with session_scope(self._factory) as session:
            staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
            if staff is None:
                raise StaffError(f"no staff member called {name}")
            session.add(StaffToken(staff_id=staff.id, token_hash=_token_hash(token), created_at=self._clock()))
        return token

    def by_token(self, token: Optional[str]) -> Optional[StaffMember]:
        """The owner of an API token (`staff token`)."""
        return self._lookup(token, "api")

    def start_session(self, name: str, password: str) -> Optional[Tuple[str, StaffMember]]:
        """A desk login: (session token for the cookie, staff member), or None for a wrong name or password."""
        member = self.check_password(name, password)
        if member is None:
            return None
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with session_scope(self._factory) as session:
            session.add(StaffToken(staff_id=member.id, token_hash=_token_hash(token), kind="session",
                                   created_at=now, last_used_at=now, expires_at=now + SESSION_IDLE))
        return token, member

    def by_session(self, token: Optional[str]) -> Optional[StaffMember]:
        """The staff member logged in with this desk session, while it has not expired."""
        return self._lookup(token, "session")

    def end_session(self, token: Optional[str]) -> None:
        if not token:
            return
        with session_scope(self._factory) as session:
            row = session.execute(
                select(StaffToken).where(StaffToken.token_hash == _token_hash(token), StaffToken.kind == "session")
            ).scalars().first()
            if row is not None:
                session.delete(row)

    def _lookup(self, token: Optional[str], kind: str) -> Optional[StaffMember]:
        if not token:
            return None
        now = self._clock()
        with session_scope(self._factory) as session:
            row = session.execute(
                select(StaffToken).where(StaffToken.token_hash == _token_hash(token), StaffToken.kind == kind)
            ).scalars().first()
            if row is None:
                return None
            if row.expires_at is not None:
                if row.expires_at <= now:
                    session.delete(row)
                    return None
                row.expires_at = now + SESSION_IDLE
            row.last_used_at = now
            return StaffMember(row.staff.id, row.staff.name, row.staff.display_name)

    def last_seen(self) -> Optional[datetime]:
        """When any staff member last used the desk or the API."""
        from sqlalchemy import func

        with session_scope(self._factory) as session:
            return session.execute(select(func.max(StaffToken.last_used_at))).scalar_one_or_none()

    def link_telegram(self, name: str, telegram_user_id: str) -> StaffMember:
        """Let this staff member answer customers from the Telegram staff group."""
        user_id = str(telegram_user_id).strip()
        if not re.fullmatch(r"-?\d{1,20}", user_id):
            raise StaffError("a Telegram user id is a number (ask @userinfobot, or see the bot's log)")
        try:
            with session_scope(self._factory) as session:
                staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
                if staff is None:
                    raise StaffError(f"no staff member called {name}")
                staff.telegram_user_id = user_id
                session.flush()
                return StaffMember(staff.id, staff.name, staff.display_name)
        except IntegrityError as exc:
            raise StaffError(f"Telegram user {user_id} is already linked to another staff member") from exc

    def by_telegram_user(self, telegram_user_id) -> Optional[StaffMember]:
        with session_scope(self._factory) as session:
            staff = session.execute(
                select(Staff).where(Staff.telegram_user_id == str(telegram_user_id))
            ).scalars().first()
            return StaffMember(staff.id, staff.name, staff.display_name) if staff else None
