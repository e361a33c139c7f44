"""Differential fidelity: each fault through the harness gives the installed SDK exactly what
the real API's bytes give it.

For every fault kind × provider × (sync, async) × (plain, streamed), the same SDK call runs
twice at once: against a raw server replaying the provider's recorded bytes
(``_reference.py``, ``_recorded.py``), and against the harness injecting the fault. The two
must agree on the exception class, its status, the number of attempts, the waits between them
and what text the app was left holding. Nothing here names an exception class or message: the
installed SDK decides those, on both sides, in the same run.
"""

from __future__ import annotations

import importlib.metadata
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.fidelity._cases import Case, cases
from tests.fidelity._probe import SDK_PACKAGE, Observation, observe
from tests.fidelity._reference import ReferenceServer
from tests.fidelity.conftest import RESULTS

pytestmark = [
    pytest.mark.sdk,
    # google-genai 2.x's async client subclasses aiohttp's session when aiohttp is installed
    pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning"),
]

_SDK_MODULES = {"anthropic": "anthropic", "openai": "openai", "gemini": "google.genai"}


def _params() -> list[object]:
    out = []
    for case in cases():
        for stream in case.streams:
            for aio in (False, True):
                call = f"{'async' if aio else 'sync'}-{'stream' if stream else 'plain'}"
                out.append(pytest.param(case, stream, aio, id=f"{case.id}-{call}"))
    return out


def _close_enough(real: float, ours: float) -> bool:
    # the SDKs jitter their backoff by up to 25 %; a busy machine adds a little
    return abs(real - ours) <= max(0.35, 0.5 * max(real, ours))


def disagreements(real: Observation, ours: Observation) -> list[str]:
    """What the harness made the SDK do differently from the real bytes."""
    out = []
    for name in ("exception", "status", "attempts", "text_state"):
        a, b = getattr(real, name), getattr(ours, name)
        if a != b:
            out.append(f"{name}: real bytes -> {a!r}, harness -> {b!r}")
    if real.attempts == ours.attempts and not all(
        _close_enough(a, b) for a, b in zip(real.waits, ours.waits, strict=True)
    ):
        out.append(f"waits: real bytes -> {real.waits}, harness -> {ours.waits}")
    return out


def _version(provider: str) -> str:
    return importlib.metadata.version(SDK_PACKAGE[provider])


@pytest.mark.slow
@pytest.mark.parametrize(("case", "stream", "aio"), _params())
def test_harness_and_real_bytes_agree(harness, case: Case, stream: bool, aio: bool) -> None:
    pytest.importorskip(_SDK_MODULES[case.provider])
    harness.clear()
    if case.fault:
        harness.inject(case.provider, **case.fault)
    endpoint = harness.endpoints[case.provider]
    since = len(harness.journal)
    try:
        with ReferenceServer(case.plan) as ref, ThreadPoolExecutor(2) as pool:
            real_url = ref.url
            kw = {"stream": stream, "aio": aio, "timeout": case.timeout}
            real_f = pool.submit(observe, case.provider, real_url, **kw)
            ours_f = pool.submit(observe, case.provider, endpoint, **kw)
            real, ours = real_f.result(), ours_f.result()
            served = len(ref.attempts)
    finally:
        harness.clear()
    if not real.attempts and not ours.attempts:
        # the client's transport has no request hook (google-genai's async client over
        # aiohttp): count on the servers' side instead, the recording's and the journal
        real.attempts = served
        ours.attempts = sum(r.target == case.provider for r in harness.journal[since:])
    assert real.attempts, f"{case.id}: the SDK made no request at all: nothing was compared"
    RESULTS.append(
        {
            "provider": case.provider,
            "sdk": SDK_PACKAGE[case.provider],
            "version": _version(case.provider),
            "fault": case.name,
            "stream": stream,
            "aio": aio,
            "timeout": case.timeout,
            "real": real.as_dict(),
            "harness": ours.as_dict(),
            "agree": not disagreements(real, ours),
        }
    )
    problems = disagreements(real, ours)
    assert not problems, (
        f"{case.id} through {SDK_PACKAGE[case.provider]} {_version(case.provider)} "
        f"({'async' if aio else 'sync'}, {'streamed' if stream else 'plain'}): "
        + "; ".join(problems)
        + f"\n  real bytes: {real}\n  harness:    {ours}"
    )


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_every_error_kind_has_its_real_bytes(provider: str) -> None:
    """A dialect's new error kind cannot escape the differential: it needs a recording."""
    from chaos.providers import AnthropicDialect, GeminiDialect, OpenAIDialect
    from tests.fidelity import _recorded

    dialect = {"anthropic": AnthropicDialect, "openai": OpenAIDialect, "gemini": GeminiDialect}
    table = getattr(_recorded, f"{provider.upper()}_ERRORS")
    assert sorted(table) == sorted(dialect[provider]().error_kinds())
