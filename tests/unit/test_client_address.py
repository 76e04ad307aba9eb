"""Which address a request comes from: X-Forwarded-For only from our own proxies."""
import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from bot.gateway.client_address import UNKNOWN, client_address, parse_trusted

PROXIES = parse_trusted("10.0.0.5, 192.168.0.0/16, 2001:db8::/32")


def request(peer, *forwarded):
    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    return make_mocked_request("GET", "/desk/login", headers=headers).clone(remote=peer)


def test_a_direct_client_is_its_peer_whatever_it_claims():
    assert client_address(request("203.0.113.9", "198.51.100.1"), PROXIES) == "203.0.113.9"
    assert client_address(request("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"
    assert client_address(request("10.0.0.5", "198.51.100.1"), ()) == "10.0.0.5"  # no proxy configured: none believed


def test_behind_our_proxy_the_client_is_the_address_it_forwarded():
    assert client_address(request("10.0.0.5", "198.51.100.1"), PROXIES) == "198.51.100.1"
    assert client_address(request("10.0.0.5"), PROXIES) == "10.0.0.5"  # nothing forwarded: the proxy itself


def test_what_the_client_wrote_before_our_proxies_is_ignored():
    # The client sent "X-Forwarded-For: 1.1.1.1"; the edge proxy appended the real address, an inner one its own.
    assert client_address(request("10.0.0.5", "1.1.1.1, 198.51.100.1, 192.168.4.4"), PROXIES) == "198.51.100.1"
    assert client_address(request("10.0.0.5", "1.1.1.1", "198.51.100.1"), PROXIES) == "198.51.100.1"  # two headers
    assert client_address(request("10.0.0.5", "192.168.1.1, 10.0.0.5"), PROXIES) == "192.168.1.1"  # all ours


def test_garbage_stops_the_walk_at_the_last_address_we_trust():
    assert client_address(request("10.0.0.5", "198.51.100.1, not-an-ip"), PROXIES) == "10.0.0.5"
    assert client_address(request("10.0.0.5", "junk, 192.168.2.2"), PROXIES) == "192.168.2.2"


def test_ipv6_and_ipv4_mapped_addresses():
    assert client_address(request("2001:db8::1", "2001:0db8:0000::77, 2a00:1450::1"), PROXIES) == "2a00:1450::1"
    assert client_address(request("::ffff:203.0.113.9"), PROXIES) == "203.0.113.9"
    assert client_address(request("::ffff:10.0.0.5", "198.51.100.1"), PROXIES) == "198.51.100.1"


def test_no_peer_address():
    assert client_address(make_mocked_request("GET", "/").clone(remote=""), PROXIES) == UNKNOWN


def test_the_trusted_list_is_checked_when_read():
    assert parse_trusted("") == () and parse_trusted(" , ") == ()
    assert [str(n) for n in parse_trusted("127.0.0.1,10.1.2.3/8")] == ["127.0.0.1/32", "10.0.0.0/8"]
    with pytest.raises(ValueError, match="proxy.example"):
        parse_trusted("10.0.0.1, proxy.example")
