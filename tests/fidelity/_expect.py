"""What the installed SDK does with the real bytes, for tests that need an expectation.

A test that checks what an app sees under a fault must not name the exception class: the
SDK decides it, and changes it between releases (anthropic 2.17 wraps a cut stream in
``APIConnectionError``; 2.16 let ``httpx2.RemoteProtocolError`` through). Instead, derive it
in the same run: replay the provider's recorded bytes for the same fault and see what the
SDK raises.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fidelity._probe import Observation, observe
from tests.fidelity._reference import Plan, ReferenceServer, refused_url


def real_observation(
    provider: str,
    plan: Plan | None,
    *,
    stream: bool = False,
    aio: bool = False,
    timeout: float = 5.0,
) -> Observation:
    """One call with the installed SDK against the recorded bytes of ``plan`` (None: a
    provider that refuses connections)."""
    if plan is None:
        return observe(provider, refused_url(), stream=stream, aio=aio, timeout=timeout)
    with ReferenceServer(lambda _n: plan) as ref:
        return observe(provider, ref.url, stream=stream, aio=aio, timeout=timeout)


def resolve(name: str) -> type[BaseException]:
    """The exception class a dotted name from :func:`exception_name` stands for."""
    module, _, cls = name.rpartition(".")
    found = getattr(importlib.import_module(module), cls)
    assert isinstance(found, type), name
    assert issubclass(found, BaseException), name
    return found


def real_exception(provider: str, plan: Plan | None, **kw: object) -> type[BaseException]:
    """The exception class the installed SDK raises for the real bytes of ``plan``."""
    seen = real_observation(provider, plan, **kw)  # type: ignore[arg-type]
    assert seen.exception is not None, f"the real bytes raise nothing in {provider}'s SDK"
    return resolve(seen.exception)


@contextmanager
def raises_like_real(
    provider: str, plan: Plan | None, **kw: object
) -> Iterator[pytest.ExceptionInfo[BaseException]]:
    """``pytest.raises`` for exactly the class the real bytes give the installed SDK."""
    expected = real_exception(provider, plan, **kw)
    with pytest.raises(expected) as info:
        yield info
    assert type(info.value) is expected, (
        f"the harness made {provider}'s SDK raise {type(info.value).__module__}."
        f"{type(info.value).__qualname__}; the real bytes make it raise "
        f"{expected.__module__}.{expected.__qualname__}"
    )
