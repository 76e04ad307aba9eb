"""Transcript lines of many conversations in one transaction: order, owners, failures per caller."""
import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from bot.conversation.transcript_writer import TranscriptWriter
from bot.services.conversations import ConversationError, ConversationService


def test_a_batch_writes_each_conversations_lines_in_order_and_gives_each_its_owner(db_factory):
    conversations = ConversationService(db_factory)
    conversations.record_many("rest-old", [("customer", "trước", None, None)])
    conversations.set_owner("rest-old", "queued")
    owners = conversations.record_batch([
        ("rest-new", [("customer", "một", None, None)], "rest"),
        ("rest-old", [("customer", "hai", None, None), ("system", "ba", None, {"k": 1})], "rest"),
        ("rest-new", [("bot", "bốn", None, {"buttons": []})], "rest"),
        ("tg-1", [], "telegram"),  # nothing to write: still told who owns it (a new conversation: the bot)
    ])
    assert owners == ["bot", "queued", "bot", "bot"]
    assert [(l.author_type, l.text) for l in conversations.transcript("rest-new")] == [("customer", "một"),
                                                                                       ("bot", "bốn")]
    assert [l.text for l in conversations.transcript("rest-old")] == ["trước", "hai", "ba"]
    assert conversations.exists("tg-1")
    with pytest.raises(ConversationError):
        conversations.record_batch([("rest-new", [("robot", "x", None, None)], "rest")])
    assert len(conversations.transcript("rest-new")) == 2


class CountingService(ConversationService):
    def __init__(self, factory, fail_when=None):
        super().__init__(factory)
        self.batches = []
        self.fail_when = fail_when

    def record_batch(self, items):
        self.batches.append([sender for sender, _, _ in items])
        if self.fail_when and self.fail_when(items):
            raise OperationalError("INSERT", {}, Exception("database is down"))
        return super().record_batch(items)


def test_concurrent_conversations_share_transactions_and_each_waits_for_its_own(db_factory):
    service = CountingService(db_factory)
    writer = TranscriptWriter(service)

    async def customer(n):
        owners = []
        for turn in range(3):
            owners.append(await writer.record(f"rest-{n}", [("customer", f"{n}.{turn}", None, None)], "rest"))
            owners.append(await writer.record(f"rest-{n}", [("bot", f"re {n}.{turn}", None, None)], "rest"))
        return owners

    async def main():
        owners = await asyncio.gather(*(customer(n) for n in range(20)))
        await writer.close()
        return owners

    owners = asyncio.run(main())
    assert owners == [["bot"] * 6] * 20
    for n in range(20):
        assert [l.text for l in service.transcript(f"rest-{n}")] == [
            text for turn in range(3) for text in (f"{n}.{turn}", f"re {n}.{turn}")]
    assert sum(len(batch) for batch in service.batches) == 120
    assert len(service.batches) < 60  # written together, not one transaction per call


def test_a_failed_batch_fails_every_caller_in_it_and_a_wrong_line_only_its_own(db_factory):
    service = CountingService(db_factory, fail_when=lambda items: any(s == "rest-doomed" for s, _, _ in items))
    writer = TranscriptWriter(service)

    async def main():
        results = await asyncio.gather(
            writer.record("rest-a", [("customer", "a", None, None)], "rest"),
            writer.record("rest-doomed", [("customer", "d", None, None)], "rest"),
            writer.record("rest-b", [("customer", "b", None, None)], "rest"),
            writer.record("rest-c", [("robot", "c", None, None)], "rest"),
            return_exceptions=True)
        after = await writer.record("rest-a", [("customer", "a2", None, None)], "rest")
        return results, after

    results, after = asyncio.run(main())
    # They arrived together, so they shared the doomed one's transaction: each caller is told (the core then
    # keeps its lines in the backlog), none is lost silently.
    assert [type(r) for r in results[:3]] == [OperationalError] * 3 and service.batches[0] == [
        "rest-a", "rest-doomed", "rest-b"]
    assert isinstance(results[3], ConversationError)  # refused before it joined any batch
    assert after == "bot" and [l.text for l in service.transcript("rest-a")] == ["a2"]
    assert service.transcript("rest-b") == []
