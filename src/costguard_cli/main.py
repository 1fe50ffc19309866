"""The ``costguard`` command line: ``scan``, ``demo`` and ``up``."""

from __future__ import annotations

import typer

from costguard_cli.demo import demo
from costguard_cli.normalize import normalize
from costguard_cli.scan import scan
from costguard_cli.up import up

app = typer.Typer(
    name="costguard",
    help="CostGuard: find cloud cost anomalies, name their root cause, and fix them with approval.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("scan")(scan)
app.command("demo")(demo)
app.command("up")(up)
app.command("normalize")(normalize)

if __name__ == "__main__":
    app()
