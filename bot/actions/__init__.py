"""Custom actions: thin adapters from the Rasa tracker to bot.services."""
from bot.actions import complaint, conversation, faq, handoff, surveys, ticket_status  # noqa: F401
