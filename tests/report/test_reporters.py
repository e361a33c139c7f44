"""Reporters observe: the registry fans out, and a failing reporter only logs a warning."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest

from chaos.report import CoverageReport, FileReporter, Reporter, ReporterRegistry, make_reporter
from chaos.report._files import _slug
from tests.report._sample import storm_journal


class Recorder(Reporter):
    def __init__(self):
        self.calls = []

    def on_test_end(self, item, harness, verdict=None):
        self.calls.append(("end", item))


class Broken(Reporter):
    def on_test_end(self, item, harness, verdict=None):
        raise RuntimeError("disk full")


def test_the_base_reporter_does_nothing():
    base = Reporter()
    assert base.on_session_start(None) is None
    assert base.on_test_start("item", "harness") is None
    assert base.on_test_end("item", "harness", "verdict") is None
    assert base.on_session_end(None) is None


def test_a_failing_reporter_is_logged_at_warning_and_the_others_still_run(caplog):
    first, last = Recorder(), Recorder()
    registry = ReporterRegistry([first, Broken(), last])
    with caplog.at_level(logging.WARNING, logger="chaos.report"):
        registry.on_test_end("t::x", object())
    assert first.calls == [("end", "t::x")]
    assert last.calls == [("end", "t::x")]
    [record] = caplog.records
    assert record.levelname == "WARNING"
    assert "chaos reporter Broken failed in on_test_end" in record.getMessage()
    assert "disk full" in caplog.text  # the traceback is kept for whoever reads the log


def test_make_reporter_without_allure_or_report_path_does_nothing(pytestconfig, tmp_path):
    assert make_reporter(pytestconfig).reporters == []
    [writer] = make_reporter(pytestconfig, path=tmp_path).reporters
    assert isinstance(writer, FileReporter)


def harness(records):
    return SimpleNamespace(
        journal=records,
        fired=lambda: {"methods-failing/0-error": 3, "never": 0},
        endpoints={"anthropic": "http://127.0.0.1:1", "openai": "http://127.0.0.1:2"},
    )


def test_the_file_reporter_writes_coverage_and_one_timeline_per_test(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    out = tmp_path / "report"
    writer = FileReporter(out)
    writer.on_test_end(
        SimpleNamespace(nodeid="tests/test_app.py::test_outage[p=x]"), harness(storm_journal())
    )
    writer.on_test_end(SimpleNamespace(nodeid="tests/test_app.py::test_quiet"), harness([]))
    writer.on_session_end(None)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "coverage.json",
        "coverage.md",
        "timelines/tests_test_app.py_test_outage_p=x.svg",
    ]
    ET.parse(out / "timelines" / "tests_test_app.py_test_outage_p=x.svg")
    md = (out / "coverage.md").read_text()
    assert "| `error:overloaded` | anthropic | messages.create | no |" in md
    assert "`never`" in md


def test_xdist_workers_each_add_their_part_and_the_last_one_writes_the_whole_run(
    tmp_path, monkeypatch
):
    out = tmp_path / "report"
    (out / "parts" / "old-run").mkdir(parents=True)
    (out / "parts" / "old-run" / "gw0.json").write_text("{}")  # an earlier run's leftovers
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "abc123")
    for worker, expected in (("gw0", 1), ("gw1", 2)):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        writer = FileReporter(out)
        writer.add(storm_journal(), name=f"t::{worker}")
        writer.write()
        report = CoverageReport.from_json((out / "coverage.json").read_text())
        assert report.totals() == {
            "app_retry": expected,
            "failover": 3 * expected,
            "failed": 2 * expected,
        }
    assert sorted(p.name for p in (out / "parts").rglob("*.json")) == ["gw0.json", "gw1.json"]
    assert not (out / "parts" / "old-run").exists()
    assert "t::gw0" in (out / "coverage.json").read_text()


@pytest.mark.parametrize(
    ("name", "slug"),
    [("a/b.py::c[x-y]", "a_b.py_c_x-y"), ("../../etc/passwd", "etc_passwd"), ("", "run")],
)
def test_file_names_stay_inside_the_report_directory(name, slug):
    assert _slug(name) == slug
