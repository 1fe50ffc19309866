"""The Alembic revision creates exactly the tables the models describe, on both backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from costguard_backend.core.db import alembic_config, make_engine, normalize_url, run_migrations
from sqlmodel import SQLModel

TABLES = {
    "cost_daily",
    "cost_hourly",
    "ingestion",
    "anomaly",
    "root_cause",
    "action",
    "approval",
    "audit_event",
    "outbox",
    "audit_head",
    "webhook_delivery",
    "alembic_version",
}


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        # Later revisions (other issues) add tables: these must all be there.
        assert set(sa.inspect(conn).get_table_names()) >= TABLES
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path}/nested/dir/m.db"
    run_migrations(url)
    run_migrations(url)  # repeating is a no-op
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    run_migrations(url)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) >= TABLES
    engine.dispose()


def test_postgres_urls_use_psycopg3():
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database of its own (this test moves its schema up and down)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/updown.db"
        return
    dsn = os.environ.get("COSTGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {dsn}: {exc}")
    name = f"costguard_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(dsn).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _columns(engine, table):
    with engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_0004_hourly_up_and_down_keeps_data(empty_url):
    """0003 → 0004 adds cost_hourly and anomaly.detected_at beside existing rows; back to 0003
    removes them and keeps every anomaly and root cause; head again works."""
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "0003")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                'INSERT INTO anomaly (id, start, "end", scope, expected_cost, actual_cost,'
                " impact_usd, severity, confidence, status, created_at) VALUES ('a1', '2025-03-01',"
                " '2025-03-01', '{}', 1, 2, 1, 'low', 0.9, 'open', '2025-03-02 00:00:00+00:00')"
            )
        )
        conn.execute(sa.text(
            "INSERT INTO root_cause (anomaly_id, rank, \"ProviderName\", \"ServiceName\","
            " impact_usd, share) VALUES ('a1', 0, 'AWS', 'EC2', 1, 1)"
        ))  # fmt: skip
    command.upgrade(cfg, "0004")
    assert "detected_at" in _columns(engine, "anomaly")
    assert {"day_key_sha256", "ChargePeriodStart", "EffectiveCost"} <= _columns(
        engine, "cost_hourly"
    )
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT detected_at FROM anomaly")).scalar() is None
        conn.execute(sa.text("UPDATE anomaly SET detected_at = '2025-03-01 04:00:00+00:00'"))
    command.downgrade(cfg, "0003")
    with engine.connect() as conn:
        assert "cost_hourly" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT id FROM anomaly")).scalars().all() == ["a1"]
        assert conn.execute(sa.text("SELECT count(*) FROM root_cause")).scalar() == 1
    assert "detected_at" not in _columns(engine, "anomaly")
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert "cost_hourly" in sa.inspect(conn).get_table_names()
    engine.dispose()


def test_0005_monitor_source_up_and_down_keeps_the_document(empty_url):
    """0004 → 0005 adds monitor_config.source (NULL for the stored document); back to 0004
    drops it and keeps the document, who stored it and when."""
    cfg = alembic_config(empty_url)
    command.upgrade(cfg, "0004")
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO monitor_config (id, document, updated_by, updated_at) VALUES"
                ' (1, \'{"monitors": [{"dimension": "total"}]}\', \'admin\','
                " '2026-12-01 00:00:00+00:00')"
            )
        )
    command.upgrade(cfg, "0005")
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT source FROM monitor_config")).scalar() is None
        conn.execute(sa.text("UPDATE monitor_config SET source = '# kept\nmonitors: []\n'"))
    command.downgrade(cfg, "0004")
    assert "source" not in _columns(engine, "monitor_config")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT document, updated_by FROM monitor_config")).one()
    assert "total" in str(row[0]) and row[1] == "admin"
    command.upgrade(cfg, "head")
    assert "source" in _columns(engine, "monitor_config")
    engine.dispose()
