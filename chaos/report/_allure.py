"""The Allure adapter: per chaos test, the profile, journal, timeline, labels and parameters.

Active only when allure-pytest writes results (``--alluredir`` given, so its
``allure_listener`` plugin is registered); install it with
``pip install pytest-llm-chaos[allure]``. ``allure`` is imported only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from chaos.common._journal import JournalRecord
from chaos.report._base import Reporter
from chaos.report._bundle import RunReport
from chaos.report._context import applied_profile
from chaos.verdict import Verdict

__all__ = ["ATTACHMENTS", "AllureReporter", "allure_active"]

ATTACHMENTS = {
    "profile": "chaos profile",
    "journal": "chaos journal",
    "timeline": "chaos timeline",
    "verdict": "chaos verdict",
}
"""The attachment names, by what they hold."""


def allure_active(config: Any) -> bool:
    """Whether allure-pytest is loaded and writing results in this session."""
    return bool(config.pluginmanager.hasplugin("allure_listener"))


class AllureReporter(Reporter):
    """Attaches what a chaos test did to its Allure result.

    Per test that used the harness: the profile (YAML), the journal (JSON,
    secrets redacted), the timeline (SVG), the verdict's account of the calls
    (text); labels ``chaos_profile`` and ``chaos_target`` (one per target);
    parameters ``chaos seed`` and ``chaos backend`` (excluded from Allure's
    history id, so a new seed does not make a new test history).
    """

    def on_test_end(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """Attach the test's chaos evidence and set its labels and parameters."""
        import allure

        dynamic: Any = allure.dynamic  # allure-python's API is untyped
        records: Sequence[JournalRecord] = harness.journal
        profile = _profile_of(item, harness)
        if profile is not None:
            name, text = profile
            dynamic.label("chaos_profile", name)
            allure.attach(
                text, name=ATTACHMENTS["profile"], attachment_type=allure.attachment_type.YAML
            )
        for target in _targets_of(harness, records):
            dynamic.label("chaos_target", target)
        dynamic.parameter("chaos seed", str(harness.seed), excluded=True)
        backend = getattr(harness, "backend", None)
        if backend is not None:
            dynamic.parameter(
                "chaos backend", str(getattr(backend, "name", backend)), excluded=True
            )
        run = RunReport(
            item.nodeid,
            records,
            profile=applied_profile(item, harness),
            verdict=verdict if isinstance(verdict, Verdict) else None,
            targets=_targets_of(harness, records),
        )
        allure.attach(
            run.journal_json(),
            name=ATTACHMENTS["journal"],
            attachment_type=allure.attachment_type.JSON,
        )
        allure.attach(
            run.timeline_svg(),
            name=ATTACHMENTS["timeline"],
            attachment_type=allure.attachment_type.SVG,
        )
        describe = getattr(verdict, "describe", None)
        if callable(describe):
            allure.attach(
                str(describe()),
                name=ATTACHMENTS["verdict"],
                attachment_type=allure.attachment_type.TEXT,
            )


def _targets_of(harness: Any, records: Sequence[JournalRecord]) -> list[str]:
    endpoints = getattr(harness, "endpoints", None) or {}
    names = list(endpoints)
    names += [r.target for r in records if r.target not in names]
    return list(dict.fromkeys(names))


def _profile_of(item: Any, harness: Any) -> tuple[str, str] | None:
    """The applied profile's name and YAML text."""
    profile = applied_profile(item, harness)
    if profile is None:
        return None
    if isinstance(profile, str):
        name = profile
        try:
            from chaos.profiles import load_profile

            profile = load_profile(name)
        except Exception:  # attached for context only: the harness reports bad profiles
            return name, yaml.safe_dump({"name": name}, sort_keys=False)
    return _profile_text(profile)


def _profile_text(profile: Any) -> tuple[str, str]:
    """A loaded profile as YAML: its file as written when it has one."""
    name = str(getattr(profile, "name", "profile"))
    path = getattr(profile, "path", None)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                return name, handle.read()
        except OSError:
            pass
    to_dict = getattr(profile, "to_dict", None)
    data = to_dict() if callable(to_dict) else {"name": name}
    return name, yaml.safe_dump(data, sort_keys=False)
