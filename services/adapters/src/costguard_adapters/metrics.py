"""Prometheus metrics of the poller (served on METRICS_PORT by ``python -m costguard_adapters``).

``source`` is the configured source name. Dashboards: grafana/dashboards/pipeline-health.json.
"""

from prometheus_client import Counter, Gauge

ROWS = Counter(
    "costguard_adapter_rows_delivered_total",
    "Cost rows (daily, or hourly for ingest-hourly batches) acknowledged by the backend",
    ["source"],
)
FAILURES = Counter("costguard_adapter_poll_failures_total", "Failed polls", ["source"])
ROWS_PULLED = Counter(
    "costguard_adapter_rows_pulled_total",
    "Cost rows (daily or hourly) pulled and spooled",
    ["source"],
)
SPOOL_BATCHES = Gauge("costguard_adapter_spool_batches", "Batches waiting in the spool")
RETRIES = Counter("costguard_adapter_delivery_retries_total", "Batch posts retried after a failure")
REJECTED = Counter(
    "costguard_adapter_batches_rejected_total", "Batches the backend refused for good", ["source"]
)
WATERMARK = Gauge(
    "costguard_adapter_watermark_timestamp_seconds",
    "Latest UTC day pulled (midnight, Unix seconds)",
    ["source"],
)
LAST_POLL = Gauge(
    "costguard_adapter_last_poll_timestamp_seconds",
    "Start of the last completed poll (Unix seconds)",
    ["source"],
)
