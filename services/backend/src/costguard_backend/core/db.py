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


def bound_lock_wait(settings: Settings, session: Session) -> None:
    """On PostgreSQL, make this transaction's row-lock waits give up after one outbox lease
    (``outbox_lease_s``), raising ``OperationalError`` (SQLSTATE 55P03): a worker whose host
    died mid-post keeps its locks until the server notices (hours with default keepalives), and
    the waiting worker's row is then retried instead of stalling the outbox. No-op elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        ms = int(outbox_lease_s(settings) * 1000)
        session.execute(sa.text(f"SET LOCAL lock_timeout = '{ms}ms'"))
