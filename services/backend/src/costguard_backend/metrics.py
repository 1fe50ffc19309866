"""Prometheus metrics of the backend (default registry, exposed at ``GET /metrics``).

| metric | labels | meaning |
|---|---|---|
| costguard_ingested_rows_total | result=inserted/updated/unchanged | cost rows per ingest outcome |
| costguard_ingest_rejected_total | – | ingest batches refused (422) |
| costguard_anomalies_created_total | severity | anomalies stored (repeats not counted) |
| costguard_action_transitions_total | from, to | committed transitions (from="none": created) |
| costguard_webhook_deliveries_total | direction=inbound/outbound, kind, result | webhook traffic |
| costguard_outbox_pending | – | outbox rows not yet delivered (set at scrape) |
| costguard_http_request_duration_seconds | method, route, status | API latency |
| costguard_outbox_delivery_duration_seconds | kind, result=delivered/failed | one attempt |

Business gauges computed at scrape time (spend, anomalies, actions, savings):
``metrics_collectors``.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

INGESTED_ROWS = Counter(
    "costguard_ingested_rows", "Cost rows received by ingest, by outcome.", ["result"]
)
INGEST_REJECTED = Counter("costguard_ingest_rejected", "Ingest batches refused as invalid.")
ANOMALIES_CREATED = Counter(
    "costguard_anomalies_created", "Anomalies stored, by severity.", ["severity"]
)
ACTION_TRANSITIONS = Counter(
    "costguard_action_transitions", "Committed action state transitions.", ["from", "to"]
)
WEBHOOK_DELIVERIES = Counter(
    "costguard_webhook_deliveries",
    "Webhook deliveries: inbound reports and outbound outbox sends, by result.",
    ["direction", "kind", "result"],
)
OUTBOX_PENDING = Gauge("costguard_outbox_pending", "Outbox rows waiting for delivery.")
HTTP_LATENCY = Histogram(
    "costguard_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route", "status"],
)

OUTBOX_DELIVERY_SECONDS = Histogram(
    "costguard_outbox_delivery_duration_seconds",
    "Time of one outbox delivery attempt, by kind and result (delivered or failed).",
    ["kind", "result"],
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


from costguard_backend import metrics_collectors  # noqa: E402,F401  (registers the collector)
