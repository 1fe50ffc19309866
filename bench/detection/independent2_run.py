"""Score CostGuard (and the two cheap baselines) on the third generator (independent2.py).

    .venv/bin/python bench/detection/independent2_run.py [--config k1|k2|all] [--seed N]
        [--no-baselines]

The runner is ``independent_run.main`` with this generator: the same lines as there.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import independent2  # noqa: E402
import independent_run  # noqa: E402

if __name__ == "__main__":
    independent_run.main(independent2, __doc__.splitlines()[0])
