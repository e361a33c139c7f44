"""The house after the fault plane (issue 12): who decides which faults run where.

The fault plane (chaos/harness/_plane.py) is the one place that hands a fault to an
executor; it does so by the executors' registered kinds. Elsewhere a fault's
layer may describe it (a report, a verdict's message, the profile model's
queries) but never decides how it runs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import chaos

PACKAGE = Path(chaos.__file__).parent
# modules that read a layer to describe a fault or a record, not to run it
DESCRIBING = {
    "faults/_base.py",  # the model: each action's layer
    "faults/_executors.py",  # the model's kinds of a layer, for the executors' check
    "profiles/_model.py",  # Phase.http_faults()/network_faults(), for drawing a timeline
    "profiles/_phases.py",  # a ramp's rate applies to HTTP faults (a modelling rule)
    "report/_coverage.py",  # the coverage report's columns
    "harness/_admin.py",  # GET /rules says each fault's layer
    "verdict/_calls.py",  # a record's layer, in a message
    "common/_journal.py",  # the record's docstring
}
LAYER_TEST = re.compile(r"\.layer\s*(==|!=)\s*[\"'](network|http)[\"']")


def test_no_module_but_the_plane_decides_by_a_faults_layer() -> None:
    deciding = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if str(path.relative_to(PACKAGE)) not in DESCRIBING | {"harness/_plane.py"}
        and LAYER_TEST.search(path.read_text(encoding="utf-8"))
    )
    assert deciding == []


def test_the_plane_dispatches_by_kinds_not_by_layer() -> None:
    source = (PACKAGE / "harness" / "_plane.py").read_text(encoding="utf-8")
    assert not LAYER_TEST.search(source)


def test_the_harness_module_is_about_the_lifecycle() -> None:
    """No fault control left in chaos/harness/_harness.py: its fault methods hand over to the
    plane in one statement each."""
    tree = ast.parse((PACKAGE / "harness" / "_harness.py").read_text(encoding="utf-8"))
    harness = next(
        node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Harness"
    )
    methods = {n.name: n for n in harness.body if isinstance(n, ast.FunctionDef)}
    for gone in ("_tick", "_sync_network", "_before_answer", "_refresh_rules", "_on_request_phase"):
        assert gone not in methods
    for name in ("apply", "inject", "remove", "clear", "injected", "active_faults", "fired"):
        body = [s for s in methods[name].body if not isinstance(s, ast.Expr)]  # no docstring
        assert len(body) <= 2, f"Harness.{name} does more than hand over to the plane"
    names = {n.id for n in ast.walk(harness) if isinstance(n, ast.Name)}
    assert not names & {"Timeline", "threading", "NetworkAction"}


def test_one_admin_api_module() -> None:
    assert not (PACKAGE / "_harness_admin.py").exists()
    routes = [
        path.relative_to(PACKAGE)
        for path in PACKAGE.rglob("*.py")
        if '"/rules"' in path.read_text(encoding="utf-8")
    ]
    assert routes == [Path("harness/_admin.py")]
