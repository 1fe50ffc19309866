"""Alembic environment: target metadata is SQLModel's; the URL comes from the Alembic config
(set by ``core.db.alembic_config``) or else from ``DATABASE_URL`` via the backend settings."""

from __future__ import annotations

from alembic import context
from costguard_backend import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from costguard_backend.core.db import make_engine
from sqlmodel import SQLModel

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from costguard_backend.core.config import get_settings

    return get_settings().DATABASE_URL


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        # Batch mode lets later ALTERs work on SQLite, which cannot alter most constraints.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
