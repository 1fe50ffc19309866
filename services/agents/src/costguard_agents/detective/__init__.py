"""Detective agent: runs the seed detector over the backend's daily costs and posts anomalies."""

from costguard_agents.detective.service import FRAME_COLUMNS, costs_frame, run_once

__all__ = ["FRAME_COLUMNS", "costs_frame", "run_once"]
