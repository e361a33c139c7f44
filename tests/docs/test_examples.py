"""Every Python example of README.md and docs/*.md runs, as its marker says (issue 14).

Each ```python block carries ``<!-- example: [NAME] KIND [options] -->`` on the line before:

- ``pytest``: a test module, run by pytester in a subprocess with ``my_app`` (``app=NAME``
  renames it) standing for the resilient example app, where every test must pass, and for
  the naive one (``against=`` another of ``MY_APPS``), where the run must fail and its
  output match every ``fails=REGEX``.
  ``imports=a,b`` names modules a partial module uses without importing them.
- ``script``: exec'd as written; ``with=NAME`` provides a running ``chaos`` fixture (in a
  pytester run, after one question to the resilient app) or ``toxi`` (an embedded backend
  with an ``anthropic`` proxy); ``env=NAME=VALUE`` sets a variable (no ``TOXIPROXY_URL``);
  ``prints=REGEX`` must match what it printed.
- ``conftest``: a ``conftest.py`` for a pytester run of a naive app's failing chaos test;
  ``stub=NAME`` defines a placeholder it calls (recording its arguments), ``posts=REGEX``
  must match what the stubs recorded.
- ``fragment``: its names are checked: ``checks=hooks`` (its ``pytest_*`` functions are
  the plugin's hookspecs, with their arguments), ``checks=marker`` (the signature shown is
  the ``chaos`` marker's).
- ``run-by=PATH``: that test module runs it (and names it), not this one.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs._markdown import DOCUMENTS, KINDS, MY_APPS, ROOT, Block, blocks, route_example_apps

PYTHON = {"python", "py", "python3"}
EXAMPLES = [b for path in DOCUMENTS for b in blocks(path) if b.lang in PYTHON]


def of_kind(kind: str) -> list[Any]:
    """The examples of ``kind`` that this module runs, as parameters with readable ids."""
    return [
        pytest.param(b, id=b.where)
        for b in EXAMPLES
        if b.kind == kind and b.option("run-by") is None
    ]


def unmarked(examples: list[Block]) -> list[str]:
    """What is wrong with each Python block that does not say how it runs."""
    return [
        f"{b.where}: no <!-- example: KIND --> line right before the block (KIND: "
        f"{' | '.join(KINDS)})"
        for b in examples
        if b.lang in PYTHON and b.kind is None
    ]


def test_every_python_example_says_how_it_runs() -> None:
    assert len(EXAMPLES) >= 14  # the blocks are found at all
    problems = unmarked(EXAMPLES)
    assert not problems, "\n".join(problems)


def test_a_new_unmarked_block_is_reported(tmp_path: Path) -> None:
    doc = tmp_path / "new.md"
    doc.write_text(
        "# New\n\n<!-- example: a-name script 'prints=x y' with=toxi -->\n```python\n"
        "print('x y')\n```\n\nThen:\n\n```python\nprint('unmarked')\n```\n\n"
        "<!-- example: a-name script -->\n\n```python\nprint('not right before')\n```\n"
        "\n```yaml\nnot: python\n```\n"
    )
    found = blocks(doc)
    assert [(b.line, b.name, b.kind, b.options) for b in found[:2]] == [
        (4, "a-name", "script", {"prints": ["x y"], "with": ["toxi"]}),
        (10, None, None, {}),
    ]
    assert unmarked(found) == [
        f"{doc}:10: no <!-- example: KIND --> line right before the block "
        "(KIND: pytest | script | conftest | fragment)",
        f"{doc}:16: no <!-- example: KIND --> line right before the block "
        "(KIND: pytest | script | conftest | fragment)",
    ]


@pytest.mark.parametrize(
    "block", [pytest.param(b, id=b.where) for b in EXAMPLES if b.option("run-by")]
)
def test_examples_run_elsewhere_are_named_there(block: Block) -> None:
    runner = ROOT / str(block.option("run-by"))
    assert runner.is_file(), f"{block.where}: run-by={runner} does not exist"
    assert block.name is not None, f"{block.where}: a block run elsewhere needs a name"
    assert f'"{block.name}"' in runner.read_text(), f"{runner} never names {block.name!r}"


def test_the_marker_parser() -> None:
    readme = [b for b in blocks(ROOT / "README.md") if b.name == "quick-start"]
    assert [(b.kind, b.lang, b.option("run-by")) for b in readme] == [
        ("pytest", "python", "tests/demo/test_readme.py")
    ]
    assert all(b.marked for b in EXAMPLES)


# --- pytest: a test module, against the resilient app and the naive one ---------------


@pytest.fixture
def example_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of a pytester run of the example apps."""
    route_example_apps(monkeypatch)


def module_of(block: Block) -> str:
    """The block as a test module: with the imports it leaves to the reader, if it says so."""
    imports = [m for m in str(block.option("imports", "")).split(",") if m]
    return "".join(f"import {m}\n" for m in imports) + block.code


@pytest.mark.slow
@pytest.mark.sdk
@pytest.mark.usefixtures("example_apps")
@pytest.mark.parametrize("app", ["resilient", "naive"])
@pytest.mark.parametrize("block", of_kind("pytest"))
def test_pytest_example(pytester: pytest.Pytester, block: Block, app: str) -> None:
    pytest.importorskip("anthropic")
    pytest.importorskip("openai")
    app_module = str(block.option("app", "my_app"))
    code = MY_APPS[app if app == "resilient" else str(block.option("against", app))]
    pytester.makepyfile(**{app_module: textwrap.dedent(code), "test_example": module_of(block)})

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")

    out = result.stdout.str()
    if app == "resilient":
        assert result.ret == pytest.ExitCode.OK, f"{block.where}\n{out}"
        assert result.parseoutcomes().get("passed", 0) >= 1
        return
    promised = block.options.get("fails", [])
    assert promised, f"{block.where}: say what a naive app's run shows (fails=REGEX)"
    assert result.ret == pytest.ExitCode.TESTS_FAILED, f"{block.where}\n{out}"
    for pattern in promised:
        assert re.search(pattern, out), f"{block.where}: no {pattern!r} in\n{out}"


# --- script: exec'd as written ----------------------------------------------------------


def run_script(block: Block, namespace: dict[str, Any]) -> str:
    """Exec the block (top-level ``await`` allowed) and return what it printed."""
    code = compile(block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = eval(code, namespace)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    return printed.getvalue()


@pytest.fixture
def toxi() -> Iterator[Any]:
    """A running embedded backend with an ``anthropic`` proxy (docs/backends.md's ``toxi``)."""
    from chaos.toxiproxy import start_backend

    with start_backend("embedded") as running:
        running.client.create_proxy("anthropic", upstream="127.0.0.1:9")
        yield running


@pytest.mark.parametrize(
    "block", [p for p in of_kind("script") if p.values[0].option("with") != "chaos"]
)
def test_script_example(
    block: Block, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    for setting in block.options.get("env", []):
        name, _, value = setting.partition("=")
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {"__name__": "__example__"}
    given = block.option("with")
    if given is not None:
        namespace[given] = request.getfixturevalue(given)
    printed = run_script(block, namespace)
    for pattern in block.options.get("prints", []):
        assert re.search(pattern, printed), f"{block.where}: no {pattern!r} in\n{printed}"
    if given == "toxi":  # what the block added inside its scope is gone
        assert namespace["toxi"].client.toxics("anthropic") == []


CHAOS_SCRIPT = """
import my_app

CODE = {code!r}


def test_example(chaos):
    chaos.inject("anthropic", error="overloaded")
    assert my_app.answer("What is our refund policy?").provider == "openai"
    exec(compile(CODE, {where!r}, "exec"), {{"chaos": chaos}})
"""


@pytest.mark.slow
@pytest.mark.sdk
@pytest.mark.usefixtures("example_apps")
@pytest.mark.parametrize(
    "block", [p for p in of_kind("script") if p.values[0].option("with") == "chaos"]
)
def test_script_example_in_a_chaos_test(pytester: pytest.Pytester, block: Block) -> None:
    pytest.importorskip("anthropic")
    pytest.importorskip("openai")
    pytester.makepyfile(
        my_app=textwrap.dedent(MY_APPS["resilient"]),
        test_example=CHAOS_SCRIPT.format(code=block.code, where=block.where),
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")

    out = result.stdout.str()
    result.assert_outcomes(passed=1)
    for pattern in block.options.get("prints", []):
        assert re.search(pattern, out), f"{block.where}: no {pattern!r} in\n{out}"


# --- conftest: a conftest.py for a failing chaos test ----------------------------------

STUB = """
def {name}(*args, **kwargs):  # the example's placeholder: record the call
    with open("stubs.txt", "a") as posted:
        posted.write("{name}: " + " ".join(map(str, args)) + "\\n")


"""

FAILING = """
import my_app


def test_overloaded(chaos):
    chaos.inject("anthropic", error="overloaded")
    assert my_app.answer("What is our refund policy?").text
"""


@pytest.mark.slow
@pytest.mark.sdk
@pytest.mark.usefixtures("example_apps")
@pytest.mark.parametrize("block", of_kind("conftest"))
def test_conftest_example(pytester: pytest.Pytester, block: Block) -> None:
    pytest.importorskip("anthropic")
    stubs = "".join(STUB.format(name=name) for name in block.options.get("stub", []))
    pytester.makeconftest(stubs + block.code)
    pytester.makepyfile(my_app=textwrap.dedent(MY_APPS["naive"]), test_example=FAILING)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    out = result.stdout.str()
    result.assert_outcomes(failed=1)
    assert "Traceback" not in result.stderr.str(), result.stderr.str()
    posted = (pytester.path / "stubs.txt").read_text() if block.options.get("stub") else ""
    for pattern in block.options.get("posts", []):
        assert re.search(pattern, posted), f"{block.where}: no {pattern!r} in\n{posted}\n{out}"


# --- fragment: the names it uses are real -----------------------------------------------


@pytest.mark.parametrize("block", of_kind("fragment"))
def test_fragment_example(block: Block, pytestconfig: pytest.Config) -> None:
    checks = block.options.get("checks", [])
    assert checks, f"{block.where}: say what to check in the fragment (checks=hooks|marker)"
    for check in checks:
        if check == "hooks":
            tree = ast.parse(block.code, block.where)
            hooks = [
                f
                for f in tree.body
                if isinstance(f, ast.FunctionDef) and f.name.startswith("pytest_")
            ]
            assert hooks, f"{block.where}: no hook in the fragment"
            for hook in hooks:
                caller = getattr(pytestconfig.hook, hook.name, None)
                spec = getattr(caller, "spec", None)
                assert spec is not None, f"{block.where}: {hook.name} is not a hookspec"
                args = [a.arg for a in hook.args.args]
                assert set(args) <= set(spec.argnames), (hook.name, args, spec.argnames)
        elif check == "marker":
            registered = [m for m in pytestconfig.getini("markers") if m.startswith("chaos(")]
            assert registered, "the chaos marker is not registered"
            signature = re.search(r"@pytest\.mark\.chaos(\(.*?\))", block.code, re.S)
            assert signature is not None, f"{block.where}: no @pytest.mark.chaos(...) signature"
            shown = " ".join(signature[1].split())
            assert registered[0].startswith("chaos" + shown), (shown, registered[0])
        else:
            pytest.fail(f"{block.where}: unknown check {check!r} (valid: hooks, marker)")
