"""Per-client rate limits: the arithmetic, in memory and in a real Redis shared by two instances, on a clock set by hand."""
import asyncio
import logging
import uuid

import pytest

from bot.gateway.limits import client_key
from bot.ratelimit import LimitSettings, MemoryLimiter, Rate, RedisLimiter, refusal
from bot.services.handoff_quota import HandoffQuota, quota_key
from tests.serving import Clock
from tests.unit.test_gateway_fanout import redis_url  # noqa: F401 - the fixture: real Redis, required in CI

PER_MINUTE = Rate(3, 60)


def hits(limiter, key, rate, times):
    async def run():
        return [await limiter.hit(key, rate) for _ in range(times)]

    return asyncio.run(run())


def test_rates_are_read_as_count_per_period_and_a_wrong_one_names_its_variable():
    assert Rate.parse("30/1m") == Rate(30, 60) and Rate.parse("10/10m") == Rate(10, 600)
    assert Rate.parse("3 / 1h") == Rate(3, 3600) and Rate.parse("20/3600") == Rate(20, 3600)
    assert Rate.parse("5/m") == Rate(5, 60) and Rate.parse("off") is None
    with pytest.raises(ValueError, match="HOTRO_LIMIT_MESSAGES"):
        Rate.parse("thirty a minute", "HOTRO_LIMIT_MESSAGES")
    with pytest.raises(ValueError):
        Rate.parse("0/1m")


def test_settings_come_from_the_environment_with_defaults_a_shop_keeps():
    assert LimitSettings.from_env({}) == LimitSettings()
    assert LimitSettings() == LimitSettings(Rate(30, 60), Rate(10, 600), Rate(20, 3600), Rate(5, 3600), 2048 * 2**20)
    settings = LimitSettings.from_env({"HOTRO_LIMIT_MESSAGES": "60/1m", "HOTRO_LIMIT_CONVERSATIONS": "off",
                                       "HOTRO_LIMIT_UPLOADS": "5/1h", "HOTRO_LIMIT_HANDOFFS": "1/1d",
                                       "HOTRO_UPLOAD_MAX_MB": "500"})
    assert settings == LimitSettings(Rate(60, 60), None, Rate(5, 3600), Rate(1, 86400), 500 * 2**20)
    assert LimitSettings.from_env({"HOTRO_UPLOAD_MAX_MB": "off"}).upload_max_bytes is None
    with pytest.raises(ValueError, match="HOTRO_UPLOAD_MAX_MB"):
        LimitSettings.from_env({"HOTRO_UPLOAD_MAX_MB": "2GB"})


def test_a_burst_up_to_the_limit_then_one_more_each_interval():
    clock = Clock()
    limiter = MemoryLimiter(clock)
    first = hits(limiter, "messages:a", PER_MINUTE, 5)
    assert [v.allowed for v in first] == [True, True, True, False, False]
    assert first[3].retry_after == 20  # one more every 60/3 seconds
    assert hits(limiter, "messages:b", PER_MINUTE, 1)[0].allowed  # another client is not concerned
    clock.advance(seconds=19)
    assert not hits(limiter, "messages:a", PER_MINUTE, 1)[0].allowed
    clock.advance(seconds=1)
    assert [v.allowed for v in hits(limiter, "messages:a", PER_MINUTE, 2)] == [True, False]
    clock.advance(minutes=1)
    assert [v.allowed for v in hits(limiter, "messages:a", PER_MINUTE, 4)] == [True, True, True, False]


def test_hammering_while_refused_does_not_dig_deeper():
    clock = Clock()
    limiter = MemoryLimiter(clock)
    hits(limiter, "k", PER_MINUTE, 3 + 100)
    clock.advance(seconds=20)
    assert hits(limiter, "k", PER_MINUTE, 1)[0].allowed


def test_no_rate_means_no_limit_and_memory_stays_bounded():
    limiter = MemoryLimiter(Clock(), max_keys=50)
    assert all(v.allowed for v in hits(limiter, "k", None, 1000))
    for n in range(500):
        limiter.hit_now(f"client-{n}", PER_MINUTE)
    assert len(limiter._full_at) == 50


def test_two_instances_share_one_count_in_redis(redis_url):  # noqa: F811
    clock = Clock()
    first, second = RedisLimiter(redis_url, clock), RedisLimiter(redis_url, clock)
    key = f"test:{uuid.uuid4().hex}"

    async def run():
        try:
            verdicts = []
            for limiter in (first, second, first, second):
                verdicts.append(await limiter.hit(key, PER_MINUTE))
            clock.advance(seconds=20)
            verdicts.append(await second.hit(key, PER_MINUTE))
            verdicts.append(await first.hit(key, PER_MINUTE))
            ttl = await first._client.pttl(f"hotro:limit:{key}")
            return verdicts, ttl
        finally:
            await first.close()
            await second.close()

    verdicts, ttl = asyncio.run(run())
    assert [v.allowed for v in verdicts] == [True, True, True, False, True, False]
    assert verdicts[3].retry_after == 20 and verdicts[5].retry_after == 20
    assert 0 < ttl <= 60_000  # Redis forgets a client once its bucket is full again


def test_a_redis_outage_falls_back_to_memory_and_is_logged_once(caplog):
    limiter = RedisLimiter("redis://127.0.0.1:1/0", Clock())  # nothing listens there
    with caplog.at_level(logging.ERROR, logger="bot.ratelimit"):
        verdicts = hits(limiter, "k", PER_MINUTE, 5)
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]  # customers go on, still limited
    assert len([r for r in caplog.records if "Redis unavailable" in r.getMessage()]) == 1


def test_the_refusal_is_polite_in_the_customers_language():
    assert refusal("messages", "vi", 20) == ("Bạn đang gửi tin nhắn hơi nhanh nên tin nhắn này chưa được gửi đi. "
                                            "Bạn vui lòng đợi khoảng 20 giây rồi gửi lại nhé.")
    assert "about 3 minutes" in refusal("conversations", "en", 121)
    assert "khoảng 1 giờ" in refusal("handoffs", None, 3600) and "1 hour." in refusal("uploads", "en", 3600)


def test_a_client_is_a_keyed_hash_of_its_address_and_an_ipv6_client_its_64():
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("198.51.100.7") != client_key("198.51.100.8")
    assert client_key("198.51.100.7", "secret") != client_key("198.51.100.7")
    assert "198" not in client_key("198.51.100.7") and len(client_key("198.51.100.7")) == 24


def test_handoffs_count_per_gateway_client_else_per_conversation():
    client = client_key("198.51.100.7")
    assert quota_key({"client": client, "language": "vi"}, "s-1") == quota_key({"client": client}, "s-2")
    assert quota_key({}, "tg-42") == "handoffs:sender:tg-42" and quota_key(None, "s-1") != quota_key(None, "s-2")
    assert quota_key({"client": "anything I like"}, "s-1") == "handoffs:sender:s-1"  # not a key the gateway makes
    quota = HandoffQuota(MemoryLimiter(Clock()), Rate(2, 3600))

    async def run():
        return [(await quota.take({"client": client}, f"s-{n}")).allowed for n in range(3)]

    assert asyncio.run(run()) == [True, True, False]
