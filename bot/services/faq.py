"""Answering FAQ questions, and remembering what the FAQ could not answer."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.faq.index import FaqMatch
from bot.faq.library import FaqLibrary
from bot.faq.loader import FaqEntry
from bot.store.db import session_scope
from bot.store.models import FaqEvent, utcnow
from bot.parsers import redact_contacts
from bot.text import words

# `score` is the probability that the question is about the entry (a softmax
# over entries), `similarity` how much it has in common with the entry's
# questions and answer (bot/faq/index.py). Checked by cross-validation on the
# example questions (each fifth held out in turn) and on the NLU's out_of_scope
# examples: about 83% of Vietnamese and 74% of English questions are answered
# directly, 4% wrongly, and 10% of unrelated messages would be (the NLU rarely
# sends those to the FAQ in the first place). A lower similarity bar answers
# more English questions directly but more unrelated ones too; the rest get
# "did you mean" buttons, not a wrong answer.
ANSWER_SCORE = 0.40
ANSWER_SIMILARITY = 0.20
ANSWER_MARGIN = 0.10  # over the runner-up: two close entries are offered as a choice
# Above three unrelated messages in four (0.16), below all but 5% of held-out example questions.
SUGGEST_SIMILARITY = 0.18
# When the NLU did not send the message to the FAQ (an unsure out_of_scope or
# other intent), the FAQ answers only above this similarity. The knee of the
# trade-off on the NLU's out_of_scope examples and the cross-validations:
# unrelated messages answered 10% at 0.20, 7% at 0.24, 4% at 0.26, 3% at 0.28,
# while held-out questions answered right fall 83%, 75%, 70%, 64% (Vietnamese).
CONFIDENT_SIMILARITY = 0.26
MAX_SUGGESTIONS = 3
MAX_STORED_QUESTION = 1000


@dataclass(frozen=True)
class FaqDecision:
    kind: str  # "answer", "suggest" or "none"
    entry: Optional[FaqEntry] = None
    suggestions: List[FaqEntry] = field(default_factory=list)
    score: float = 0.0
    similarity: float = 0.0

    @property
    def confident(self) -> bool:
        """An answer good enough to overrule an NLU that did not think this was an FAQ question."""
        return self.kind == "answer" and self.similarity >= CONFIDENT_SIMILARITY


def decide(matches: List[FaqMatch]) -> FaqDecision:
    if not matches:
        return FaqDecision("none")
    top = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if top.score >= ANSWER_SCORE and top.similarity >= ANSWER_SIMILARITY and top.score - runner_up >= ANSWER_MARGIN:
        return FaqDecision("answer", top.entry, score=top.score, similarity=top.similarity)
    if top.similarity >= SUGGEST_SIMILARITY:
        close = [m.entry for m in matches[:MAX_SUGGESTIONS] if m.similarity >= SUGGEST_SIMILARITY * 0.75]
        return FaqDecision("suggest", suggestions=close, score=top.score, similarity=top.similarity)
    return FaqDecision("none", score=top.score, similarity=top.similarity)


# What editors learn from: no answer found, an answer rated 👎, and a "did you mean" choice the customer
# picked (their wording should have found that entry directly).
REPORTED_KINDS = ("unanswered", "not_helpful", "picked")


@dataclass(frozen=True)
class ReportLine:
    kind: str
    question: str
    faq_id: Optional[str]
    count: int
    language: str = "vi"


class FaqService:
    def __init__(self, library: FaqLibrary, factory: Optional[sessionmaker], clock: Callable = utcnow):
        self.library = library
        self._factory = factory
        self._clock = clock

    def ask(self, question: str) -> FaqDecision:
        return decide(self.library.search(question, limit=MAX_SUGGESTIONS + 1))

    def record(self, kind: str, question: str, language: str, sender_id: str, faq_id: Optional[str] = None) -> None:
        with session_scope(self._factory) as session:
            session.add(
                FaqEvent(
                    kind=kind,
                    faq_id=faq_id,
                    # Editors need the wording, not the customer's phone or email.
                    question=redact_contacts(question).strip()[:MAX_STORED_QUESTION],
                    language=language,
                    sender_id=sender_id,
                    created_at=self._clock(),
                )
            )

    def report(self, limit: int = 50) -> List[ReportLine]:
        """Unanswered questions, 👎 answers and picked "did you mean" choices, most frequent first (same
        question folded together)."""
        counts: Counter = Counter()
        example: dict = {}
        with session_scope(self._factory) as session:
            rows = session.execute(
                select(FaqEvent.kind, FaqEvent.question, FaqEvent.faq_id, FaqEvent.language).where(
                    FaqEvent.kind.in_(REPORTED_KINDS)
                )
            ).all()
        for kind, question, faq_id, language in rows:
            key = (kind, " ".join(words(question)), faq_id)
            counts[key] += 1
            example.setdefault(key, (question, language))
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
        return [ReportLine(k[0], example[k][0], k[2], n, example[k][1]) for k, n in ordered[:limit]]
