"""Billing export readers: FOCUS and legacy AWS CUR files to FOCUS-named daily rows.

See README.md in this folder for how each native column maps to FOCUS.
"""

from costguard_core.focus._azure_oci_map import AZURE_CHARGE_CATEGORY, AZURE_SERVICE_CATEGORY
from costguard_core.focus._detect import detect_format
from costguard_core.focus._lenient import ReadWarning
from costguard_core.focus._rows import RejectedRow
from costguard_core.focus.reader import DAILY_COLUMNS, DailyCosts, SourceFile, read_daily

__all__ = [
    "AZURE_CHARGE_CATEGORY",
    "AZURE_SERVICE_CATEGORY",
    "DAILY_COLUMNS",
    "DailyCosts",
    "ReadWarning",
    "RejectedRow",
    "SourceFile",
    "detect_format",
    "read_daily",
]
