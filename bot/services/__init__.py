"""Business rules, free of Rasa: orders, tickets, priorities, service levels."""
