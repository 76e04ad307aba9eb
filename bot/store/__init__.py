"""The one database: SQLAlchemy models, sessions, migrations and demo data."""
