"""The timeline picture: requests over time, one lane per target, as a self-contained SVG.

No plotting library: the SVG is written by hand, so it renders the same in a
browser, in Allure and in a CI artifact viewer. The picture tells its story
without hovering: phases are numbered on the chart and named in full in a
legend, an arrow links each failed attempt to the attempt that took its call
elsewhere (the failover), a last lane shows what the users got for each call
(answered, degraded, error), and network faults are drawn as hatched bands on
the lane of the target they hit. Every mark also carries a ``<title>`` (shown
on hover) with what the journal recorded about the request.

Calls are grouped by :class:`chaos.verdict.Verdict`, the same model the
assertions and the coverage report read, so the picture and the numbers agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from chaos.common._journal import JournalRecord
from chaos.report._classes import CLASS_LABELS, OutcomeClass, outcome_class
from chaos.verdict import Verdict

__all__ = [
    "NetworkSpan",
    "PhaseSpan",
    "UserOutcome",
    "UserSaw",
    "phases_from_records",
    "timeline_svg",
]

_XScale = Callable[[float], float]

UserSaw = Literal["answered", "degraded", "error", "unanswered"]
"""What a user got for one call: a provider's answer, the app's degraded answer, an
error; ``unanswered`` when only the journal is known (no provider answered, so the
app degraded or errored: the journal cannot tell which)."""

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
_COLOURS: dict[OutcomeClass, str] = {
    "ok": "#009E73",
    "http_4xx": "#E69F00",
    "http_429": "#F0E442",
    "http_5xx": "#D55E00",
    "wire": "#CC79A7",
    "stream": "#0072B2",
}
_SAW_LABELS: dict[UserSaw, str] = {
    "answered": "answered",
    "degraded": "degraded answer",
    "error": "error shown to the user",
    "unanswered": "no provider answered",
}
_SAW_COLOURS: dict[UserSaw, str] = {
    "answered": "#009E73",
    "degraded": "#E69F00",
    "error": "#C00000",
    "unanswered": "#C00000",
}
_PHASE_FILLS = ("#eef3fb", "#fbf1e6", "#eef8f0", "#f6eef8", "#fbf8e3", "#eaf6f8")
_FAULT_MARK = "#7a0d0d"
_LINK = "#1b1f24"

_WIDTH = 960
_LEFT = 130  # room for the target names
_RIGHT = 24
_TOP = 80  # title, caption, phase numbers
_LANE = 46
_USER_LANE = 34
_MAX_ROWS = 4  # overlapping requests in one lane are stacked in up to this many rows
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"
_USERS = "users got"


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """A named stretch of the timeline, in seconds from the timeline's origin.

    :param name: the phase name shown above the lanes.
    :param start: where it starts.
    :param end: where it ends; None means where the next phase starts, or the end.
    """

    name: str
    start: float
    end: float | None = None


@dataclass(frozen=True, slots=True)
class NetworkSpan:
    """A network fault (a Toxiproxy toxic) active on one target, in seconds from the origin.

    Network faults act below HTTP, so the requests they stop may never reach the
    journal: the band on the target's lane is what shows the target was hit.

    :param target: the target whose traffic the fault hit.
    :param label: what it did, e.g. ``network: down``.
    :param start: where it starts.
    :param end: where it ends; None means to the end of the axis.
    """

    target: str
    label: str
    start: float
    end: float | None = None


@dataclass(frozen=True, slots=True)
class UserOutcome:
    """What the user got for one call, and when (seconds from the origin).

    :param at: when the user got it.
    :param saw: answered, degraded, error or unanswered (see :data:`UserSaw`).
    :param label: details for the hover text (the question, the error).
    :param start: when the call started, if known (drawn as a thin bar to ``at``).
    """

    at: float
    saw: UserSaw
    label: str = ""
    start: float | None = None


def phases_from_records(records: Sequence[JournalRecord], origin: float) -> list[PhaseSpan]:
    """Phases as the journal shows them: each from the first request a rule of it hit.

    The journal names a phase only on requests a fault hit, so this is a lower
    bound of the real phase; pass the profile's phases when you have them.
    """
    spans: list[PhaseSpan] = []
    for record in sorted(records, key=lambda r: r.time):
        if record.phase is None or (spans and spans[-1].name == record.phase):
            continue
        spans.append(PhaseSpan(record.phase, max(0.0, record.time - origin)))
    return spans


def timeline_svg(
    records: Sequence[JournalRecord],
    *,
    phases: Sequence[PhaseSpan | tuple[str, float] | tuple[str, float, float]] | None = None,
    title: str = "LLM chaos timeline",
    targets: Sequence[str] | None = None,
    origin: float | None = None,
    verdict: Verdict | None = None,
    outcomes: Sequence[UserOutcome] | None = None,
    network: Sequence[NetworkSpan] = (),
) -> str:
    """Draw ``records`` as an SVG document: one lane per target, one mark per request.

    Marks are coloured by outcome (ok, HTTP 4xx/429/5xx, wire fault, stream
    fault) and are as wide as the request lasted; a request a fault rule hit
    has a dark triangle above it. An arrow goes from each failed attempt to the
    failover attempt of the same call. Phases are shaded behind the lanes,
    numbered on top and named in full in the legend. A last lane shows what the
    users got per call; hatched bands show network faults on their target.

    :param records: the journal, in any order.
    :param phases: phase spans in seconds from ``origin``; tuples ``(name, start)``
        or ``(name, start, end)`` work too. Default: derived from the records
        (see :func:`phases_from_records`).
    :param title: the heading.
    :param targets: lane order; default: targets in order of their first request.
        Targets named here with no request still get a (empty) lane.
    :param origin: wall-clock time (epoch seconds) of 0 s on the axis; default:
        the first request's start.
    :param verdict: the :class:`~chaos.verdict.Verdict` over ``records`` (built
        from them when not given): its calls give the failover links and the
        default ``outcomes``.
    :param outcomes: what the users got, when the caller knows (the demo does);
        default: per verdict call, ``answered`` if it succeeded, else ``unanswered``.
    :param network: network faults to draw on their targets' lanes (a target
        named here gets a lane even without requests).
    :return: the SVG document as text (UTF-8, no external references).
    """
    ordered = sorted(records, key=lambda r: (r.time, r.seq))
    lanes = _lane_order(ordered, targets)
    for hit in network:
        if hit.target not in lanes:
            lanes.append(hit.target)
    t0 = origin if origin is not None else (ordered[0].time if ordered else 0.0)
    verdict = verdict if verdict is not None else Verdict(records)
    saw = list(outcomes) if outcomes is not None else _outcomes_of(verdict, t0)
    spans = (
        [_as_span(p) for p in phases] if phases is not None else phases_from_records(ordered, t0)
    )
    end = max(
        [r.time - t0 + r.duration for r in ordered]
        + [s.end if s.end is not None else s.start for s in spans]
        + [n.end if n.end is not None else n.start for n in network]
        + [o.at for o in saw]
        + [0.0]
    )
    ticks, axis_end, unit = _ticks(end)
    plot_w = _WIDTH - _LEFT - _RIGHT

    def x(seconds: float) -> float:
        return _LEFT + plot_w * max(0.0, seconds) / axis_end

    rows = {lane: _pack_rows([r for r in ordered if r.target == lane], t0, x) for lane in lanes}
    lanes_h = _LANE * max(1, len(lanes))
    user_top = _TOP + lanes_h
    axis_y = user_top + _USER_LANE
    phase_legend = _phase_legend(spans, axis_y + 56)
    legend_y = axis_y + 56 + 18 * len(phase_legend[1])
    height = legend_y + 44
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" style="{_FONT}">',
        f"<title>{escape(title)}</title>",
        "<defs>"
        '<pattern id="net-hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="#f3d6d6"/>'
        f'<line x1="0" y1="0" x2="0" y2="8" stroke="{_FAULT_MARK}" stroke-width="3"/>'
        "</pattern>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" '
        f'markerHeight="5" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_LINK}"/></marker>'
        "</defs>",
        f'<rect width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="24" font-size="16" font-weight="600" fill="#1b1f24">'
        f"{escape(_fit(title, _WIDTH - _LEFT - _RIGHT, per_char=10))}</text>",
        f'<text x="{_LEFT}" y="42" font-size="12" fill="#57606a">'
        f"{escape(_caption(ordered, verdict, saw, network))}</text>",
    ]
    out.append('<g class="phases">')
    for index, span in enumerate(spans):
        stop = span.end if span.end is not None else _next_start(spans, index, axis_end)
        x1, x2 = x(span.start), x(min(stop, axis_end))
        fill = _PHASE_FILLS[index % len(_PHASE_FILLS)]
        number = str(index + 1)
        label = f"{number} {span.name}"
        shown = label if len(label) * 7 <= x2 - x1 - 6 else number
        out.append(
            f'<g class="phase" data-phase={quoteattr(span.name)}>'
            f"<title>phase {escape(span.name)}: {span.start:.2f}s - {stop:.2f}s</title>"
            f'<rect x="{x1:.1f}" y="{_TOP - 22}" width="{max(1.0, x2 - x1):.1f}" '
            f'height="{lanes_h + _USER_LANE + 22}" fill="{fill}"/>'
            f'<line x1="{x1:.1f}" y1="{_TOP - 22}" x2="{x1:.1f}" y2="{axis_y}" '
            f'stroke="#8c959f" stroke-dasharray="3,3"/>'
            f'<text x="{x1 + 4:.1f}" y="{_TOP - 8}" font-size="11" font-weight="600" '
            f'fill="#424a53">{escape(shown)}</text></g>'
        )
    out.append("</g>")
    lane_top = {lane: _TOP + i * _LANE for i, lane in enumerate(lanes)}
    out.extend(_network(network, lane_top, axis_end, x))
    out.append('<g class="lanes">')
    centres: dict[int, tuple[float, float, float]] = {}
    for lane in lanes:
        top = lane_top[lane]
        out.append(
            f'<g class="lane" data-target={quoteattr(lane)}>'
            f'<line x1="{_LEFT}" y1="{top + _LANE:.1f}" x2="{_WIDTH - _RIGHT}" '
            f'y2="{top + _LANE:.1f}" stroke="#d0d7de"/>'
            f'<text x="{_LEFT - 10}" y="{top + _LANE / 2 + 4:.1f}" font-size="13" '
            f'font-weight="600" fill="#1b1f24" text-anchor="end">{escape(_fit(lane, _LEFT - 14))}'
            "</text>"
        )
        out.extend(_marks(rows[lane], top, t0, x, centres))
        out.append("</g>")
    out.append("</g>")
    out.extend(_links(verdict, centres))
    out.extend(_user_lane(saw, user_top, x))
    out.extend(_axis(ticks, unit, axis_y, x, origin is None))
    out.extend(phase_legend[0])
    out.extend(_legend(legend_y, saw, bool(network)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _as_span(phase: PhaseSpan | tuple[str, float] | tuple[str, float, float]) -> PhaseSpan:
    if isinstance(phase, PhaseSpan):
        return phase
    return PhaseSpan(*phase)


def _lane_order(records: Sequence[JournalRecord], targets: Sequence[str] | None) -> list[str]:
    lanes = list(targets or ())
    for record in records:
        if record.target not in lanes:
            lanes.append(record.target)
    return lanes


def _next_start(spans: Sequence[PhaseSpan], index: int, default: float) -> float:
    return spans[index + 1].start if index + 1 < len(spans) else default


def _outcomes_of(verdict: Verdict, t0: float) -> list[UserOutcome]:
    """Per verdict call: answered (its last attempt succeeded) or unanswered."""
    out = []
    for call in verdict.calls:
        last = call.attempts[-1]
        saw: UserSaw = "answered" if call.succeeded else "unanswered"
        out.append(
            UserOutcome(
                last.end - t0,
                saw,
                f"call {call.index}: {call.resolution()} ({len(call.attempts)} "
                f"{_plural(len(call.attempts), 'attempt')})",
                call.start - t0,
            )
        )
    return out


def _ticks(end: float) -> tuple[list[float], float, tuple[str, float]]:
    """Round tick positions (1, 2 or 5 times a power of ten), the axis end and the
    unit the labels are written in (``s``, ``ms`` or ``µs``, with its factor)."""
    end = max(end, 1e-6)
    raw = end / 8
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    count = math.ceil(end / step - 1e-9)
    axis_end = count * step
    unit = ("s", 1.0) if axis_end >= 2 else ("ms", 1e3) if axis_end >= 0.002 else ("µs", 1e6)
    return [i * step for i in range(count + 1)], axis_end, unit


def _pack_rows(
    records: Sequence[JournalRecord], t0: float, x: _XScale
) -> list[tuple[int, int, JournalRecord]]:
    """Give overlapping requests their own row: (row, rows in the lane, record)."""
    row_ends: list[float] = []
    placed: list[tuple[int, JournalRecord]] = []
    for record in records:
        left = x(record.time - t0)
        right = max(left + 3, x(record.time - t0 + record.duration)) + 1
        for row, row_end in enumerate(row_ends):
            if row_end <= left:
                row_ends[row] = right
                break
        else:
            row = min(len(row_ends), _MAX_ROWS - 1)
            if row == len(row_ends):
                row_ends.append(right)
            else:
                row_ends[row] = max(row_ends[row], right)
        placed.append((row, record))
    count = max(1, len(row_ends))
    return [(row, count, record) for row, record in placed]


def _marks(
    placed: Sequence[tuple[int, int, JournalRecord]],
    top: float,
    t0: float,
    x: _XScale,
    centres: dict[int, tuple[float, float, float]],
) -> list[str]:
    """The request marks of one lane; records each mark's (left, right, middle y) by seq."""
    out: list[str] = []
    inner = _LANE - 18  # leave room above for fault triangles
    for row, count, record in placed:
        row_h = inner / count
        left = x(record.time - t0)
        width = max(3.0, x(record.time - t0 + record.duration) - left)
        y = top + 12 + row * row_h
        centres[record.seq] = (left, left + width, y + row_h / 2)
        cls = outcome_class(record)
        tip = escape(_tooltip(record, t0))
        out.append(
            f'<g class="request" data-seq="{record.seq}" data-outcome="{cls}">'
            f"<title>{tip}</title>"
            f'<rect x="{left:.1f}" y="{y + 1:.1f}" width="{width:.1f}" '
            f'height="{max(2.0, row_h - 2):.1f}" rx="1.5" fill="{_COLOURS[cls]}" '
            f'stroke="#1b1f24" stroke-opacity="0.25"/>'
        )
        if record.rule is not None:
            out.append(
                f'<path class="fault" d="M{left - 4:.1f},{top + 3:.1f} h8 l-4,7 z" '
                f'fill="{_FAULT_MARK}"/>'
            )
        out.append("</g>")
    return out


def _links(verdict: Verdict, centres: dict[int, tuple[float, float, float]]) -> list[str]:
    """An arrow from each failed attempt to the failover attempt that followed it."""
    out = ['<g class="links">']
    for call in verdict.calls:
        for prev, attempt in zip(call.attempts, call.attempts[1:], strict=False):
            if attempt.attribution != "failover":
                continue
            a, b = centres.get(prev.record.seq), centres.get(attempt.record.seq)
            if a is None or b is None:
                continue
            x1, y1 = a[1], a[2]
            x2, y2 = b[0], b[2]
            bend = max(12.0, abs(x2 - x1) / 2)
            out.append(
                f'<g class="failover-link" data-call="{call.index}" '
                f'data-from="{prev.record.seq}" data-to="{attempt.record.seq}">'
                f"<title>call {call.index}: failover from {escape(prev.target)} "
                f"({escape(prev.outcome_text())}) to {escape(attempt.target)}</title>"
                f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
                f'{x2:.1f},{y2:.1f}" fill="none" stroke="{_LINK}" stroke-width="1.4" '
                'marker-end="url(#arrow)"/></g>'
            )
    out.append("</g>")
    return out


def _network(
    spans: Sequence[NetworkSpan], lane_top: Mapping[str, float], axis_end: float, x: _XScale
) -> list[str]:
    out = ['<g class="network-faults">']
    for span in spans:
        top = lane_top[span.target]
        stop = axis_end if span.end is None else min(span.end, axis_end)
        x1, x2 = x(span.start), x(stop)
        out.append(
            f'<g class="network-fault" data-target={quoteattr(span.target)}>'
            f"<title>{escape(span.label)} on {escape(span.target)}: "
            f"{span.start:.2f}s - {stop:.2f}s</title>"
            f'<rect x="{x1:.1f}" y="{top + 6:.1f}" width="{max(2.0, x2 - x1):.1f}" '
            f'height="{_LANE - 12}" fill="url(#net-hatch)" fill-opacity="0.55" '
            f'stroke="{_FAULT_MARK}"/>'
            f'<text x="{x1 + 6:.1f}" y="{top + _LANE / 2 + 4:.1f}" font-size="12" '
            f'font-weight="600" fill="{_FAULT_MARK}" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{escape(_fit(span.label, x2 - x1 - 8))}</text></g>'
        )
    out.append("</g>")
    return out


def _user_lane(saw: Sequence[UserOutcome], top: float, x: _XScale) -> list[str]:
    mid = top + _USER_LANE / 2
    out = [
        f'<g class="user-lane" data-target="{_USERS}">'
        f'<rect x="{_LEFT}" y="{top:.1f}" width="{_WIDTH - _LEFT - _RIGHT}" '
        f'height="{_USER_LANE}" fill="#ffffff" fill-opacity="0.6"/>'
        f'<text x="{_LEFT - 10}" y="{mid + 4:.1f}" font-size="13" font-weight="600" '
        f'fill="#1b1f24" text-anchor="end">{_USERS}</text>'
    ]
    for outcome in sorted(saw, key=lambda o: o.at):
        px = x(outcome.at)
        colour = _SAW_COLOURS[outcome.saw]
        tip = f"{_SAW_LABELS[outcome.saw]} at +{outcome.at:.3f}s" + (
            f": {outcome.label}" if outcome.label else ""
        )
        out.append(f'<g class="user-outcome" data-saw="{outcome.saw}"><title>{escape(tip)}</title>')
        if outcome.start is not None and x(outcome.start) < px - 1:
            out.append(
                f'<line x1="{x(outcome.start):.1f}" y1="{mid:.1f}" x2="{px:.1f}" y2="{mid:.1f}" '
                f'stroke="{colour}" stroke-opacity="0.45" stroke-width="2"/>'
            )
        out.append(_saw_mark(outcome.saw, px, mid))
        out.append("</g>")
    out.append("</g>")
    return out


def _saw_mark(saw: UserSaw, px: float, y: float) -> str:
    """A shape per outcome, so that it reads without colour: ● answered, ◆ degraded, ✖ error."""
    colour = _SAW_COLOURS[saw]
    if saw == "answered":
        return f'<circle cx="{px:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'
    if saw == "degraded":
        return (
            f'<path d="M{px:.1f},{y - 6:.1f} l6,6 l-6,6 l-6,-6 z" fill="{colour}" '
            'stroke="#1b1f24" stroke-width="0.6"/>'
        )
    return (
        f'<path d="M{px - 5:.1f},{y - 5:.1f} l10,10 M{px + 5:.1f},{y - 5:.1f} l-10,10" '
        f'stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
    )


def _axis(
    ticks: Sequence[float], unit: tuple[str, float], y: float, x: _XScale, from_first: bool
) -> list[str]:
    out = [
        '<g class="axis" font-size="11" fill="#57606a">',
        f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}" stroke="#57606a"/>',
    ]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        px = x(tick)
        out.append(
            f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + 5}" stroke="#57606a"/>'
            f'<text x="{px:.1f}" y="{y + 18}" text-anchor="middle">'
            f"{_tick_label(tick, step, unit)}</text>"
        )
    since = "the first request" if from_first else "the start of the run"
    names = {"s": "seconds", "ms": "milliseconds", "µs": "microseconds"}
    out.append(
        f'<text x="{_WIDTH - _RIGHT}" y="{y + 34}" text-anchor="end">'
        f"{names[unit[0]]} since {since}</text>"
    )
    out.append("</g>")
    return out


def _tick_label(value: float, step: float, unit: tuple[str, float]) -> str:
    """``value`` in ``unit``, with as many decimals as the step needs (ticks stay distinct)."""
    name, factor = unit
    decimals = max(0, -math.floor(math.log10(step * factor) + 1e-9))
    text = f"{value * factor:.{decimals}f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + name


def _phase_legend(spans: Sequence[PhaseSpan], y: float) -> tuple[list[str], list[int]]:
    """The phases by number and full name, wrapped over as many lines as needed."""
    if not spans:
        return [], []
    out = ['<g class="phase-legend" font-size="12" fill="#1b1f24">']
    line, px = 0, float(_LEFT)
    lines = [0]
    out.append(f'<text x="{_LEFT - 10}" y="{y}" text-anchor="end" fill="#57606a">phases</text>')
    for index, span in enumerate(spans):
        label = f"{index + 1} {span.name}"
        width = 26 + 7 * len(label)
        if px + width > _WIDTH - _RIGHT and px > _LEFT:
            line, px = line + 1, float(_LEFT)
            lines.append(line)
        fill = _PHASE_FILLS[index % len(_PHASE_FILLS)]
        top = y + 18 * line
        out.append(
            f'<g class="phase-name" data-phase={quoteattr(span.name)}>'
            f'<rect x="{px:.1f}" y="{top - 10}" width="12" height="12" fill="{fill}" '
            f'stroke="#8c959f"/><text x="{px + 17:.1f}" y="{top}">{escape(label)}</text></g>'
        )
        px += width
    out.append("</g>")
    return out, lines


def _legend(y: float, saw: Sequence[UserOutcome], network: bool) -> list[str]:
    out = ['<g class="legend" font-size="12" fill="#1b1f24">']
    out.append(f'<text x="{_LEFT - 10}" y="{y}" text-anchor="end" fill="#57606a">requests</text>')
    px = float(_LEFT)
    for cls, label in CLASS_LABELS.items():
        out.append(
            f'<rect x="{px:.1f}" y="{y - 10}" width="12" height="12" rx="2" '
            f'fill="{_COLOURS[cls]}" stroke="#1b1f24" stroke-opacity="0.25"/>'
            f'<text x="{px + 17:.1f}" y="{y}">{escape(label)}</text>'
        )
        px += 28 + 7 * len(label)
    out.append(
        f'<path d="M{px:.1f},{y - 10} h10 l-5,9 z" fill="{_FAULT_MARK}"/>'
        f'<text x="{px + 15:.1f}" y="{y}">fault injected</text>'
    )
    y2 = y + 20
    out.append(f'<text x="{_LEFT - 10}" y="{y2}" text-anchor="end" fill="#57606a">marks</text>')
    px = float(_LEFT)
    out.append(
        f'<path d="M{px:.1f},{y2 - 4} h22" stroke="{_LINK}" stroke-width="1.4" '
        'marker-end="url(#arrow)"/>'
        f'<text x="{px + 28:.1f}" y="{y2}">failover of a call</text>'
    )
    px += 150
    shown = {o.saw for o in saw} | {"answered"}
    for kind in _SAW_LABELS:
        if kind not in shown:
            continue
        label = _SAW_LABELS[kind]
        out.append(_saw_mark(kind, px + 5, y2 - 4))
        out.append(f'<text x="{px + 15:.1f}" y="{y2}">{escape(label)}</text>')
        px += 30 + 7 * len(label)
    if network:
        out.append(
            f'<rect x="{px:.1f}" y="{y2 - 10}" width="18" height="12" fill="url(#net-hatch)" '
            f'stroke="{_FAULT_MARK}"/><text x="{px + 23:.1f}" y="{y2}">network fault</text>'
        )
    out.append("</g>")
    return out


def _tooltip(record: JournalRecord, t0: float) -> str:
    call = " ".join(
        part
        for part in (
            record.operation or f"{record.method} {record.path}",
            "stream" if record.stream else "",
            record.model or "",
        )
        if part
    )
    status = f"HTTP {record.status}" if record.status is not None else "no status line"
    lines = [
        f"#{record.seq} {record.target}: {call}",
        f"{status}, {record.outcome}, {record.duration * 1000:.0f} ms at +{record.time - t0:.3f}s",
    ]
    if record.retry_count:
        lines.append(f"SDK retry {record.retry_count}")
    if record.rule is not None:
        where = f" in phase {record.phase}" if record.phase else ""
        lines.append(f"fault {record.rule}: {record.action or '?'}{where}")
    return "\n".join(lines)


def _caption(
    records: Sequence[JournalRecord],
    verdict: Verdict,
    saw: Sequence[UserOutcome],
    network: Sequence[NetworkSpan],
) -> str:
    faulted = sum(1 for r in records if r.rule is not None)
    failovers = sum(
        1 for c in verdict.calls if any(a.attribution == "failover" for a in c.attempts)
    )
    parts = [
        f"{len(records)} {_plural(len(records), 'request')} in {len(verdict.calls)} "
        f"{_plural(len(verdict.calls), 'call')}",
        f"{faulted} hit by a fault",
        f"{failovers} failed over",
    ]
    hit = dict.fromkeys(f"{n.label} on {n.target}" for n in network)
    if hit:
        parts.insert(1, ", ".join(hit))
    got = {kind: sum(1 for o in saw if o.saw == kind) for kind in _SAW_LABELS}
    told: dict[UserSaw, str] = {
        "degraded": f"{got['degraded']} degraded",
        "error": f"{got['error']} {_plural(got['error'], 'error')}",
        "unanswered": f"{got['unanswered']} not answered by any provider",
    }
    if saw:
        parts.append(
            f"users got {got['answered']} {_plural(got['answered'], 'answer')}"
            + "".join(f", {text}" for kind, text in told.items() if got[kind])
        )
    return "; ".join(parts)


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _fit(text: str, width: float, *, per_char: float = 7) -> str:
    """Shorten ``text`` with an ellipsis to about ``width`` pixels."""
    room = max(1, int(width // per_char))
    return text if len(text) <= room else text[: max(0, room - 1)] + "…"
