"""The package tree shows the layers, and imports run one way: down.

Each layer is a folder of ``chaos/`` (docs/architecture.md, "The layers, one folder each").
A module may import its own folder and any layer on a lower floor, never one on its own
floor or above (imports for type checking and imports inside functions count too: a lazy
import is still a dependency). The shells (the plugin, the CLI, the gate, the demo) sit on
top of everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import chaos

PACKAGE = Path(chaos.__file__).parent

FLOORS: dict[str, int] = {
    "_errors": 0,
    "common": 1,
    "routing": 1,
    "providers": 2,
    "toxiproxy": 2,
    "faults": 3,
    "verdict": 3,
    "profiles": 4,
    "gateway": 5,
    "report": 5,
    "harness": 6,
}
SHELL = 7  # chaos/plugin/ and the CLI shell (every other module at chaos/'s root)

# known arrows that run up, each with why it is still there; none may be added
KNOWN_UPWARD: dict[tuple[str, str], str] = {
    (
        "common",
        "providers",
    ): "common/_target.py looks a bare dialect name up in the registry, lazily",
}


def _layer(parts: tuple[str, ...]) -> str:
    """The layer of a module path inside chaos/ (``("harness", "_plane.py")`` -> harness)."""
    head = parts[0].removesuffix(".py")
    return head if head in FLOORS else "shell"


def _floor(layer: str) -> int:
    return FLOORS.get(layer, SHELL)


def _imports(path: Path) -> set[str]:
    """Every ``chaos.*`` module the file imports, anywhere in it."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("chaos."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "chaos":
                out.update(f"chaos.{a.name}" for a in node.names if a.name.startswith("_"))
            elif node.module.startswith("chaos."):
                out.add(node.module)
    return out


def _arrows() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in {"_examples", "fault_profiles"}:
            continue
        here = _layer(rel.parts)
        for module in _imports(path):
            there = _layer(tuple(module.split(".")[1:]))
            if there != here:
                found.setdefault((here, there), []).append(f"{rel} -> {module}")
    return found


def test_every_layer_is_a_folder() -> None:
    for layer in FLOORS:
        if layer != "_errors":
            assert (PACKAGE / layer / "__init__.py").is_file(), layer
    shells = sorted(
        p.name for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__", "_errors"}
    )
    assert not set(shells) & {f"{layer}.py" for layer in FLOORS}, shells


def test_imports_run_down_the_layers() -> None:
    upward = {
        pair: where
        for pair, where in _arrows().items()
        if _floor(pair[1]) >= _floor(pair[0]) and pair[0] != "shell"
    }
    unknown = {pair: where for pair, where in upward.items() if pair not in KNOWN_UPWARD}
    assert unknown == {}
    assert set(KNOWN_UPWARD) <= set(upward), "a known upward arrow is gone: strike it"


def test_the_plugin_takes_other_layers_through_their_faces() -> None:
    private = sorted(
        f"{path.relative_to(PACKAGE)} -> {module}"
        for path in (PACKAGE / "plugin").glob("*.py")
        for module in _imports(path)
        if not module.startswith("chaos.plugin")
        and any(part.startswith("_") for part in module.split(".")[1:])
        # the settings model, the clock, the errors and the gate client are read as modules
        and module
        not in {
            "chaos._errors",
            "chaos.harness._gate_client",
            "chaos.harness._settings",
            "chaos.common._vtime",
        }
        and not module.startswith("chaos.providers._")  # a reply's type (providers' own split)
    )
    assert private == []
