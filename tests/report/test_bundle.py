"""One report bundle: a run's journal, timeline and coverage, written the same way for the
plugin, the gate and the demo (their own files are checked in tests/gate and tests/demo)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from chaos.profiles import load_profile
from chaos.report import CoverageReport, ReportBundle, RunReport, journal_json
from tests.report._sample import storm_journal
from tests.report._svg import visible_text
from tests.report.test_context import WALL


def test_each_run_gets_a_journal_and_a_timeline_and_the_coverage_covers_every_run(tmp_path):
    out = tmp_path / "out"
    bundle = ReportBundle(out, meta={"command": "app"})
    first = bundle.add(RunReport("one/profile", storm_journal(), title="first run"))
    second = bundle.add(RunReport("two", storm_journal()[:3]))
    bundle.write_coverage()
    bundle.write_text("extra.md", "# mine\n")
    assert first == {
        "journal": out / "journal-one_profile.json",
        "timeline": out / "timeline-one_profile.svg",
    }
    assert bundle.written == [
        *first.values(),
        *second.values(),
        out / "coverage.json",
        out / "coverage.md",
        out / "extra.md",
    ]
    assert first["journal"].read_text() == journal_json(storm_journal())
    assert "first run" in " ".join(visible_text(ET.parse(first["timeline"]).getroot()))
    report = CoverageReport.from_json((out / "coverage.json").read_text())
    assert report.meta == {"command": "app"}
    assert {test for row in report.rows for test in row.tests} == {"one/profile", "two"}


def test_faults_and_phases_default_to_the_profiles(tmp_path):
    path = tmp_path / "wall.yaml"
    path.write_text(WALL)
    run = RunReport("r", storm_journal(), profile=load_profile(str(path)), fired={})
    rows = run.coverage().rows
    assert [(r.outcome, r.rules) for r in rows if r.outcome == "not_fired"] == [
        ("not_fired", ("storm/0-error",))
    ]
    svg = " ".join(visible_text(ET.fromstring(run.timeline_svg())))
    assert "storm" in svg
    assert "recovered" in svg  # drawn from the profile: no request names that phase


def test_a_bundle_without_journals_and_a_run_without_files(tmp_path):
    bundle = ReportBundle(tmp_path, timeline_name="timelines/{stem}.svg", journal_name=None)
    assert bundle.add(RunReport("t::a", storm_journal())) == {
        "timeline": tmp_path / "timelines" / "t_a.svg"
    }
    assert bundle.add(RunReport("t::quiet", []), files=False) == {}
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "timelines",
        "timelines/t_a.svg",
    ]
    tests = json.loads(bundle.coverage.to_json())["rows"]
    assert {t for row in tests for t in row["tests"]} == {"t::a"}
