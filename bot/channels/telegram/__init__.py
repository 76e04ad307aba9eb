"""The Telegram channel: an adapter of the gateway (python-telegram-bot, long polling or webhook).

messages.py   pure mapping: updates -> customer messages, replies -> Telegram messages
cards.py      pure text of the staff-group cards
store.py      what must survive a restart (processed updates, cards, long button payloads)
outbox.py     sending with bounded exponential back-off, in order per chat
adapter.py    customers: updates in, replies out through the gateway's hub
staff_group.py staff: handoff cards, Claim / Return to bot, replying to a card
setup.py      wiring into the gateway's aiohttp app from TELEGRAM_* settings
"""
