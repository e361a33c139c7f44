"""The two example apps ``llm-chaos demo`` drives, and the questions it asks them.

The apps are the examples shipped with the package (``examples/resilient_app``
and ``examples/naive_app`` in a checkout, ``chaos/_examples/`` in the wheel), on
the official ``anthropic`` and ``openai`` SDKs, configured from the environment
the harness gives, as in production. Each is imported only in its own process
(:mod:`chaos.cli.demo.driver`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chaos._errors import ConfigError

__all__ = [
    "APPS",
    "QUESTIONS",
    "SDKS",
    "DemoApp",
    "find_app",
    "missing_sdks",
    "require_sdks",
]

SDKS: tuple[str, ...] = ("anthropic", "openai")
QUESTIONS: tuple[str, ...] = (
    "What should I do when my LLM provider is down?",
    "Summarise this support ticket in one line.",
    "Translate 'the service is back' into French.",
    "Which of our plans includes SSO?",
    "Draft a two-line status update for customers.",
    "Is this refund request within policy?",
)


def find_app(name: str) -> Path:
    """The folder to put on ``sys.path`` to import the example app ``name``.

    The wheel ships the apps as ``chaos/_examples/<name>``; a checkout (and an
    editable install) has them under ``examples/<name>/<name>``.
    """
    shipped = resources.files("chaos").joinpath("_examples", name)
    if shipped.is_dir():
        return Path(str(shipped)).parent
    checkout = Path(__file__).resolve().parents[3] / "examples" / name
    if (checkout / name).is_dir():
        return checkout
    raise ConfigError(
        f"the example app {name!r} is not installed with this copy of pytest-llm-chaos "
        f"(looked in {shipped} and {checkout / name})"
    )


def require_sdks() -> None:
    """Raise :class:`~chaos.ConfigError` naming the pip command when an SDK is missing."""
    missing = missing_sdks()
    if missing:
        raise ConfigError(
            f"the demo runs the example apps on the official SDKs, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed here; install "
            f"{'it' if len(missing) == 1 else 'them'} with:\n"
            f"    {sys.executable} -m pip install 'pytest-llm-chaos[demo]'"
        )


def missing_sdks() -> list[str]:
    """The official SDKs the example apps need that cannot be imported here."""
    missing = []
    for name in SDKS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _import_app(name: str) -> Any:
    folder = str(find_app(name))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


@dataclass(frozen=True)
class DemoApp:
    """One example app as the demo drives it.

    :param name: the package name (``resilient_app``).
    :param label: how the output names it.
    :param blurb: what it does, in one line.
    :param make: builds the app (after the harness env is set) and returns
        ``(ask, breaker)``: ``ask(question) -> (provider, degraded)`` raising on an
        error the user would see; ``breaker()`` the Claude circuit's state, or None.
    """

    name: str
    label: str
    blurb: str
    make: Callable[[], tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]]


def _resilient() -> tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]:
    app = _import_app("resilient_app")
    # one incident hour is one second here: a 0.25 s cool-down is a quarter of an hour
    assistant = app.Assistant(timeout=3.0, cooldown=0.25, max_retry_wait=1.0)

    def ask(question: str) -> tuple[str, bool]:
        answer = assistant.answer(question)
        return answer.provider, answer.degraded

    def breaker() -> str | None:
        state: str = assistant.breakers["anthropic"].state
        return state

    return ask, breaker


def _naive() -> tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]:
    app = _import_app("naive_app")

    def ask(question: str) -> tuple[str, bool]:
        answer = app.answer(question, timeout=3.0)
        return answer.provider, answer.degraded

    return ask, lambda: None


APPS: tuple[DemoApp, ...] = (
    DemoApp(
        "resilient_app",
        "resilient app",
        "Claude first; tenacity retries honouring retry-after; a circuit breaker; "
        "failover to OpenAI; a degraded answer last",
        _resilient,
    ),
    DemoApp(
        "naive_app",
        "naive app",
        "Claude only, with the SDK's defaults (2 retries); no fallback",
        _naive,
    ),
)
