"""The fenced blocks of README.md and docs/*.md, the example markers that say how each runs,
and the apps the docs' ``my_app`` stands for (issue 14: the docs' examples are tests).

A marker is the line right before a block: ``<!-- example: NAME KIND key=value ... -->``,
split like a shell line. A word with ``=`` is an option (repeatable), a word in
:data:`KINDS` is the kind, any other word the block's name.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

#: how a block runs: a test module run by pytest; a script exec'd; a ``conftest.py`` for a
#: pytest run; a fragment (a signature, a partial block) whose names are checked
KINDS = ("pytest", "script", "conftest", "fragment")

_FENCE = re.compile(r"^```(?P<lang>[^\n`]*)\n(?P<code>.*?)^```[ \t]*$", re.S | re.M)
_MARKER = re.compile(r"^<!-- example: (?P<words>.*?) -->$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown file, with its example marker if it has one."""

    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    name: str | None = None
    kind: str | None = None
    options: dict[str, list[str]] = field(default_factory=dict)
    marked: bool = False

    @property
    def where(self) -> str:
        """``docs/plugin.md:12``: the file and line of the opening fence."""
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{path}:{self.line}"

    def option(self, key: str, default: str | None = None) -> str | None:
        """The last value of option ``key``, else ``default``."""
        values = self.options.get(key)
        return values[-1] if values else default


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, in order."""
    text = path.read_text()
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: max(match.start() - 1, 0)].rsplit("\n", 1)[-1]  # the line right before
        marker = _MARKER.match(before)
        name = kind = None
        options: dict[str, list[str]] = {}
        if marker is not None:
            for word in shlex.split(marker["words"]):
                key, eq, value = word.partition("=")
                if eq:
                    options.setdefault(key, []).append(value)
                elif word in KINDS:
                    kind = word
                else:
                    name = word
        lang = match["lang"].strip()
        found.append(
            Block(path, line, lang, match["code"], name, kind, options, marker is not None)
        )
    return found


def example(path: Path, name: str) -> Block:
    """The block of ``path`` marked ``<!-- example: NAME ... -->``."""
    named = [b for b in blocks(path) if b.name == name]
    assert named, f"{path.relative_to(ROOT)}: no fenced block after <!-- example: {name} ... -->"
    return named[0]


def fenced_block(text: str, marker: str) -> str:
    """The text of the first fenced block after ``<!-- marker -->``."""
    start = text.index(f"<!-- {marker} -->")
    block = _FENCE.search(text, start)
    assert block is not None, f"no fenced block after <!-- {marker} -->"
    return block["code"]


# The docs' `my_app` (or `myapp`), four ways: the example apps, the naive one hiding its
# errors behind an apology, and one that asks again at once, whatever the provider said.
# A fresh resilient Assistant per question, so that a circuit opened by one test does not
# leak into the next (its cool-down is 30 s).
MY_APPS = {
    "resilient": """
        from resilient_app import Answer, Assistant

        def answer(question):
            return Assistant().answer(question)
    """,
    "naive": """
        from naive_app import Answer, answer
    """,
    "apologising": """
        from naive_app import Answer, answer as ask

        def answer(question):
            try:
                return ask(question)
            except Exception:
                return Answer("Sorry, we cannot answer right now.")
    """,
    "hasty": """
        import anthropic
        from naive_app import Answer

        def answer(question):
            client = anthropic.Anthropic(max_retries=0)
            for attempt in range(3):
                try:
                    message = client.messages.create(
                        model="claude-sonnet-4-6",
                        max_tokens=512,
                        messages=[{"role": "user", "content": question}],
                    )
                except anthropic.APIStatusError:
                    if attempt == 2:
                        raise
                    continue
                return Answer("".join(b.text for b in message.content if b.type == "text"))
    """,
}


def route_example_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider or harness settings from the outer run, the embedded Toxiproxy, and the
    example apps importable (``PYTHONPATH``) in a pytester subprocess."""
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    monkeypatch.setenv("COLUMNS", "300")
    examples = ROOT / "examples"
    paths = [str(examples / "resilient_app"), str(examples / "naive_app")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]))
