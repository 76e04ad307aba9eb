import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.services.orders import DatabaseOrderBackend, HttpOrderBackend, OrderLookupError
from bot.store.db import session_factory


def test_database_backend_finds_demo_orders(db_factory):
    backend = DatabaseOrderBackend(db_factory)
    order = backend.lookup("DH100001")
    assert order.number == "DH100001"
    assert order.phone == "0912345678"
    assert backend.lookup("DH999999") is None


def test_database_down_is_a_lookup_error(tmp_path):
    backend = DatabaseOrderBackend(session_factory(f"sqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(OrderLookupError):
        backend.lookup("DH100001")


class ShopApi(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server naming
        number = self.path.rsplit("/", 1)[-1]
        if self.headers.get("Authorization") != "Bearer secret":
            self._send(401, {"error": "unauthorised"})
        elif number == "DH100001":
            self._send(200, {"number": "DH100001", "status": "delivered", "items": "Áo",
                             "customer": {"name": "Lan", "phone": "+84 912 345 678", "email": "lan@example.com"}})
        elif number == "DH100002":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>not json")
        elif number == "DH100003":
            time.sleep(1.5)
            self._send(200, {})
        elif number == "DH500000":
            self._send(500, {"error": "boom"})
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def shop_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ShopApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_http_backend_reads_the_contract(shop_api):
    backend = HttpOrderBackend(shop_api, token="secret", timeout=1)
    order = backend.lookup("DH100001")
    assert order.customer_name == "Lan"
    assert order.phone == "0912345678"
    assert backend.lookup("DH100009") is None


@pytest.mark.parametrize("number", ["DH100002", "DH100003", "DH500000"])
def test_http_backend_errors_are_lookup_errors(shop_api, number):
    backend = HttpOrderBackend(shop_api, token="secret", timeout=0.5)
    with pytest.raises(OrderLookupError):
        backend.lookup(number)


def test_http_backend_wrong_token_is_an_error(shop_api):
    with pytest.raises(OrderLookupError):
        HttpOrderBackend(shop_api, token="wrong").lookup("DH100001")


def test_http_backend_unreachable_is_an_error():
    with pytest.raises(OrderLookupError):
        HttpOrderBackend("http://127.0.0.1:9", timeout=0.5).lookup("DH100001")
