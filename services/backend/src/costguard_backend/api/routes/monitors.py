"""``/api/v1/monitors`` (issue #3): the monitors document the detective runs with (which series
are watched, per-monitor thresholds and severity tiers; shape in
``costguard_core.detection.monitors``).

- ``GET``: any role. The stored document, who stored it and when; before anyone stored one, the
  detector's built-in default (``DEFAULT_MONITORS``) with ``updated_by``/``updated_at`` null.
  The ``ETag`` header (also ``etag`` in the body) names this version: a strong ETag, the first
  32 hex digits of the SHA-256 of the canonical JSON of document, ``updated_by`` and
  ``updated_at``; the built-in default has its own. With ``If-None-Match`` naming the current
  version (RFC 9110 weak comparison; a list, or ``*``) the answer is 304 Not Modified with the
  ``ETag`` and no body, so a poller re-reads the document only when it changed.
- ``PUT``: admin only. Body = the document as JSON, or as YAML text (``Content-Type:
  application/yaml``; also ``application/x-yaml``, ``text/yaml``, ``text/x-yaml``), validated
  with ``parse_monitors``; a bad document is answered 422 naming the field
  (``monitors[1].min_impact_usd``; YAML that does not parse: ``body``, with line and column)
  and nothing is stored; any other content type is answered 415. A YAML body is stored as
  given beside its document (``source``: comments and layout kept, so the dashboard editor
  shows the text the admin saved); a JSON body clears it. The change is audited
  (``monitor_config`` / ``update``, with the documents before and after) in the same
  transaction; the answer carries the new ``ETag``.

  Clients should send ``If-Match: <the ETag they read>`` (RFC 9110; a list of tags, or ``*`` for
  any version). When it does not match the stored version, the answer is 412
  ``precondition_failed`` saying who changed it and when (and the current ``ETag``), and nothing
  is stored, not even an audit event. Without ``If-Match`` the last save wins (scripts written
  before ETags keep working). The check runs on the row locked for the write (``SELECT ... FOR
  UPDATE`` on PostgreSQL, the database write lock on SQLite), so two saves from the same version
  cannot both succeed; two concurrent first saves meet on the primary key, and the loser is
  checked again against the winner's version.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Annotated, Any

import sqlalchemy as sa
import yaml
from costguard_core.detection.monitors import DEFAULT_MONITORS, parse_monitors, yaml_problem
from costguard_core.errors import InputError
from costguard_core.models import MonitorConfigPublic
from fastapi import APIRouter, Body, Depends, Header, HTTPException, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend.api.deps import Reader, RequestIdDep, SessionDep, SettingsDep, require_roles
from costguard_backend.core.config import Principal
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.detection_models import MONITOR_CONFIG_ID, MonitorConfig
from costguard_backend.errors import FieldError, PreconditionFailed
from costguard_backend.workflow import record_audit

router = APIRouter(prefix="/monitors", tags=["monitors"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]
IfMatch = Annotated[
    str | None,
    Header(description="The ETag of the version being replaced (from GET); 412 if stale."),
]
ContentType = Annotated[str | None, Header(description="application/json or application/yaml.")]
IfNoneMatch = Annotated[
    str | None,
    Header(description="ETags the caller holds; 304 Not Modified if one is the current version."),
]


def _public(row: MonitorConfig | None) -> MonitorConfigPublic:
    if row is None:
        public = MonitorConfigPublic(document=DEFAULT_MONITORS.model_dump(mode="json"))
    else:
        public = MonitorConfigPublic(
            document=row.document,
            source=row.source,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )
    return public.model_copy(update={"etag": _etag(public)})


def _etag(public: MonitorConfigPublic) -> str:
    """``"<32 hex digits>"``: SHA-256 of the canonical JSON (sorted keys) of everything but
    ``etag``, so any change of document, author or time gives a new tag."""
    canonical = json.dumps(
        public.model_dump(mode="json", exclude={"etag"}), sort_keys=True, separators=(",", ":")
    )
    return f'"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'


def _tag(public: MonitorConfigPublic) -> str:
    """The ETag ``_public`` put on ``public`` (computed once, there)."""
    assert public.etag is not None
    return public.etag


def _matches(header: str, etag: str, weak: bool = False) -> bool:
    """``*``, or ``etag`` among the header's listed tags. RFC 9110: ``If-Match`` compares
    strongly (a ``W/`` tag never matches), ``If-None-Match`` weakly (``weak``: ``W/`` ignored)."""
    tags = [tag.strip() for tag in header.split(",")]
    if weak:
        tags = [tag.removeprefix("W/") for tag in tags]
    return "*" in tags or etag in tags


def _locked(session: Session) -> MonitorConfig | None:
    """The stored row, read under a lock held until commit or rollback: ``FOR UPDATE`` on
    PostgreSQL; SQLite has no row locks and pysqlite begins a transaction only at the first
    write, so a no-op UPDATE first takes the database write lock (also when no row exists)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().execute(
            sa.update(MonitorConfig)
            .where(col(MonitorConfig.id) == MONITOR_CONFIG_ID)
            .values(id=MonitorConfig.id)
        )
    return session.get(MonitorConfig, MONITOR_CONFIG_ID, with_for_update=True)


#: Media types of a YAML body (RFC 9512's ``application/yaml`` and the older spellings).
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


def _yaml_document(body: bytes, content_type: str | None) -> tuple[Any, str]:
    """``(document, source)`` of a non-JSON body (FastAPI hands it over as bytes). Raises
    ``HTTPException`` 415 unless ``content_type`` is a YAML type, ``FieldError`` (``body``) for
    text that is not UTF-8 or does not parse, naming line and column."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in YAML_TYPES:
        raise HTTPException(
            status_code=415,
            detail=f"unsupported content type {media or '(none)'!r}: send application/json "
            "or application/yaml",
        )
    try:
        source = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldError("body", f"the YAML is not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.safe_load(source), source
    except yaml.YAMLError as exc:
        raise FieldError("body", f"the YAML is not valid: {yaml_problem(exc)}") from None


def _replace(
    session: Session,
    document: dict[str, Any],
    source: str | None,
    *,
    if_match: str | None,
    actor: str,
    request_id: str,
    image_digest: str | None,
) -> MonitorConfig:
    """Check ``if_match`` against the locked row, then store ``document`` and its audit event
    and commit. Raises ``PreconditionFailed`` (after rolling back) on a stale ``if_match``, and
    ``IntegrityError`` when a concurrent first save inserted the row first. ``source``: the
    YAML text the document was sent as, or None (sent as JSON)."""
    row = _locked(session)
    current = _public(row)
    etag = _tag(current)
    if if_match is not None and not _matches(if_match, etag):
        session.rollback()
        raise PreconditionFailed(
            "monitors",
            etag=etag,
            updated_by=current.updated_by,
            updated_at=current.updated_at,
        )
    before = None if row is None else row.document
    if row is None:
        row = MonitorConfig(
            id=MONITOR_CONFIG_ID, document=document, source=source, updated_by=actor
        )
    else:
        row.document, row.source = document, source
        row.updated_by, row.updated_at = actor, utcnow()
    session.add(row)
    record_audit(
        session,
        entity_type="monitor_config",
        entity_id=str(MONITOR_CONFIG_ID),
        actor=actor,
        action="update",
        request_id=request_id,
        image_digest=image_digest,
        before=before,
        after=document,
    )
    session.commit()
    session.refresh(row)
    return row


@router.get(
    "",
    response_model=MonitorConfigPublic,
    responses={304: {"description": "Not Modified: ``If-None-Match`` names the current version"}},
)
def get_monitors(
    session: SessionDep, _: Reader, response: Response, if_none_match: IfNoneMatch = None
) -> MonitorConfigPublic | Response:
    stored = _public(session.get(MonitorConfig, MONITOR_CONFIG_ID))
    etag = _tag(stored)
    if if_none_match is not None and _matches(if_none_match, etag, weak=True):
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return stored


@router.put(
    "",
    response_model=MonitorConfigPublic,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
def put_monitors(
    document: Annotated[Any, Body()],
    session: SessionDep,
    principal: Admin,
    settings: SettingsDep,
    request_id: RequestIdDep,
    response: Response,
    if_match: IfMatch = None,
    content_type: ContentType = None,
) -> MonitorConfigPublic:
    """Replace the document (JSON, or YAML text kept as ``source``); 422 ``invalid_field``
    naming the first bad field (``message`` lists every problem, one per line); 412
    ``precondition_failed`` when ``If-Match`` is stale; 415 for a body neither JSON nor YAML."""
    source = None
    if isinstance(document, bytes):  # not JSON: FastAPI passes the raw body
        document, source = _yaml_document(document, content_type)
    try:
        parse_monitors(document)
    except InputError as exc:
        first = exc.message.splitlines()[0]
        raise FieldError(first.partition(": ")[0], exc.message) from None
    replace = partial(
        _replace,
        session,
        document,
        source,
        if_match=if_match,
        actor=principal.name,
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
    )
    try:
        row = replace()
    except IntegrityError:  # a concurrent first save won: check again against its version
        session.rollback()
        row = replace()
    stored = _public(row)
    response.headers["ETag"] = _tag(stored)
    return stored
