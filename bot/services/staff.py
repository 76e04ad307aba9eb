"""Staff accounts: passwords (scrypt, from Python's standard library on OpenSSL), desk sessions and API tokens.

An account can be disabled (someone leaves, a laptop is lost): that ends its sessions and
tokens at once, and it can neither log in nor act from the Telegram staff group until enabled.
Each account has roles (bot/services/roles.py): agent, editor, admin.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, List, Optional, Tuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.services import roles as role_rules
from bot.services import routing
from bot.services.login_throttle import LoginThrottle
from bot.store.db import session_scope
from bot.store.models import Staff, StaffToken, utcnow

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")
MIN_PASSWORD_LENGTH = 10
# A desk login lasts a shift without activity; each request moves the expiry on.
SESSION_IDLE = timedelta(hours=8)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class StaffError(Exception):
    pass


class NoSuchStaff(StaffError):
    pass


class LoginThrottled(StaffError):
    """Too many wrong passwords for this account or from this address: wait, whatever the password."""


@dataclass(frozen=True)
class TokenInfo:
    """A session or API token as an administrator sees it: never the token itself."""
    id: int
    owner: str
    kind: str  # session | api
    created_at: datetime
    last_used_at: Optional[datetime]
    expires_at: Optional[datetime]


@dataclass(frozen=True)
class StaffAccount:
    name: str
    display_name: str
    disabled: bool
    telegram_linked: bool
    created_at: datetime
    roles: Tuple[str, ...] = ()
    skills: routing.Skills = routing.Skills()
    capacity: int = routing.DEFAULT_CAPACITY
    chosen_availability: str = "online"  # what the person set
    availability: str = "offline"  # what routing believes: online only while seen lately
    seen_at: Optional[datetime] = None


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    display_name: str
    roles: Tuple[str, ...] = ()

    def can(self, permission: str) -> bool:
        return role_rules.allowed(self.roles, permission)


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


def _member(staff: Staff) -> StaffMember:
    return StaffMember(staff.id, staff.name, staff.display_name, role_rules.from_stored(staff.roles))


def _account(staff: Staff, now: datetime, online_window: timedelta) -> StaffAccount:
    return StaffAccount(staff.name, staff.display_name, staff.disabled_at is not None,
                        staff.telegram_user_id is not None, staff.created_at, role_rules.from_stored(staff.roles),
                        routing.skills_of(staff), staff.capacity, staff.availability,
                        routing.effective_availability(staff.availability, staff.seen_at, now, online_window)
                        if staff.disabled_at is None else "offline", staff.seen_at)


def _active(session: Session, name: str) -> Optional[Staff]:
    return session.execute(select(Staff).where(Staff.name == name, Staff.disabled_at.is_(None))).scalars().first()


def _existing(session: Session, name: str) -> Staff:
    staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
    if staff is None:
        raise NoSuchStaff(f"no staff member called {name}")
    return staff


class StaffService:
    def __init__(self, factory: sessionmaker, clock: Callable = utcnow, token_days: Optional[int] = None,
                 online_minutes: Optional[int] = None):
        """`token_days`: lifetime of new API tokens, 0 for ever (HOTRO_STAFF_TOKEN_DAYS by default);
        `online_minutes`: how long after their last request someone counts as online (HOTRO_STAFF_ONLINE_MINUTES)."""
        self._factory = factory
        self._clock = clock
        if token_days is None or online_minutes is None:
            from bot.config import Settings

            settings = Settings.from_env()
            token_days = settings.staff_token_days if token_days is None else token_days
            online_minutes = settings.staff_online_minutes if online_minutes is None else online_minutes
        self._token_days = token_days
        self._online = timedelta(minutes=online_minutes)
        self.throttle = LoginThrottle(factory, clock)

    def add(self, name: str, password: str, display_name: Optional[str] = None,
            roles=(role_rules.AGENT,), skills: routing.Skills = routing.Skills(),
            capacity: int = routing.DEFAULT_CAPACITY) -> StaffMember:
        """A new account; an agent unless `roles` says otherwise (the most common person on a support team).

        No skills: they take any conversation; `capacity`: chats at once.
        """
        if not NAME_PATTERN.match(name):
            raise StaffError("a staff name is 2-50 lowercase letters, digits, dots, dashes or underscores")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        stored_roles = _stored_roles(roles)
        capacity = _capacity(capacity)
        try:
            with session_scope(self._factory) as session:
                staff = Staff(name=name, display_name=display_name or name, password_hash=hash_password(password),
                              created_at=self._clock(), roles=stored_roles, capacity=capacity,
                              skill_categories=routing.stored_list(skills.categories),
                              skill_languages=routing.stored_list(skills.languages),
                              skill_channels=routing.stored_list(skills.channels))
                session.add(staff)
                session.flush()
                return _member(staff)
        except IntegrityError as exc:
            raise StaffError(f"there is already a staff member called {name}") from exc

    def check_password(self, name: str, password: str) -> Optional[StaffMember]:
        """The staff member, or None for a wrong name or password or a disabled account (which look the same)."""
        with session_scope(self._factory) as session:
            staff = session.execute(select(Staff).where(Staff.name == name)).scalars().first()
            if staff is None:
                hash_password(password)  # same time whether or not the name exists
                return None
            if not password_matches(password, staff.password_hash) or staff.disabled_at is not None:
                return None
            return _member(staff)

    def all(self) -> List[StaffMember]:
        """Who can be given conversations and tickets: disabled accounts are left out."""
        with session_scope(self._factory) as session:
            rows = session.execute(
                select(Staff).where(Staff.disabled_at.is_(None)).order_by(Staff.display_name)
            ).scalars()
            return [_member(s) for s in rows]

    def get(self, name: str) -> Optional[StaffMember]:
        """An active staff member by name (None when there is none, or the account is disabled)."""
        with session_scope(self._factory) as session:
            staff = _active(session, name)
            return _member(staff) if staff else None

    def accounts(self) -> List[StaffAccount]:
        """Every account, disabled ones too, for administrators."""
        with session_scope(self._factory) as session:
            now = self._clock()
            return [_account(s, now, self._online) for s in session.execute(select(Staff).order_by(Staff.name)).scalars()]

    def account(self, name: str) -> StaffAccount:
        with session_scope(self._factory) as session:
            return _account(_existing(session, name), self._clock(), self._online)

    def set_roles(self, name: str, roles) -> StaffAccount:
        """Replace `name`'s roles. Refused when it would leave no active admin while there is one: the
        last administrator cannot lock the team out of staff accounts from the desk by mistake."""
        stored_roles = _stored_roles(roles)
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            was_admin = role_rules.ADMIN in role_rules.from_stored(staff.roles) and staff.disabled_at is None
            if was_admin and role_rules.ADMIN not in stored_roles.split(","):
                admins = [s for s in session.execute(select(Staff).where(Staff.disabled_at.is_(None))).scalars()
                          if role_rules.ADMIN in role_rules.from_stored(s.roles)]
                if len(admins) <= 1:
                    raise StaffError(f"{name} is the only active admin: make someone else admin first")
            staff.roles = stored_roles
            session.flush()
            return _account(staff, self._clock(), self._online)

    def set_profile(self, name: str, display_name: Optional[str] = None, skills: Optional[routing.Skills] = None,
                    capacity: Optional[int] = None) -> StaffAccount:
        """Change the name shown to customers, what `name` handles (skills) and how many chats they take at once
        (capacity); None keeps each as it is."""
        if display_name is not None and not 1 <= len(display_name.strip()) <= 200:
            raise StaffError("a display name is 1 to 200 characters")
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            if display_name is not None:
                staff.display_name = display_name.strip()
            if skills is not None:
                staff.skill_categories = routing.stored_list(skills.categories)
                staff.skill_languages = routing.stored_list(skills.languages)
                staff.skill_channels = routing.stored_list(skills.channels)
            if capacity is not None:
                staff.capacity = _capacity(capacity)
            session.flush()
            return _account(staff, self._clock(), self._online)

    def set_availability(self, name: str, availability: str) -> StaffAccount:
        """online (takes new chats), away (keeps theirs, takes no new ones) or offline."""
        try:
            chosen = routing.parse_availability(availability)
        except routing.RoutingError as exc:
            raise StaffError(str(exc)) from exc
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            staff.availability = chosen
            if chosen != "offline":
                staff.seen_at = self._clock()  # choosing is being here
            session.flush()
            return _account(staff, self._clock(), self._online)

    def seen_in_telegram(self, name: str) -> bool:
        """A staff member acted in the Telegram staff group: they are here. True when that made them online."""
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            now = self._clock()
            was = routing.effective_availability(staff.availability, staff.seen_at, now, self._online)
            staff.seen_at = now
            if staff.availability == "offline":  # logged out of the desk, answering from the phone
                staff.availability = "online"
            return was != "online" and staff.availability == "online"

    def reset_password(self, name: str, password: str) -> int:
        """A new password for `name` (an admin's reset): their desk sessions end; the number ended."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise StaffError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            staff.password_hash = hash_password(password)
            return session.execute(delete(StaffToken).where(StaffToken.staff_id == staff.id,
                                                            StaffToken.kind == "session")).rowcount

    def issue_token(self, name: str, days: Optional[int] = None) -> str:
        """A new API token for `name`, valid `days` (the configured lifetime by default; 0: no expiry)."""
        days = self._token_days if days is None else days
        if days < 0:
            raise StaffError("a token lives 0 (for ever) or more days")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            if staff.disabled_at is not None:
                raise StaffError(f"{name} is disabled: `staff enable {name}` first")
            _forget_expired(session, now)
            session.add(StaffToken(staff_id=staff.id, token_hash=_token_hash(token), kind="api", created_at=now,
                                   expires_at=now + timedelta(days=days) if days else None))
        return token

    def by_token(self, token: Optional[str]) -> Optional[StaffMember]:
        """The owner of an API token (`staff token`)."""
        return self._lookup(token, "api")

    def start_session(self, name: str, password: str, address: str = "unknown") -> Optional[Tuple[str, StaffMember]]:
        """A desk login: (session token for the cookie, staff member), or None for a wrong name or password.

        Raises LoginThrottled, before looking at the password, while the account or the client
        `address` has too many recent failures.
        """
        if self.throttle.refused(name, address):
            raise LoginThrottled("too many failed logins: wait a quarter of an hour")
        member = self.check_password(name, password)
        if member is None:
            self.throttle.failed(name, address)
            return None
        self.throttle.succeeded(name)
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with session_scope(self._factory) as session:
            _forget_expired(session, now)
            session.add(StaffToken(staff_id=member.id, token_hash=_token_hash(token), kind="session",
                                   created_at=now, last_used_at=now, expires_at=now + SESSION_IDLE))
            # Logging in is starting work: routing may give them chats (they can choose away in the desk).
            session.execute(update(Staff).where(Staff.id == member.id).values(availability="online", seen_at=now))
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
                # Logging out is leaving: no new chats for them (the Telegram staff group brings them back).
                row.staff.availability = "offline"
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
            if row.expires_at is not None and row.expires_at <= now:
                session.delete(row)
                return None
            # Disabling deletes the tokens; checked here too so no token outlives it (one made in the same instant).
            if row.staff.disabled_at is not None:
                return None
            if kind == "session":
                row.expires_at = now + SESSION_IDLE
            row.last_used_at = now
            row.staff.seen_at = now
            return _member(row.staff)

    def last_seen(self) -> Optional[datetime]:
        """When any staff member last used the desk, the API or the Telegram staff group."""
        with session_scope(self._factory) as session:
            seen = [session.execute(select(func.max(StaffToken.last_used_at))).scalar_one_or_none(),
                    # The Telegram staff group too; someone who logged out (offline) is gone whatever they did last.
                    session.execute(select(func.max(Staff.seen_at)).where(
                        Staff.availability != "offline", Staff.disabled_at.is_(None))).scalar_one_or_none()]
            return max((s for s in seen if s is not None), default=None)

    def tokens(self, name: Optional[str] = None) -> List[TokenInfo]:
        """The sessions and API tokens still valid, of one staff member or everyone's, oldest first."""
        now = self._clock()
        with session_scope(self._factory) as session:
            query = select(StaffToken, Staff.name).join(Staff, StaffToken.staff_id == Staff.id).where(
                (StaffToken.expires_at.is_(None)) | (StaffToken.expires_at > now))
            if name is not None:
                _existing(session, name)
                query = query.where(Staff.name == name)
            return [TokenInfo(t.id, owner, t.kind, t.created_at, t.last_used_at, t.expires_at)
                    for t, owner in session.execute(query.order_by(StaffToken.id))]

    def revoke(self, token_id: int) -> TokenInfo:
        """End one session or API token by its id (from `tokens`)."""
        with session_scope(self._factory) as session:
            row = session.get(StaffToken, token_id)
            if row is None:
                raise StaffError(f"no token with id {token_id}")
            info = TokenInfo(row.id, row.staff.name, row.kind, row.created_at, row.last_used_at, row.expires_at)
            session.delete(row)
            return info

    def disable(self, name: str) -> int:
        """Lock the account out at once: its sessions and tokens end; the number ended."""
        with session_scope(self._factory) as session:
            staff = _existing(session, name)
            if staff.disabled_at is None:
                staff.disabled_at = self._clock()
            return session.execute(delete(StaffToken).where(StaffToken.staff_id == staff.id)).rowcount

    def enable(self, name: str) -> None:
        """Let a disabled account log in again (its old tokens stay ended: issue new ones)."""
        with session_scope(self._factory) as session:
            _existing(session, name).disabled_at = None

    def link_telegram(self, name: str, telegram_user_id: str) -> StaffMember:
        """Let this staff member answer customers from the Telegram staff group."""
        user_id = str(telegram_user_id).strip()
        if not re.fullmatch(r"-?\d{1,20}", user_id):
            raise StaffError("a Telegram user id is a number (ask @userinfobot, or see the bot's log)")
        try:
            with session_scope(self._factory) as session:
                staff = _existing(session, name)
                staff.telegram_user_id = user_id
                session.flush()
                return _member(staff)
        except IntegrityError as exc:
            raise StaffError(f"Telegram user {user_id} is already linked to another staff member") from exc

    def by_telegram_user(self, telegram_user_id) -> Optional[StaffMember]:
        """The active staff member linked to this Telegram user: a disabled one cannot act from the group."""
        with session_scope(self._factory) as session:
            staff = session.execute(
                select(Staff).where(Staff.telegram_user_id == str(telegram_user_id), Staff.disabled_at.is_(None))
            ).scalars().first()
            return _member(staff) if staff else None


def _stored_roles(roles) -> str:
    try:
        return role_rules.stored(roles)
    except role_rules.RoleError as exc:
        raise StaffError(str(exc)) from exc


def _capacity(value) -> int:
    try:
        return routing.parse_capacity(value)
    except routing.RoutingError as exc:
        raise StaffError(str(exc)) from exc


def skills_from(categories=None, languages=None, channels=None) -> routing.Skills:
    """Skills as typed (lists or comma-separated text); StaffError names what is not known."""
    try:
        return routing.parse_skills(categories, languages, channels)
    except routing.RoutingError as exc:
        raise StaffError(str(exc)) from exc


def _forget_expired(session: Session, now: datetime) -> None:
    # A session is only looked at again while its cookie lives: expired rows would otherwise stay for ever.
    session.execute(delete(StaffToken).where(StaffToken.expires_at <= now))
