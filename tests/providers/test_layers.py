"""Dialect and fake stay apart: each provider's fake is built on its dialect, never the reverse.

Read from the sources (``ast``), so a lazy import inside a function counts as well;
and from the registries, so every dialect the package ships has its fake.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

import chaos.providers
from chaos.providers import DIALECTS, FAKES, Fake, Request

_ROOT = Path(chaos.providers.__file__).parent
PROVIDERS = sorted(p.name for p in _ROOT.iterdir() if (p / "__init__.py").is_file())


def _module(path: Path) -> str:
    parts = path.relative_to(_ROOT.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, text: str | None = None) -> set[str]:
    """Every module the source at ``path`` imports, absolute; ``from pkg import name``
    counts as both ``pkg`` and ``pkg.name`` (name may be a submodule)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    source = path.read_text(encoding="utf-8") if text is None else text
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_fake(module: str) -> bool:
    return module.rpartition(".")[2] == "_fake"


def test_the_three_providers_are_packages() -> None:
    assert PROVIDERS == ["anthropic", "gemini", "openai"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_fake_imports_its_dialect(provider: str) -> None:
    imports = _imports(_ROOT / provider / "_fake.py")
    assert f"chaos.providers.{provider}._dialect" in imports


def test_no_dialect_side_module_imports_a_fake() -> None:
    """Only a fake module (or a package's ``__init__``, which exports both) may import one:
    the dialects, their error catalogues and renderers, and the shared contract do not."""
    offenders = {}
    for path in sorted(_ROOT.rglob("*.py")):
        module = _module(path)
        if _is_fake(module) or path.name == "__init__.py":
            continue
        fakes = sorted(name for name in _imports(path) if _is_fake(name))
        if fakes:
            offenders[module] = fakes
    assert offenders == {}


def test_the_checker_sees_a_fake_import() -> None:
    """Both spellings of a fake import are caught, so the test above can fail."""
    where = _ROOT / "anthropic" / "_render.py"
    text = "from chaos.providers import _fake\nfrom . import _fake as f\n"
    found = {name for name in _imports(where, text) if _is_fake(name)}
    assert found == {"chaos.providers._fake", "chaos.providers.anthropic._fake"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_registries_agree(provider: str) -> None:
    dialect_cls = DIALECTS[provider]
    fake_cls = FAKES[provider]
    assert dialect_cls.__module__ == f"chaos.providers.{provider}._dialect"
    assert fake_cls.__module__ == f"chaos.providers.{provider}._fake"
    dialect = dialect_cls()
    assert isinstance(dialect.fake, fake_cls)
    assert dialect.fake.dialect is dialect
    assert dialect.fake is dialect.fake  # one fake per dialect instance: batches persist


def test_every_fake_speaks_a_registered_dialect() -> None:
    assert set(FAKES) <= set(DIALECTS)


def test_a_second_fake_for_a_dialect_is_refused() -> None:
    with pytest.raises(TypeError, match="'anthropic' is already registered"):

        class Twin(Fake[chaos.providers.AnthropicDialect]):
            name = "anthropic"

    assert FAKES["anthropic"].__name__ == "AnthropicFake"


def test_a_dialect_without_a_fake_says_so() -> None:
    class Unfaked(chaos.providers.AnthropicDialect):
        pass

    dialect = Unfaked()
    dialect.name = "unfaked-test"  # an instance attribute: nothing is registered
    request = Request("GET", "/v1/models", [("x-api-key", "k")])
    with pytest.raises(NotImplementedError, match="no fake provider registered for dialect"):
        asyncio.run(dialect.serve(request))
