"""A ticket's action script: its category's steps with what staff ticked, and saved replies filled in.

The scripts are read from their files on every call (seven small files), so an
edit to scripts/ shows in the desk at once. The ticks are stored per ticket
(table ticket_step_marks): who ticked or unticked each step, and when.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.action_scripts import LANGUAGES, ActionScript, fill, load_scripts
from bot.categories import label
from bot.parsers import ticket_id_from_code
from bot.services.tickets import TicketError, _view
from bot.store.db import session_scope
from bot.store.models import Ticket, TicketStepMark, utcnow
from bot.timefmt import format_local


class StepError(Exception):
    """The step is not in the ticket's script."""


@dataclass(frozen=True)
class StepMark:
    step: str
    done: bool
    author: str
    updated_at: datetime


class ActionScriptService:
    def __init__(self, factory: sessionmaker, directory: Optional[Path] = None,
                 clock: Callable[[], datetime] = utcnow):
        self._factory = factory
        self._directory = directory
        self._clock = clock

    def _script(self, category: str) -> ActionScript:
        scripts = load_scripts(self._directory)
        return scripts.get(category) or scripts["other"]

    def for_ticket(self, code: str) -> dict:
        """The script of the ticket's category: steps with their marks, and replies filled in vi and en."""
        ticket_id = ticket_id_from_code(code)
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, ticket_id) if ticket_id else None
            if ticket is None:
                raise TicketError(f"no ticket {code}")
            view = _view(ticket)
            customer = ticket.customer or ticket.conversation.customer
            name = customer.name.strip() if customer and customer.name else ""
            marks = self._marks(session, ticket.id)
        script = self._script(view.category)
        now = self._clock()
        resolve_due = view.resolve_due(now)
        replies = []
        for reply in script.replies:
            filled = {}
            for language in LANGUAGES:
                values = {"ticket_code": view.code, "order_number": view.order_number, "customer_name": name,
                          "resolve_due": format_local(resolve_due, language)}
                text, missing = fill(reply.text[language], values, language)
                filled[language] = {"text": text, "missing": missing}
            replies.append({"id": reply.id, "title": reply.title, **filled})
        return {
            "ticket": view.code,
            "category": script.category,
            "category_label": {language: label(script.category, language) for language in LANGUAGES},
            "language": view.language if view.language in LANGUAGES else "vi",
            "steps": [
                {"id": step.id, "vi": step.text["vi"], "en": step.text["en"], **_mark_fields(marks.get(step.id))}
                for step in script.steps
            ],
            "replies": replies,
        }

    def mark(self, code: str, step: str, done: bool, author: str) -> StepMark:
        """Tick (done) or untick a step of the ticket's script, as `author`."""
        ticket_id = ticket_id_from_code(code)
        with session_scope(self._factory) as session:
            ticket = session.get(Ticket, ticket_id) if ticket_id else None
            if ticket is None:
                raise TicketError(f"no ticket {code}")
            script = self._script(ticket.category)
            if step not in script.step_ids():
                raise StepError(f"the {script.category} script has no step '{step}' "
                                f"(its steps: {', '.join(script.step_ids())})")
            now = self._clock()
            row = session.execute(
                select(TicketStepMark).where(TicketStepMark.ticket_id == ticket.id, TicketStepMark.step == step)
            ).scalars().first()
            if row is None:
                row = TicketStepMark(ticket_id=ticket.id, step=step)
                session.add(row)
            row.done, row.author, row.updated_at = bool(done), author, now
            return StepMark(step, bool(done), author, now)

    def progress(self, tickets: Iterable[Tuple[int, str]]) -> Dict[int, dict]:
        """For (ticket id, category) pairs: {ticket id: {"done": steps ticked, "total": steps in its script}}."""
        tickets = list(tickets)
        if not tickets:
            return {}
        scripts = load_scripts(self._directory)
        with session_scope(self._factory) as session:
            rows = session.execute(
                select(TicketStepMark.ticket_id, TicketStepMark.step)
                .where(TicketStepMark.ticket_id.in_([t for t, _ in tickets]), TicketStepMark.done.is_(True))
            ).all()
        ticked: Dict[int, set] = {}
        for ticket_id, step in rows:
            ticked.setdefault(ticket_id, set()).add(step)
        result = {}
        for ticket_id, category in tickets:
            steps = (scripts.get(category) or scripts["other"]).step_ids()
            # Ticks of a step since removed from the file no longer count.
            result[ticket_id] = {"done": len(ticked.get(ticket_id, set()) & set(steps)), "total": len(steps)}
        return result

    def marks(self, code: str) -> Dict[str, StepMark]:
        ticket_id = ticket_id_from_code(code)
        with session_scope(self._factory) as session:
            return self._marks(session, ticket_id) if ticket_id else {}

    @staticmethod
    def _marks(session, ticket_id: int) -> Dict[str, StepMark]:
        rows = session.execute(select(TicketStepMark).where(TicketStepMark.ticket_id == ticket_id)).scalars()
        return {r.step: StepMark(r.step, r.done, r.author, r.updated_at) for r in rows}


def _mark_fields(mark: Optional[StepMark]) -> dict:
    if mark is None:
        return {"done": False, "by": None, "at": None}
    return {"done": mark.done, "by": mark.author, "at": mark.updated_at.isoformat() + "Z"}


