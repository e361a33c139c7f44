"""The gate's harness, seen from a test suite run under ``llm-chaos run``.

When ``LLM_CHAOS_ADMIN_URL`` is set, the pytest plugin does not start a harness
of its own: the ``chaos`` fixture drives the gate's through its admin API, so
the suite's requests land in the gate's journal and verdict, and the gate's
profile is replayed once. :class:`GateHarness` has the parts of
:class:`~chaos.Harness` the plugin uses: ``inject`` goes to ``POST /inject``
(layered over the gate's profile), ``journal`` reads ``GET /journal`` from the
test's first record on, ``reset`` forgets only what this test did.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from chaos._errors import ConfigError, GateProfileConflict, HarnessStartError
from chaos.common._journal import JournalRecord
from chaos.common._target import Target
from chaos.faults import Fault

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from chaos.profiles import Profile
    from chaos.providers import Dialect
    from chaos.providers._replies import Reply

__all__ = ["ADMIN_ENV", "GateHarness", "GateProfileConflict", "from_environ"]

ADMIN_ENV = "LLM_CHAOS_ADMIN_URL"
"""Set by ``llm-chaos run`` for its command: the gate harness's admin API."""
PROFILE_ENV = "LLM_CHAOS_GATE_PROFILE"


@dataclass(frozen=True)
class _Backend:
    name: str
    reason: str
    caveat: str | None = None


class GateHarness:
    """The running gate's harness, through its admin API (see the module's docstring).

    :param admin_url: the admin API's base URL (``$LLM_CHAOS_ADMIN_URL``).
    :param profile: the gate's profile, as ``$LLM_CHAOS_GATE_PROFILE`` names it (a
        built-in's file is named by the profile's name in messages).
    """

    def __init__(self, admin_url: str, *, profile: str | None = None) -> None:
        from chaos.profiles import profile_label

        self.admin_url = admin_url.rstrip("/")
        self.gate_profile: str = profile_label(profile) if profile else "(the gate's profile)"
        """The profile the gate replays (never None: this harness is shared)."""
        self.seed = 0
        self.targets: tuple[Target, ...] = ()
        self._dialects: dict[str, Dialect] = {}
        self._replied: set[str] = set()  # targets this test scripted replies for
        self._endpoints: dict[str, str] = {}
        self._env: dict[str, str] = {}
        self._backend = _Backend("gate", f"the harness of llm-chaos run at {self.admin_url}")
        self._since = 0
        self._mine: list[str] = []  # names of the faults this test injected
        self._fired_before: dict[str, int] = {}
        self.network_unseen: str | None = None
        """What the gate's journal cannot show (see ``Harness.network_unseen``)."""

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> GateHarness:
        """Read the gate harness's targets, endpoints and seed; start this test's journal."""
        info = self._call("GET", "/harness")
        self.seed = int(info["seed"])
        targets: dict[str, str] = dict(info["targets"])
        self.targets = tuple(Target(name, dialect) for name, dialect in targets.items())
        from chaos.gateway._gateway import _make_dialect

        self._dialects = {name: _make_dialect(name, d) for name, d in targets.items()}
        self._endpoints = dict(info["endpoints"])
        self._env = dict(info["env"])
        if info.get("backend"):
            backend = info["backend"]
            self._backend = _Backend(
                f"gate ({backend['name']})",
                f"the harness of llm-chaos run at {self.admin_url}: {backend['reason']}",
                backend.get("caveat"),
            )
        self._since = int(info["next_seq"])
        self._fired_before = dict(info["fired"])
        self.network_unseen = info.get("network_unseen")
        return self

    def stop(self) -> None:
        """Nothing to stop: the gate owns its harness."""

    def begin_test(self) -> None:
        """A test begins: its journal and fired counts start now (the gate's go on)."""
        self.reset()

    def reseed(self, seed: int) -> None:
        """Only this client's :attr:`seed`: the gate's harness keeps its own seed."""
        self.seed = seed

    def dialect(self, target: str) -> Dialect:
        """The dialect the gate's ``target`` speaks."""
        return self._dialects[target]

    # -- where things are --------------------------------------------------------------

    @property
    def endpoints(self) -> dict[str, str]:
        """Target -> the gate harness's chaos endpoint for it."""
        return dict(self._endpoints)

    @property
    def env(self) -> dict[str, str]:
        """The variables routing the SDKs to the gate's harness."""
        return dict(self._env)

    @property
    def backend(self) -> _Backend:
        """``gate``, and which Toxiproxy the gate uses."""
        return self._backend

    @property
    def profile(self) -> None:
        """None: the gate's profile is the gate's, not this test's."""
        return None

    # -- faults ------------------------------------------------------------------------

    def apply(
        self,
        profile: Profile | str | os.PathLike[str],
        *,
        dirs: Sequence[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
    ) -> NoReturn:
        """Refused: the gate already replays its profile on this harness."""
        name = getattr(profile, "name", profile)
        raise GateProfileConflict(
            f"this test applies profile {str(name)!r}, but it runs under llm-chaos run, whose "
            f"harness replays {self.gate_profile or 'another profile'!r}; run it outside the "
            "gate, or select the gate's tests with a marker (-m gate)"
        )

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault to the gate's harness, over its profile (``POST /inject``)."""
        from chaos.profiles import parse_fault

        known = {t.name: t.dialect_name for t in self.targets}
        if target not in known:
            raise ConfigError(f"inject: unknown target {target!r}; targets: {', '.join(known)}")
        answer = self._call("POST", "/inject", {**fault, "target": target})
        parsed = parse_fault(
            {**fault, "target": target, "name": answer["name"]},
            source=f"inject({target!r})",
            dialect=known[target],
        )
        self._mine.append(answer["name"])
        return parsed

    @contextmanager
    def fault(self, target: str, **fault: Any) -> Iterator[Fault]:
        """:meth:`inject` for the duration of a ``with`` block."""
        injected = self.inject(target, **fault)
        try:
            yield injected
        finally:
            self.remove(injected)

    def remove(self, fault: Fault) -> None:
        """Remove one fault this test injected."""
        self._call("DELETE", f"/inject?name={quote(fault.name or '')}")

    def clear(self) -> None:
        """Remove the faults this test injected; the gate's profile goes on."""
        for name in self._mine:
            self._call("DELETE", f"/inject?name={quote(name)}")

    def reply(self, target: str, **reply: Any) -> Reply:
        """Script what the gate's fake answers on ``target`` (``POST /replies``); the
        test's end forgets the replies of the targets it scripted."""
        from chaos.providers._replies import reply_from_kwargs

        if target not in self._dialects:
            raise ConfigError(
                f"reply: unknown target {target!r}; targets: {', '.join(self._dialects)}"
            )
        parsed = reply_from_kwargs(f"reply({target!r})", **reply)
        self._call("POST", "/replies", {**reply, "target": target})
        self._replied.add(target)
        return parsed

    def assert_noticed_content_faults(self, answers: Sequence[str]) -> None:
        """Refused: the answers content faults changed are kept in the gate's process."""
        raise ConfigError(
            "assert_noticed_content_faults is not available under llm-chaos run: the "
            "answers a content fault changed are kept by the gate's harness; run the test "
            "outside the gate"
        )

    def use_cassette(
        self,
        target: str,
        path: str | os.PathLike[str] | None,
        *,
        record: bool = False,
        upstream: str | None = None,
    ) -> None:
        """Refused: the gate's targets are set when it starts; a cassette goes in the
        gate's profile (its target's ``cassette:``) or on ``llm-chaos cassette``."""
        raise ConfigError(
            "a cassette cannot be switched under llm-chaos run: the gate's harness set its "
            "targets when it started; give the cassette in the gate's profile (a target's "
            "'cassette:') or run the command under 'llm-chaos cassette replay'"
        )

    def reset(self) -> None:
        """:meth:`clear`, then start a new journal and fired count for the next test."""
        self.clear()
        for target in sorted(self._replied):
            self._call("DELETE", f"/replies?target={quote(target)}")
        self._replied = set()
        info = self._call("GET", "/harness")
        self._since = int(info["next_seq"])
        self._fired_before = dict(info["fired"])
        self._mine = []

    # -- what happened -----------------------------------------------------------------

    @property
    def journal(self) -> list[JournalRecord]:
        """The requests since this test began (``GET /journal?since=...``)."""
        data = self._call("GET", f"/journal?since={self._since}")
        return [JournalRecord.from_dict(record) for record in data["records"]]

    def fired(self) -> dict[str, int]:
        """The faults this test injected -> times they fired during it. The gate's
        profile faults are left out: the gate judges those over the whole run."""
        fired = self._call("GET", "/harness")["fired"]
        return {
            name: int(fired.get(name, 0)) - self._fired_before.get(name, 0) for name in self._mine
        }

    def phases_seen(self) -> list[str]:
        """Nothing: the gate's phases belong to the gate's verdict."""
        return []

    # -- the wire ----------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.admin_url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            if exc.code == 400:
                raise ConfigError(message) from None
            raise HarnessStartError(
                f"the gate's admin API at {self.admin_url} answered {method} {path} with "
                f"{exc.code}: {message}"
            ) from None
        except OSError as exc:
            raise HarnessStartError(
                f"cannot reach the gate's admin API at {self.admin_url} ({ADMIN_ENV}): {exc}; "
                f"unset {ADMIN_ENV} to run with a harness of this test run's own"
            ) from None


def from_environ(environ: Mapping[str, str]) -> GateHarness | None:
    """The gate's harness when ``llm-chaos run`` started this process, else None."""
    url = environ.get(ADMIN_ENV)
    if not url:
        return None
    return GateHarness(url, profile=environ.get(PROFILE_ENV))
