"""Imports run one way (docs/ARCHITECTURE.md, "Layers and the order of apps"): a module may
import only what sits below it, so no two packages or apps import each other."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Top-level packages, lowest first.
PACKAGES = ["trainers", "training_templates", "platform_api"]
# The platform's apps, lowest first: each builds on the ones before it.
APPS = ["datasets", "registry", "training", "studies", "deployments", "clarifai", "console"]
# The trainers' public face: the only trainer modules the platform may import
# (docs/ARCHITECTURE.md, "Boundaries").
TRAINERS_PUBLIC = {"trainers.core", "trainers.families", "trainers.export", "trainers.hyperparameters",
                   "trainers.data.images", "trainers.data.masks", "trainers.multi_device", "trainers.evaluation"}
# Never imported by the trainers, which run in a worker without the web stack.
WEB_STACK = {"django", "rest_framework", "drf_spectacular", "django_filters", "celery"}


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module a file imports, at its top or inside a function, relative imports resolved
    against `package` (by default the file's own)."""
    package = package or ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def _sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _upward(modules: set[str], allowed_below: list[str], order: list[str], prefix: str = "") -> list[str]:
    above = set(order) - set(allowed_below)
    return sorted(m for m in modules if m.startswith(prefix) and m[len(prefix):].split(".")[0] in above)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_packages_below_it(package):
    below = PACKAGES[:PACKAGES.index(package) + 1]
    wrong = {str(p.relative_to(ROOT)): _upward(imported_modules(p), below, PACKAGES) for p in _sources(package)}
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_trainers_never_import_the_web_stack():
    wrong = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m.split(".")[0] in WEB_STACK)
             for p in _sources("trainers")}
    assert {file: names for file, names in wrong.items() if names} == {}


@pytest.mark.parametrize("package", ["platform_api", "training_templates", "workers"])
def test_the_platform_imports_only_the_public_face_of_the_trainers(package):
    wrong = {str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p)
                                              if m.split(".")[0] == "trainers" and m not in TRAINERS_PUBLIC)
             for p in _sources(package)}
    assert {file: names for file, names in wrong.items() if names} == {}


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_below_it(app):
    below = APPS[:APPS.index(app) + 1]
    wrong = {str(p.relative_to(ROOT)): _upward(imported_modules(p), below, APPS, "platform_api.")
             for p in _sources(f"platform_api/{app}")}
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_shared_modules_import_no_app_except_the_entry_points():
    # settings, urls, wsgi and the recovery loop assemble the apps; the other shared modules
    # (the root's, http/ and work/) serve them.
    assemblers = {"settings.py", "urls.py", "wsgi.py", "recovery.py"}
    shared = [p for folder in ("", "http", "work") for p in sorted((ROOT / "platform_api" / folder).glob("*.py"))]
    wrong = {str(p.relative_to(ROOT / "platform_api")): _upward(imported_modules(p), [], APPS, "platform_api.")
             for p in shared if str(p.relative_to(ROOT / "platform_api")) not in assemblers}
    assert {file: names for file, names in wrong.items() if names} == {}


def test_the_check_sees_an_upward_import(tmp_path):
    # The check itself: a relative import that climbs to a sibling app counts.
    module = tmp_path / "probe.py"
    module.write_text("from ..training.models import Job\n\ndef later():\n    from platform_api.datasets import models\n")
    found = imported_modules(module, package="platform_api.registry")
    assert found == {"platform_api.training.models", "platform_api.datasets"}
    assert _upward(found, APPS[:2], APPS, "platform_api.") == ["platform_api.training.models"]
