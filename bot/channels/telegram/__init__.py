"""The Telegram channel: an adapter of the gateway (python-telegram-bot, long polling or webhook).

messages.py   pure mapping: updates -> customer messages, replies -> Telegram messages
cards.py      pure text of the staff-group cards
store.py      what must survive a restart (processed updates, cards, long button payloads)
outbox.py     sending from a database outbox: in order per chat, retried for up to a day, resumed after a restart
outbox_store.py the outbox's table, with leases so that gateways sharing a database never send a row twice
files.py      customers' photos and documents fetched for staff (getFile, 20 MB limit), cached briefly in memory
adapter.py    customers: updates in, replies out through the gateway's hub
staff_group.py staff: handoff cards, Claim / Return to bot, replying to a card
setup.py      wiring into the gateway's aiohttp app from TELEGRAM_* settings
"""
