"""Password guessing at the desk login: limits per account and per client address.

Per address alone is not enough: behind a reverse proxy every login comes from the proxy's
address (one guesser locks out the whole team), and a guesser with many addresses is never
stopped. Per account alone lets one address try a few passwords on every account.

Failures are counted by the name typed, whether or not such an account exists, so a refusal
says nothing about which names are real. The counts live in the database: several gateway
instances and a restart share them.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import sessionmaker

from bot.store.db import session_scope
from bot.store.models import LoginFailure, utcnow

WINDOW = timedelta(minutes=15)
# A person who mistypes a few times gets in; a guesser gets 5 tries per account per quarter hour.
MAX_FAILURES_PER_ACCOUNT = 5
# Higher: colleagues behind one office router share an address.
MAX_FAILURES_PER_ADDRESS = 10


def account_key(name: str) -> str:
    # Names are lower case: "Lan" and "lan " must count against the same account.
    return name.strip().lower()[:100]


class LoginThrottle:
    def __init__(self, factory: sessionmaker, clock: Callable = utcnow):
        self._factory = factory
        self._clock = clock

    def refused(self, name: str, address: str) -> bool:
        """Whether logins for this account, or from this address, must wait."""
        since = self._clock() - WINDOW
        with session_scope(self._factory) as session:
            def failures(*criteria) -> int:
                return session.execute(
                    select(func.count()).select_from(LoginFailure).where(LoginFailure.created_at > since, *criteria)
                ).scalar_one()

            return (failures(LoginFailure.account == account_key(name),
                             LoginFailure.forgiven.is_(False)) >= MAX_FAILURES_PER_ACCOUNT
                    or failures(LoginFailure.address == address[:64]) >= MAX_FAILURES_PER_ADDRESS)

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with session_scope(self._factory) as session:
            # Older failures no longer count: forgetting them here keeps the table the size of one window.
            session.execute(delete(LoginFailure).where(LoginFailure.created_at <= now - WINDOW))
            session.add(LoginFailure(account=account_key(name), address=address[:64], created_at=now))

    def succeeded(self, name: str) -> None:
        """The right password: the account's earlier mistakes are forgiven (its address's are not,
        or a guesser with one account of their own could reset their address's count)."""
        with session_scope(self._factory) as session:
            session.execute(update(LoginFailure).where(LoginFailure.account == account_key(name),
                                                       LoginFailure.forgiven.is_(False)).values(forgiven=True))
