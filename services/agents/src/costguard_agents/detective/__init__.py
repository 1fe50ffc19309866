"""Detective agent: runs the detector over the backend's daily costs, and the hourly detector
over the hours of sources that have them, and posts one anomaly per incident."""

from costguard_agents.detective.frames import FRAME_COLUMNS, costs_frame
from costguard_agents.detective.service import run_once

__all__ = ["FRAME_COLUMNS", "costs_frame", "run_once"]
