"""The harness contract: what the pytest plugin and the ``chaos`` fixture use of a harness.

Two classes implement it: :class:`chaos.Harness` (a harness of this process) and
``chaos._gate_client.GateHarness`` (the harness of ``llm-chaos run``, shared over
its admin API). The plugin and the fixture speak only this :class:`HarnessLike`,
never ``isinstance`` or ``getattr``; mypy checks both classes against it where the
plugin starts the session's harness (``chaos.plugin._session._start_harness`` returns
either as a ``HarnessLike``), so this layer imports neither shell.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chaos.common._journal import JournalRecord
    from chaos.faults import Fault
    from chaos.profiles import Profile
    from chaos.providers import Dialect
    from chaos.providers._replies import Reply

__all__ = ["BackendLike", "HarnessLike", "TargetLike"]


class TargetLike(Protocol):
    """One target of a harness (exposed for typing only)."""

    @property
    def name(self) -> str:
        """The target's name."""
        ...

    @property
    def dialect_name(self) -> str:
        """The provider dialect it speaks."""
        ...

    @property
    def upstream(self) -> str:
        """``fake`` or the URL answers come from."""
        ...


class BackendLike(Protocol):
    """Which Toxiproxy a harness uses (exposed for typing only)."""

    @property
    def name(self) -> str:
        """The backend's name."""
        ...

    @property
    def reason(self) -> str:
        """Why it was chosen (for the run header)."""
        ...

    @property
    def caveat(self) -> str | None:
        """What it cannot do that the embedded one does, if anything."""
        ...


class HarnessLike(Protocol):
    """A running harness as the plugin and the fixture use it (exposed for typing only)."""

    @property
    def seed(self) -> int:
        """The seed in use."""
        ...

    def reseed(self, seed: int) -> None:
        """Seed the faults set from now on (a test's ``seed=`` marker)."""
        ...

    @property
    def targets(self) -> Sequence[TargetLike]:
        """The targets."""
        ...

    @property
    def endpoints(self) -> dict[str, str]:
        """Target -> the base URL the app should use."""
        ...

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the SDKs at the harness."""
        ...

    @property
    def admin_url(self) -> str:
        """The admin API's base URL."""
        ...

    @property
    def backend(self) -> BackendLike:
        """Which Toxiproxy is in use, and why."""
        ...

    @property
    def profile(self) -> Profile | None:
        """The profile this harness's owner applied, if any."""
        ...

    @property
    def gate_profile(self) -> str | None:
        """The profile ``llm-chaos run`` replays on a shared harness; None for one's own."""
        ...

    @property
    def journal(self) -> list[JournalRecord]:
        """The journal (for a shared harness: since the current test began)."""
        ...

    @property
    def network_unseen(self) -> str | None:
        """What the journal cannot show with the Toxiproxy in use (None: nothing)."""
        ...

    def dialect(self, target: str) -> Dialect:
        """The dialect serving ``target`` (routing reads its variables)."""
        ...

    def start(self) -> HarnessLike:
        """Start (or, shared, connect); returns itself."""
        ...

    def stop(self) -> None:
        """Stop what this process started. Idempotent."""
        ...

    def begin_test(self) -> None:
        """A test begins: a shared harness starts that test's journal and fired counts."""
        ...

    def apply(
        self,
        profile: Profile | str | os.PathLike[str],
        *,
        dirs: Sequence[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
    ) -> Profile:
        """Replay a profile (a shared harness refuses: it replays the gate's)."""
        ...

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault over the profile's."""
        ...

    def fault(self, target: str, **fault: Any) -> AbstractContextManager[Fault]:
        """:meth:`inject` for a ``with`` block."""
        ...

    def remove(self, fault: Fault) -> None:
        """Remove one injected fault."""
        ...

    def reply(self, target: str, **reply: Any) -> Reply:
        """Script what ``target``'s fake answers."""
        ...

    def assert_noticed_content_faults(self, answers: Sequence[str]) -> None:
        """Fail if the app passed an answer a content fault changed on as complete."""
        ...

    def use_cassette(
        self,
        target: str,
        path: str | os.PathLike[str] | None,
        *,
        record: bool = False,
        upstream: str | None = None,
    ) -> None:
        """Replay ``target``'s answers from a cassette (``None``: its own upstream again)."""
        ...

    def clear(self) -> None:
        """Remove the faults in force (a shared harness: those this test added)."""
        ...

    def reset(self) -> None:
        """Clear, then forget what happened (a shared harness: this test's part)."""
        ...

    def fired(self) -> dict[str, int]:
        """Fault name -> times it fired."""
        ...

    def phases_seen(self) -> list[str]:
        """The profile phases attempts saw, in order."""
        ...
