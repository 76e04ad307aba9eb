"""The FAQ that content editors keep in faq/: loading, checking, searching, hot reload."""
