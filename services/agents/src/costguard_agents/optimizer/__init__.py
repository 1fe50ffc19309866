"""Optimizer agent: proposes one remediation action per open anomaly (see ``rules``)."""

from costguard_agents.optimizer.rules import monthly_saving, propose
from costguard_agents.optimizer.service import run_once

__all__ = ["monthly_saving", "propose", "run_once"]
