"""The first lines of a failed chaos test's report: what happened, before the traceback.

A chaos test that fails on an exception of its own (the app's SDK raising
``APIConnectionError`` under ``provider-down``, a bare ``assert``) gets a
header naming the profile, the faults that fired, what the verdict read in the
journal, and the exception; the traceback under it is cut to the frames of the
user's code and the frame that raised, unless ``--tb`` or ``--full-trace``
asks for more. A failed verdict assertion needs no header: its message is the
verdict, and the plugin's and the verdict's frames are hidden
(``__tracebackhide__``), so pytest shows the user's line and the message.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FailureRepr", "failure_header", "lead_with_chaos", "library_path", "shorten"]

_LIBRARY_DIRS = tuple(
    os.path.normcase(os.path.realpath(sysconfig.get_paths()[key])) + os.sep
    for key in ("stdlib", "platstdlib", "purelib", "platlib")
)


def library_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is installed code (the standard library, site-packages): the
    SDKs' frames, not the app's or its tests'."""
    real = os.path.normcase(os.path.realpath(os.fspath(path)))
    return real.startswith(_LIBRARY_DIRS)


def failure_header(
    *,
    exception: BaseException,
    profile: str | None,
    seed: int | None,
    fired: Mapping[str, int],
    faults: Iterable[Any],
    summary: Mapping[str, Any],
    records: int,
    shortened: bool,
) -> list[str]:
    """The lines that lead a failed chaos test's report.

    :param exception: what the test raised.
    :param profile: the profile's name (a built-in's, not its path), or None.
    :param fired: fault name -> times it fired (``harness.fired()``).
    :param faults: the profiles' faults (``chaos.faults.Fault``), to say what each one is.
    :param summary: target -> :class:`chaos.verdict.TargetSummary`.
    :param records: how many requests reached the harness.
    :param shortened: whether the traceback under the header was cut to the user's frames.
    """
    kind = type(exception)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    text = str(exception).strip().splitlines()
    if profile:
        under = f"profile {profile}"
    else:
        under = "the faults the test injected" if fired else "the harness, with no fault"
    seeded = f", seed {seed}" if seed is not None else ""
    lines = [f"llm-chaos: failed under {under}{seeded}: {name}: {text[0] if text else ''}".rstrip()]
    by_name = {f.name: f for f in faults if getattr(f, "name", None)}
    went_off = [
        f"{n} ×{count}" + (f" ({_what(by_name[n])})" if n in by_name else "")
        for n, count in fired.items()
        if count
    ]
    silent = [n for n, count in fired.items() if not count]
    if went_off:
        lines.append(f"llm-chaos: faults that fired: {', '.join(went_off)}")
    if silent:
        more = f" and {len(silent) - 4} more" if len(silent) > 4 else ""
        lines.append(f"llm-chaos: faults that never fired: {', '.join(silent[:4])}{more}")
    if not fired:
        lines.append("llm-chaos: no fault was declared: the harness passed every request through")
    tried = [s for s in summary.values() if getattr(s, "attempts", 0)]
    if not records:
        why = (
            " (a network fault refuses or cuts connections before the gateway, so they are "
            "not in the journal)"
            if any(count and n in by_name and _network(by_name[n]) for n, count in fired.items())
            else ""
        )
        lines.append(f"llm-chaos: verdict: no request reached any target{why}")
    for s in tried:
        lines.append(
            f"llm-chaos: verdict: {s.target}: {_n(s.calls, 'call')}, {_n(s.attempts, 'attempt')}, "
            f"{s.failures} failed, {_n(s.sdk_retries, 'SDK retry', 'SDK retries')}, "
            f"{_n(s.failovers_from, 'failover')} away"
        )
    if records:
        lines.append("llm-chaos: every attempt is in the 'llm-chaos journal' section below")
    if shortened:
        lines.append(
            "llm-chaos: the traceback is cut to your code and the line that raised "
            "(--tb=long or --full-trace shows every frame)"
        )
    return lines


def shorten(excinfo: Any, traceback_filter: Any) -> Any:
    """``excinfo``'s report with only the user's frames and the frame that raised, in
    pytest's short style, for each exception of the chain.

    :param traceback_filter: pytest's own filter of the item (cuts to the test function
        and drops ``__tracebackhide__`` frames).
    """

    def cut(info: Any) -> Any:
        frames = traceback_filter(info)
        if not frames:
            return frames
        last = frames[-1]
        return frames.filter(lambda e: e is last or not library_path(str(e.path)))

    return excinfo.getrepr(style="short", tbfilter=cut, funcargs=False, chain=True)


class FailureRepr:
    """A failure report: the header lines, then pytest's own report of the exception.

    Has ``toterminal`` (what pytest's terminal calls) and the wrapped report's
    ``reprcrash`` (the one-line summary and JUnit's message); it prints as text, so
    xdist sends it from the workers as it sends any text report.
    """

    def __init__(self, header: Sequence[str], inner: Any) -> None:
        self.header = list(header)
        self.inner = inner

    @property
    def reprcrash(self) -> Any:
        """The wrapped report's crash line (file, line, message)."""
        return getattr(self.inner, "reprcrash", None)

    def toterminal(self, tw: Any) -> None:
        """Write the header, then the wrapped report."""
        for line in self.header:
            tw.line(line, red=True, bold=True)
        tw.line("")
        if hasattr(self.inner, "toterminal"):
            self.inner.toterminal(tw)
        else:
            tw.line(str(self.inner))

    def __str__(self) -> str:
        import io

        from _pytest._io import TerminalWriter

        out = io.StringIO()
        self.toterminal(TerminalWriter(file=out))
        return out.getvalue().strip()


def _what(fault: Any) -> str:
    action = getattr(fault, "action", None)
    described = action.describe() if action is not None and hasattr(action, "describe") else ""
    return f"{fault.target} {described}".strip()


def _network(fault: Any) -> bool:
    return getattr(getattr(fault, "action", None), "layer", "") == "network"


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def lead_with_chaos(item: Any, call: Any, report: Any, fixture: Any, profile: str | None) -> None:
    """Put the header in front of ``report``'s failure when the test failed on an
    exception of its own (not a verdict assertion, whose message is the verdict), and
    cut its traceback to the user's frames unless ``--tb``/``--full-trace`` was given.

    :param fixture: the test's ``chaos`` fixture.
    :param profile: the profile's name or file (a built-in's path is shown by name).
    """
    from chaos._errors import VerdictError
    from chaos.profiles import profile_label

    excinfo = call.excinfo
    if excinfo is None or isinstance(excinfo.value, VerdictError):
        return
    import pytest

    config = item.config
    traceback_filter = getattr(item, "_traceback_filter", None)
    shortened = (
        traceback_filter is not None
        and not isinstance(excinfo.value, pytest.fail.Exception)  # its message is the report
        and config.getoption("tbstyle", "auto") == "auto"
        and not config.getoption("fulltrace", False)
    )
    try:
        inner = shorten(excinfo, traceback_filter) if shortened else report.longrepr
        verdict = fixture.verdict
        header = failure_header(
            exception=excinfo.value,
            profile=profile_label(profile) if profile else None,
            seed=fixture.seed,
            fired=fixture.fired(),
            faults=[f for p in fixture.profiles for f in p.faults()],
            summary=verdict.summary(),
            records=len(verdict.records),
            shortened=shortened,
        )
    except Exception as exc:  # a summary that cannot be had must not hide the failure
        report.sections.append(("llm-chaos", f"no summary of this failure: {exc!r}"))
        return
    report.longrepr = FailureRepr(header, inner)
