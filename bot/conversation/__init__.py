"""The conversation core (core.py) and what it is made of.

core.py     ConversationCore: the one object channels and the staff side call
guard.py    what customer input may be: conversation ids, payloads, sizes (pure rules)
rasa.py     RasaClient: the only code that asks Rasa anything
hub.py      open browser tabs and channel outlets, so replies reach the customer
backlog.py  transcript lines waiting out a database outage
"""
