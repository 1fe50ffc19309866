"""Engine, sessions and migrations.

``DATABASE_URL`` may be ``sqlite:///path`` (the parent directory is created) or PostgreSQL;
``postgresql://`` and ``postgres://`` are rewritten to the psycopg 3 driver
(``postgresql+psycopg://``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlmodel import Session

from costguard_backend.core.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Return ``url`` with PostgreSQL pointed at psycopg 3 and no other change."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kw: Any) -> sa.Engine:
    """Create the engine for ``url``; for SQLite, create the file's directory and turn on foreign
    keys, and allow the session to cross threads (FastAPI's threadpool, the outbox worker)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = sa.create_engine(url, **kw)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg 3 prepares a statement after 5 runs and PostgreSQL then reuses its plan; a plan
    # made while cost_daily was nearly empty (seq scan) stays cached after the table grows and
    # makes the ingest key lookup ~50x slower. Plan each statement afresh instead.
    kw.setdefault("connect_args", {"prepare_threshold": None})
    return sa.create_engine(url, pool_pre_ping=True, **kw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """Yield one session; FastAPI's ``get_db`` and the outbox worker both use it."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats % as interpolation: escape it (URL-encoded passwords contain %).
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def run_migrations(url: str) -> None:
    """``alembic upgrade head`` against ``url`` (safe to repeat)."""
    command.upgrade(alembic_config(url), "head")


def check_database(engine: sa.Engine) -> None:
    """Raise if the database does not answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def outbox_lease_s(settings: Settings) -> float:
    """How long a claimed outbox row is leased (s): ``OUTBOX_LEASE_S``, else 3 ×
    ``OUTBOX_HTTP_TIMEOUT_S`` + 30 (one delivery's HTTP calls with slack-sdk's retry)."""
    return settings.OUTBOX_LEASE_S or settings.OUTBOX_HTTP_TIMEOUT_S * 3 + 30


def bound_row_locks(settings: Settings, session: Session) -> None:
    """On PostgreSQL, bound this transaction's row locks by one outbox lease (``outbox_lease_s``),
    both ways; no-op elsewhere. Called by the outbox claim and every delivery before they lock
    rows.

    - Waiting: a row-lock wait gives up after one lease, raising ``OperationalError``
      (SQLSTATE 55P03), so a row locked by another worker is retried instead of stalling the
      round.
    - Holding: the server ends the session once this transaction has been idle for one lease
      (``idle_in_transaction_session_timeout``; the next statement or commit raises SQLSTATE
      25P03). A worker whose host died mid-post would otherwise keep its locks until the
      server notices the dead connection (hours with default TCP keepalives), and the other
      worker would lose a lease per round on each such row. A live worker idle that long (a
      Slack call slower than its lease) is ended the same way; its row is retried after the
      lease, as the lease already promised another worker (at-least-once)."""
    if session.get_bind().dialect.name == "postgresql":
        ms = int(outbox_lease_s(settings) * 1000)
        session.execute(sa.text(f"SET LOCAL lock_timeout = '{ms}ms'"))
        session.execute(sa.text(f"SET LOCAL idle_in_transaction_session_timeout = '{ms}ms'"))
