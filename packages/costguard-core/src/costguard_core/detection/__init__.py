"""Seed cost-anomaly detector: seasonal robust baselines over FOCUS daily spend.

``detect(frame)`` returns one ``AnomalyCreate`` per incident; ``DetectorConfig`` holds its
thresholds; ``MonitorsConfig`` / ``load_monitors`` the monitors file; ``series_count(frame)``
says how many monitored series a frame yields.
"""

from costguard_core.detection.config import LEAF_COLUMNS, MONITOR_COLUMNS, DetectorConfig
from costguard_core.detection.detector import confidence, detect, fingerprint, series_count
from costguard_core.detection.monitors import (
    MonitorsConfig,
    MonitorSpec,
    load_monitors,
    parse_monitors,
)

__all__ = [
    "LEAF_COLUMNS",
    "MONITOR_COLUMNS",
    "DetectorConfig",
    "MonitorSpec",
    "MonitorsConfig",
    "confidence",
    "detect",
    "fingerprint",
    "load_monitors",
    "parse_monitors",
    "series_count",
]
