"""Who may do what: staff roles and the permissions they give.

- agent: customers' conversations (queue, claim, reply, notes), tickets, and the team's figures;
- editor: the FAQ (edit, add, retire, restore, try a question, the unanswered-questions report);
- admin: everything, staff accounts too.

A person may hold several roles. The staff API checks a permission per route (bot/gateway/api.py),
the desk shows the tabs of the person's roles, the Telegram staff group lets only agents act.
"""
from __future__ import annotations

from typing import Iterable, Tuple

AGENT, EDITOR, ADMIN = "agent", "editor", "admin"
ROLES: Tuple[str, ...] = (AGENT, EDITOR, ADMIN)

CONVERSATIONS, TICKETS, FIGURES, FAQ, ACCOUNTS = "conversations", "tickets", "figures", "faq", "accounts"
# Admins hold every permission; this says who else does.
_GRANTED_BY = {
    CONVERSATIONS: AGENT,
    TICKETS: AGENT,
    FIGURES: AGENT,
    FAQ: EDITOR,
    ACCOUNTS: ADMIN,
}
PERMISSIONS: Tuple[str, ...] = tuple(_GRANTED_BY)


class RoleError(ValueError):
    pass


def parse_roles(value: object) -> Tuple[str, ...]:
    """Roles from "agent,editor" or ["agent", "editor"]: known names only, at least one, in ROLES order."""
    if isinstance(value, str):
        items = [part.strip().lower() for part in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(part, str) for part in value):
        items = [part.strip().lower() for part in value]
    else:
        raise RoleError("roles are a list of names: " + ", ".join(ROLES))
    items = [item for item in items if item]
    unknown = sorted(set(items) - set(ROLES))
    if unknown:
        raise RoleError(f"unknown role(s) {', '.join(unknown)}: the roles are {', '.join(ROLES)}")
    if not items:
        raise RoleError("a staff member needs at least one role: " + ", ".join(ROLES))
    return tuple(role for role in ROLES if role in items)


def stored(roles) -> str:
    """The column's value ("agent,editor") for roles given as text or a list; RoleError if any is wrong."""
    return ",".join(parse_roles(roles if isinstance(roles, str) else list(roles)))


def from_stored(value: str) -> Tuple[str, ...]:
    # A hand-edited row with a role this code does not know gives nothing rather than failing every request.
    return tuple(role for role in ROLES if role in (value or "").split(","))


def allowed(roles: Iterable[str], permission: str) -> bool:
    if permission not in _GRANTED_BY:
        raise ValueError(f"unknown permission {permission}")
    held = set(roles)
    return ADMIN in held or _GRANTED_BY[permission] in held
