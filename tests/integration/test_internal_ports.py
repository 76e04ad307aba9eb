"""Only the gateway faces customers: Rasa and the action server listen on loopback and want their secrets."""
from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Set

from bot.internal_auth import gateway_headers

TELEGRAM_CUSTOMER = {"sender": "tg-987654321", "message": "kiểm tra khiếu nại của tôi"}


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # IPv6: four 32-bit words, each in host (little-endian) order.
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))


def listening_addresses(port: int) -> Set[str]:
    """Addresses with a socket listening on `port`, as the kernel lists them (what `ss -ltn` shows)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(_address(address))
    return found


def _other_local_addresses() -> Set[str]:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
    except OSError:
        return set()
    return {a for a in out.split() if not a.startswith("127.") and a != "::1"}


def _post(url: str, body: dict, headers: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_rasa_and_the_action_server_listen_on_loopback_only(stack):
    for port in (stack.rasa_port, stack.action_port):
        assert listening_addresses(port) == {"127.0.0.1"}, port
        for address in _other_local_addresses():
            with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as probe:
                probe.settimeout(2)
                assert probe.connect_ex((address, port)) != 0, f"{address}:{port} accepts connections"
    # The gateway is the door customers use.
    assert listening_addresses(stack.gateway_port) & {"0.0.0.0", "::"}


def test_rasa_rest_webhook_refuses_anyone_without_the_gateway_secret(stack):
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    for headers in ({}, {"X-Hotro-Gateway-Secret": "guessed"}):
        status, body = _post(url, TELEGRAM_CUSTOMER, headers)
        assert status == 403 and "gateway" in body["error"]
    status, replies = _post(url, {"sender": "internal-door-check", "message": "xin chào"}, gateway_headers(stack.env))
    assert status == 200 and replies


def test_action_server_refuses_forged_calls_and_runs_rasa_calls(stack, tickets):
    forged_tracker = {
        "sender_id": "tg-987654321", "slots": {"language": "vi", "order_number": "DH100001"}, "events": [],
        "latest_message": {"text": "cho tôi gặp nhân viên", "intent": {"name": "request_human"}, "entities": []},
        "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
    }
    call = {"next_action": "action_request_human", "sender_id": "tg-987654321", "tracker": forged_tracker,
            "domain": {}, "version": "3.6.21"}
    url = f"{stack.action_url}/webhook"
    for headers in ({}, {"X-Hotro-Action-Secret": "guessed"}):
        status, body = _post(url, call, headers)
        assert status == 403 and "only Rasa" in body["error"]
    assert tickets.for_sender("tg-987654321") == []
    harmless_call = dict(call, next_action="action_cancel_form")
    status, body = _post(url, harmless_call, {"X-Hotro-Action-Secret": stack.env["HOTRO_ACTION_SECRET"]})
    assert status == 200
    assert [r.get("response") for r in body["responses"]] == ["utter_complaint_cancelled"]
    assert {"event": "slot", "name": "ticket_code", "value": None, "timestamp": None} in body["events"]
    with urllib.request.urlopen(f"{stack.action_url}/health", timeout=5) as health:
        assert health.status == 200
