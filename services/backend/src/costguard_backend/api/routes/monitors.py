"""``/api/v1/monitors`` (issue #3): the monitors document the detective runs with (which series
are watched, per-monitor thresholds and severity tiers; shape in
``costguard_core.detection.monitors``).

- ``GET``: any role. The stored document, who stored it and when; before anyone stored one, the
  detector's built-in default (``DEFAULT_MONITORS``) with ``updated_by``/``updated_at`` null.
- ``PUT``: admin only. Body = the document as JSON, validated with ``parse_monitors``; a bad
  document is answered 422 naming the field (``monitors[1].min_impact_usd``) and nothing is
  stored. The change is audited (``monitor_config`` / ``update``, with before and after) in the
  same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from costguard_core.detection.monitors import DEFAULT_MONITORS, parse_monitors
from costguard_core.errors import InputError
from costguard_core.models import MonitorConfigPublic
from fastapi import APIRouter, Body, Depends

from costguard_backend.api.deps import Reader, RequestIdDep, SessionDep, SettingsDep, require_roles
from costguard_backend.core.config import Principal
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.detection_models import MONITOR_CONFIG_ID, MonitorConfig
from costguard_backend.errors import FieldError
from costguard_backend.workflow import record_audit

router = APIRouter(prefix="/monitors", tags=["monitors"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]


def _public(row: MonitorConfig | None) -> MonitorConfigPublic:
    if row is None:
        return MonitorConfigPublic(document=DEFAULT_MONITORS.model_dump(mode="json"))
    return MonitorConfigPublic(
        document=row.document, updated_by=row.updated_by, updated_at=row.updated_at
    )


@router.get("", response_model=MonitorConfigPublic)
def get_monitors(session: SessionDep, _: Reader) -> MonitorConfigPublic:
    return _public(session.get(MonitorConfig, MONITOR_CONFIG_ID))


@router.put("", response_model=MonitorConfigPublic)
def put_monitors(
    document: Annotated[Any, Body()],
    session: SessionDep,
    principal: Admin,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> MonitorConfigPublic:
    """Replace the document; 422 ``invalid_field`` naming the first bad field (``message``
    lists every problem, one per line)."""
    try:
        parse_monitors(document)
    except InputError as exc:
        first = exc.message.splitlines()[0]
        raise FieldError(first.partition(": ")[0], exc.message) from None
    row = session.get(MonitorConfig, MONITOR_CONFIG_ID)
    before = None if row is None else row.document
    if row is None:
        row = MonitorConfig(id=MONITOR_CONFIG_ID, document=document, updated_by=principal.name)
    else:
        row.document, row.updated_by, row.updated_at = document, principal.name, utcnow()
    session.add(row)
    record_audit(
        session,
        entity_type="monitor_config",
        entity_id=str(MONITOR_CONFIG_ID),
        actor=principal.name,
        action="update",
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
        before=before,
        after=document,
    )
    session.commit()
    session.refresh(row)
    return _public(row)
