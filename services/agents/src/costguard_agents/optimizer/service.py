"""One optimizer pass against the backend: propose an action for each open anomaly without one."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from costguard_core.client import BackendClient
from costguard_core.models import ActionPublic, AnomalyPublic

from costguard_agents.optimizer.rules import propose

log = logging.getLogger("costguard_agents.optimizer")
PAGE = 200


def open_anomalies(client: BackendClient) -> Iterator[AnomalyPublic]:
    """Every anomaly with status ``open``, following pages (newest start first)."""
    offset = 0
    while True:
        page, count = client.list_anomalies(status="open", limit=PAGE, offset=offset)
        yield from page
        offset += len(page)
        if not page or offset >= count:
            return


def run_once(client: BackendClient) -> list[ActionPublic]:
    """Create the proposed action (``rules.propose``) for every open anomaly that has no action
    yet (any status, so a rejected proposal is not proposed again). Returns the created actions,
    each in ``pending_approval``. Raises ``BackendError``/``httpx.TransportError`` from the
    backend; a pass that stops half-way is safe to repeat."""
    created: list[ActionPublic] = []
    for anomaly in list(open_anomalies(client)):
        _, existing = client.list_actions(anomaly_id=anomaly.id, limit=1)
        if existing:
            continue
        action = propose(anomaly)
        if action is None:
            log.info("anomaly %s: no root cause, nothing to propose", anomaly.id)
            continue
        created.append(client.create_action(action))
        log.info("anomaly %s: proposed %s", anomaly.id, action.action_type)
    return created
