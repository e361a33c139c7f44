"""The timeline SVG: valid XML, one lane per target, phases shaded and named, faults marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chaos.report import PhaseSpan, phases_from_records, timeline_svg
from tests.report._sample import rec, storm_journal

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    return root


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def title_of(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def test_one_lane_per_target_in_the_given_order_and_every_request_drawn():
    records = storm_journal()
    root = parse(timeline_svg(records, targets=["openai", "anthropic", "gemini"]))
    lanes = [g.get("data-target") for g in groups(root, "lane")]
    assert lanes == ["openai", "anthropic", "gemini"]
    lane_text = {g.get("data-target"): "".join(g.itertext()) for g in groups(root, "lane")}
    assert "gemini" in lane_text["gemini"]  # a declared target with no request keeps its lane
    requests = groups(root, "request")
    assert sorted(int(g.get("data-seq")) for g in requests) == [r.seq for r in records]
    per_lane = {
        g.get("data-target"): len([c for c in g if c.get("class") == "request"])
        for g in groups(root, "lane")
    }
    assert per_lane == {"openai": 1, "anthropic": 8, "gemini": 0}


def test_marks_are_coloured_by_outcome_class():
    root = parse(timeline_svg(storm_journal()))
    outcome = {int(g.get("data-seq")): g.get("data-outcome") for g in groups(root, "request")}
    assert outcome == {
        0: "ok",
        1: "http_5xx",
        2: "http_5xx",
        3: "http_5xx",
        4: "ok",
        5: "stream",
        6: "ok",
        7: "http_5xx",
        8: "wire",
    }
    fills = {
        g.get("data-outcome"): g.find(f"{SVG}rect").get("fill") for g in groups(root, "request")
    }
    assert len(set(fills.values())) == 4  # ok, 5xx, stream and wire each their own colour


def test_faulted_requests_carry_a_marker_and_their_rule_on_hover():
    root = parse(timeline_svg(storm_journal()))
    by_seq = {int(g.get("data-seq")): g for g in groups(root, "request")}
    faulted = [seq for seq, g in by_seq.items() if g.find(f"{SVG}path[@class='fault']") is not None]
    assert faulted == [1, 2, 3, 5, 7, 8]
    tip = title_of(by_seq[2])
    assert "fault methods-failing/0-error: error:overloaded in phase methods-failing" in tip
    assert "HTTP 529" in tip
    assert "SDK retry 1" in tip
    assert "fault" not in title_of(by_seq[4])


def test_phases_are_shaded_with_their_names_in_order():
    spans = [PhaseSpan("elevated-errors", 0.0), ("methods-failing", 0.25), ("recovered", 3.4, 3.9)]
    root = parse(timeline_svg(storm_journal(), phases=spans))
    phases = groups(root, "phase")
    assert [g.get("data-phase") for g in phases] == [
        "elevated-errors",
        "methods-failing",
        "recovered",
    ]
    assert "methods-failing" in "".join(phases[1].itertext())
    widths = [float(g.find(f"{SVG}rect").get("width")) for g in phases]
    assert widths[1] > widths[0] > 0  # 0.25 s vs 3.15 s of the axis
    assert title_of(phases[2]).startswith("phase recovered: 3.40s - 3.90s")


def test_without_phases_they_come_from_the_journal():
    records = storm_journal()
    assert [(p.name, round(p.start, 2)) for p in phases_from_records(records, records[0].time)] == [
        ("methods-failing", 0.3),
        ("truncated", 2.4),
        ("elevated-errors", 3.5),
    ]
    root = parse(timeline_svg(records))
    assert [g.get("data-phase") for g in groups(root, "phase")] == [
        "methods-failing",
        "truncated",
        "elevated-errors",
    ]


def test_axis_in_seconds_covers_the_whole_run_and_the_legend_names_every_class():
    root = parse(timeline_svg(storm_journal()))
    axis = "".join(groups(root, "axis")[0].itertext())
    assert "0s" in axis
    assert "4s" in axis
    assert "seconds" in axis
    legend = "".join(groups(root, "legend")[0].itertext())
    for label in ("ok", "HTTP 4xx", "HTTP 429", "HTTP 5xx", "wire fault", "stream fault", "fault"):
        assert label in legend


def test_text_is_escaped_and_the_output_is_deterministic():
    records = [
        rec(0, 0, 'evil<&>"target'),
        rec(1, 0.5, "b", status=429, outcome="fault", rule="r<1>", action="error:rate_limited"),
    ]
    svg = timeline_svg(records, title="a & b <c>", phases=[("p&q", 0)])
    root = parse(svg)
    assert title_of(root) == "a & b <c>"
    assert [g.get("data-target") for g in groups(root, "lane")] == ['evil<&>"target', "b"]
    assert svg == timeline_svg(list(reversed(records)), title="a & b <c>", phases=[("p&q", 0)])


def test_an_empty_journal_is_still_a_valid_picture():
    root = parse(timeline_svg([], targets=["anthropic"]))
    assert [g.get("data-target") for g in groups(root, "lane")] == ["anthropic"]
    assert groups(root, "request") == []
    assert "0 requests" in "".join(root.itertext())


def test_overlapping_requests_are_stacked_not_drawn_over_each_other():
    records = [rec(i, 0.01 * i, "anthropic", duration=1.0, fp=f"f{i}") for i in range(3)]
    root = parse(timeline_svg(records))
    ys = sorted(float(g.find(f"{SVG}rect").get("y")) for g in groups(root, "request"))
    assert len(set(ys)) == 3


def test_the_caption_counts_in_correct_plurals_and_a_tiny_run_gets_distinct_ticks():
    root = parse(timeline_svg([rec(0, 0, "anthropic", duration=0.0004)]))
    caption = [t.text for t in root.iter(f"{SVG}text")][1]
    assert caption.startswith("1 request in 1 call; 0 hit by a fault; 0 failed over")
    assert "users got 1 answer" in caption
    (axis,) = groups(root, "axis")
    ticks = [t.text for t in axis.iter(f"{SVG}text")][:-1]
    assert len(set(ticks)) == len(ticks) > 2
    assert ticks[-1].endswith("µs")


def test_an_arrow_links_the_failed_attempt_to_the_failover_that_answered_its_call():
    records = storm_journal()
    root = parse(timeline_svg(records))
    (link,) = groups(root, "failover-link")
    # call 2: three 529s from Claude (the SDK's retries), then OpenAI answered
    assert (link.get("data-from"), link.get("data-to")) == ("3", "4")
    assert "failover from anthropic (529 overloaded) to openai" in title_of(link)
    path = link.find(f"{SVG}path")
    assert path.get("marker-end") == "url(#arrow)"
    legend = "".join(groups(root, "legend")[0].itertext())
    assert "failover of a call" in legend


def test_the_users_lane_marks_each_call_answered_or_not_and_takes_what_the_app_knows():
    from chaos.report import UserOutcome
    from chaos.verdict import Verdict

    records = storm_journal()
    calls = Verdict(records).calls
    root = parse(timeline_svg(records))
    saw = [g.get("data-saw") for g in groups(root, "user-outcome")]
    assert len(saw) == len(calls)
    assert saw.count("unanswered") == sum(not c.succeeded for c in calls) > 0
    told = [UserOutcome(0.5, "answered"), UserOutcome(1.0, "degraded"), UserOutcome(2.0, "error")]
    root = parse(timeline_svg(records, outcomes=told))
    assert [g.get("data-saw") for g in groups(root, "user-outcome")] == [
        "answered",
        "degraded",
        "error",
    ]
    text = [t.text for t in root.iter(f"{SVG}text")]
    assert "users got 1 answer, 1 degraded, 1 error" in text[1]
    assert {"degraded answer", "error shown to the user"} <= set(text)


def test_a_network_fault_is_drawn_on_its_target_even_with_no_request_there():
    from chaos.report import NetworkSpan

    records = [rec(0, 0.1, "openai"), rec(1, 0.4, "openai", fp="fp-q2")]
    root = parse(timeline_svg(records, network=[NetworkSpan("anthropic", "network down", 0.0)]))
    assert [g.get("data-target") for g in groups(root, "lane")] == ["openai", "anthropic"]
    (band,) = groups(root, "network-fault")
    assert band.get("data-target") == "anthropic"
    assert "network down" in "".join(band.itertext())
    assert "network fault" in "".join(groups(root, "legend")[0].itertext())


def test_every_phase_is_named_in_full_in_the_legend_however_narrow():
    spans = [("overload-waves.1", 0.0), ("overload-waves.2", 0.05), ("overload-waves.3", 0.1)]
    root = parse(timeline_svg(storm_journal(), phases=spans))
    named = [t.text for g in groups(root, "phase-name") for t in g.iter(f"{SVG}text")]
    assert named == ["1 overload-waves.1", "2 overload-waves.2", "3 overload-waves.3"]
    on_chart = [g.find(f"{SVG}text").text for g in groups(root, "phase")]
    assert on_chart[:2] == ["1", "2"]  # too narrow for the name: its number, as in the legend
