"""SQLite file databases keep their connections open between sessions (the gateway writes on every message)."""
import threading

from sqlalchemy import event, text
from sqlalchemy.orm import sessionmaker

from bot.store.db import make_engine, session_scope


def test_sessions_reuse_an_open_connection_and_keep_the_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pooled.db'}")
    opened = []
    event.listen(engine, "connect", lambda connection, record: opened.append(connection))
    factory = sessionmaker(bind=engine, future=True)
    seen = []

    def one_session():
        with session_scope(factory) as session:
            seen.append((session.execute(text("PRAGMA journal_mode")).scalar(),
                         session.execute(text("PRAGMA foreign_keys")).scalar()))

    one_session()
    one_session()
    # The gateway's database work runs in a pool of threads: another thread may use the connection next.
    worker = threading.Thread(target=one_session)
    worker.start()
    worker.join()
    # Opened once, not for every session (opening runs the pragmas; closing the last one checkpoints the WAL).
    assert len(opened) == 1
    assert seen == [("wal", 1)] * 3
    engine.dispose()
