"""Chat with the running bot from a terminal (`make shell`).

Talks to the REST webhook, like any other client; type a button's number to press it.
"""
from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid

from bot.internal_auth import gateway_headers
from bot.settings_env import load_dotenv


def send(url: str, sender: str, text: str) -> list:
    body = json.dumps({"sender": sender, "message": text}).encode()
    # The gateway ignores the header; Rasa's REST channel (HOTRO_CHAT_URL pointed at it) requires it.
    headers = {"Content-Type": "application/json", **gateway_headers()}
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def main() -> int:
    load_dotenv()
    # Through the gateway, like every customer channel (it keeps the transcript).
    port = os.environ.get("GATEWAY_PORT", "8000")
    url = os.environ.get("HOTRO_CHAT_URL", f"http://localhost:{port}/webhooks/rest/webhook")
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print(f"Chatting with {url} as {sender}. Type /quit or Ctrl-D to leave.")
    buttons: list = []
    while True:
        try:
            text = input("bạn> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        if text == "/quit":
            return 0
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            text = buttons[int(text) - 1]["payload"]
        try:
            replies = send(url, sender, text)
        except (urllib.error.URLError, OSError) as exc:
            print(f"(the bot is not reachable at {url}: {exc}; is `make run` running?)", file=sys.stderr)
            continue
        buttons = []
        for reply in replies:
            if reply.get("text"):
                print(f"bot> {reply['text']}")
            for button in reply.get("buttons", []):
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")


if __name__ == "__main__":
    raise SystemExit(main())
