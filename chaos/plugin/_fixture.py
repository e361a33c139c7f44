"""The ``chaos`` fixture's scope over a running harness, and the object it gives a test.

The fixture is a thin scope (``with scope(harness, ...) as chaos: yield chaos``)
over anything that keeps to the harness contract (:class:`~chaos.harness._contract.HarnessLike`):
a harness of this process or the one ``llm-chaos run`` shares.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chaos.common import JournalRecord
from chaos.verdict import Verdict

if TYPE_CHECKING:
    from chaos.faults import Fault
    from chaos.harness import HarnessLike
    from chaos.profiles import Profile
    from chaos.providers._replies import Reply

__all__ = ["ChaosFixture", "scope"]


@contextmanager
def scope(
    harness: HarnessLike,
    *,
    targets: Mapping[str, str],
    env: Mapping[str, str],
    profile: str | None = None,
    profile_dirs: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Iterator[ChaosFixture]:
    """One test's scope over ``harness``: in, the test begins (a shared harness starts
    its journal), takes its seed and its profile; out, pass or fail, and when the way
    in failed too, the seed goes back and the harness is reset, so nothing leaks into
    the next test.

    :param targets: target name -> dialect, the targets the test routes to.
    :param env: the variables set for the test.
    :param profile: a profile applied first, if any.
    :param profile_dirs: folders profile names are looked up in.
    :param params: profile parameters.
    :param seed: the test's seed (its marker's), else the harness's.
    """
    session_seed = harness.seed
    try:
        harness.begin_test()
        if seed is not None:
            harness.reseed(seed)
        fixture = ChaosFixture(
            harness,
            targets=targets,
            env=env,
            profile=profile,
            profile_dirs=profile_dirs,
            params=params,
        )
        if profile is not None:
            fixture.apply(profile)
        yield fixture
    finally:
        if seed is not None:
            harness.reseed(session_seed)
        harness.reset()


class ChaosFixture:
    """What the ``chaos`` fixture yields (exposed for type hints only).

    Everything a test does here lasts until the end of the test: the plugin
    resets the harness afterwards, even when the test fails.
    """

    def __init__(
        self,
        harness: HarnessLike,
        *,
        targets: Mapping[str, str],
        env: Mapping[str, str],
        profile: str | None,
        profile_dirs: Sequence[str],
        params: Mapping[str, Any] | None,
    ) -> None:
        """Private: the plugin builds it."""
        self.harness = harness
        """The session's running harness (``chaos.Harness``, or the one ``llm-chaos run``
        shares)."""
        self.targets: Mapping[str, str] = dict(targets)
        """Target name -> dialect, for the targets this test routes to."""
        self.profile = profile
        """The name (or path) of the profile applied to this test, if any."""
        self._env = dict(env)
        self._dirs = list(profile_dirs)
        self._params = dict(params or {})
        self._profiles: list[Profile] = []

    @property
    def endpoints(self) -> dict[str, str]:
        """Target name -> base URL of its chaos endpoint (``http://127.0.0.1:PORT``)."""
        return {k: v for k, v in self.harness.endpoints.items() if k in self.targets}

    @property
    def env(self) -> dict[str, str]:
        """The environment variables set for this test (empty when ``route_env=False``)."""
        return dict(self._env)

    @property
    def seed(self) -> int:
        """The seed in use: the same seed and the same requests give the same faults."""
        return self.harness.seed

    @property
    def journal(self) -> list[JournalRecord]:
        """Every request this test sent to the harness, in order."""
        return list(self.harness.journal)

    @property
    def profiles(self) -> list[Profile]:
        """The profiles applied in this test, as loaded (``chaos.profiles.Profile``)."""
        return list(self._profiles)

    @property
    def verdict(self) -> Verdict:
        """A :class:`~chaos.verdict.Verdict` over this test's journal, read now."""
        return Verdict(
            self.harness.journal,
            targets=self.targets,
            declared=self.harness.fired(),
            unseen=self.harness.network_unseen,
        )

    def apply(self, profile: Profile | str, *, params: Mapping[str, Any] | None = None) -> Profile:
        """Apply a fault profile: a built-in name, a YAML path, or a loaded ``Profile``.

        Names are looked up in the ``chaos_profile_dir`` fixture's folder, then
        ``chaos_profiles_dirs``, then the built-in profiles.

        :param params: values for the profile's ``parameters``.
        :returns: the loaded profile.
        """
        loaded = self.harness.apply(
            profile, dirs=self._dirs, params={**self._params, **(params or {})} or None
        )
        self._profiles.append(loaded)
        return loaded

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault, with the keys a profile fault has.

        ``chaos.inject("anthropic", error="overloaded", first=3)`` fails the first
        three matching requests with 529. Returns the ``chaos.faults.Fault``.
        """
        return self.harness.inject(target, **fault)

    def reply(self, target: str, **reply: Any) -> Reply:
        """Script what ``target``'s fake answers (until the test ends).

        ``chaos.reply("anthropic", json={"label": "bug"}, match={"contains": "crash"})``;
        keys: ``text``, ``json``, ``tool_call``, ``tool_calls``, ``stop_reason``, ``usage``,
        ``match``, ``times`` / ``once``, ``name`` (see docs/replies.md). Returns the reply.
        """
        return self.harness.reply(target, **reply)

    def cassette(
        self, target: str, path: Any, *, record: bool = False, upstream: str | None = None
    ) -> None:
        """Replay ``target``'s answers from a cassette file (until the test ends); with
        ``record``, record what ``upstream`` answers into it (see ``Harness.use_cassette``)."""
        self.harness.use_cassette(target, path, record=record, upstream=upstream)

    def assert_noticed_content_faults(self, answers: Sequence[str]) -> None:
        """Fail if the app passed a truncated, empty, refused or malformed answer on as
        complete: ``answers`` are what the app returned (see
        ``Harness.assert_noticed_content_faults``)."""
        self.harness.assert_noticed_content_faults(answers)

    @contextmanager
    def fault(self, target: str, **fault: Any) -> Iterator[Fault]:
        """A fault for the duration of a ``with`` block (same keys as :meth:`inject`)."""
        with self.harness.fault(target, **fault) as spec:
            yield spec

    def clear(self) -> None:
        """Remove every fault (HTTP rules and network toxics); the journal stays."""
        self.harness.clear()

    def fired(self) -> dict[str, int]:
        """Every declared fault name -> how many times it fired so far."""
        return dict(self.harness.fired())
