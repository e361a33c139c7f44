"""The timeline picture: requests over time, one lane per target, as a self-contained SVG.

No plotting library: the SVG is written by hand, so it renders the same in a
browser, in Allure and in a CI artifact viewer. Every mark carries a
``<title>`` (shown on hover) with what the journal recorded about the request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from chaos._journal import JournalRecord
from chaos.report._classes import CLASS_LABELS, OutcomeClass, outcome_class

__all__ = ["PhaseSpan", "phases_from_records", "timeline_svg"]

_XScale = Callable[[float], float]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
_COLOURS: dict[OutcomeClass, str] = {
    "ok": "#009E73",
    "http_4xx": "#E69F00",
    "http_429": "#F0E442",
    "http_5xx": "#D55E00",
    "wire": "#CC79A7",
    "stream": "#0072B2",
}
_PHASE_FILLS = ("#eef3fb", "#fbf1e6", "#eef8f0", "#f6eef8", "#fbf8e3", "#eaf6f8")
_FAULT_MARK = "#7a0d0d"

_WIDTH = 960
_LEFT = 130  # room for the target names
_RIGHT = 24
_TOP = 80  # title, caption, phase names
_LANE = 46
_MAX_ROWS = 4  # overlapping requests in one lane are stacked in up to this many rows
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"


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
) -> str:
    """Draw ``records`` as an SVG document: one lane per target, one mark per request.

    Marks are coloured by outcome (ok, HTTP 4xx/429/5xx, wire fault, stream
    fault) and are as wide as the request lasted; a request a fault rule hit
    has a dark triangle above it. Phases are shaded behind the lanes with their
    names on top. Hover any mark for its details.

    :param records: the journal, in any order.
    :param phases: phase spans in seconds from ``origin``; tuples ``(name, start)``
        or ``(name, start, end)`` work too. Default: derived from the records
        (see :func:`phases_from_records`).
    :param title: the heading.
    :param targets: lane order; default: targets in order of their first request.
        Targets named here with no request still get a (empty) lane.
    :param origin: wall-clock time (epoch seconds) of 0 s on the axis; default:
        the first request's start.
    :return: the SVG document as text (UTF-8, no external references).
    """
    ordered = sorted(records, key=lambda r: (r.time, r.seq))
    lanes = _lane_order(ordered, targets)
    t0 = origin if origin is not None else (ordered[0].time if ordered else 0.0)
    spans = (
        [_as_span(p) for p in phases] if phases is not None else phases_from_records(ordered, t0)
    )
    end = max(
        [r.time - t0 + r.duration for r in ordered]
        + [s.end if s.end is not None else s.start for s in spans]
        + [0.0]
    )
    ticks, axis_end = _ticks(end)
    plot_w = _WIDTH - _LEFT - _RIGHT

    def x(seconds: float) -> float:
        return _LEFT + plot_w * max(0.0, seconds) / axis_end

    rows = {lane: _pack_rows([r for r in ordered if r.target == lane], t0, x) for lane in lanes}
    lanes_h = _LANE * max(1, len(lanes))
    axis_y = _TOP + lanes_h
    height = axis_y + 86
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" style="{_FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="24" font-size="16" font-weight="600" fill="#1b1f24">'
        f"{escape(_fit(title, _WIDTH - _LEFT - _RIGHT, per_char=10))}</text>",
        f'<text x="{_LEFT}" y="42" font-size="12" fill="#57606a">'
        f"{escape(_caption(ordered))}</text>",
    ]
    out.append('<g class="phases">')
    for index, span in enumerate(spans):
        stop = span.end if span.end is not None else _next_start(spans, index, axis_end)
        x1, x2 = x(span.start), x(min(stop, axis_end))
        fill = _PHASE_FILLS[index % len(_PHASE_FILLS)]
        out.append(
            f'<g class="phase" data-phase={quoteattr(span.name)}>'
            f"<title>phase {escape(span.name)}: {span.start:.2f}s - {stop:.2f}s</title>"
            f'<rect x="{x1:.1f}" y="{_TOP - 22}" width="{max(1.0, x2 - x1):.1f}" '
            f'height="{lanes_h + 22}" fill="{fill}"/>'
            f'<line x1="{x1:.1f}" y1="{_TOP - 22}" x2="{x1:.1f}" y2="{axis_y}" '
            f'stroke="#8c959f" stroke-dasharray="3,3"/>'
            f'<text x="{x1 + 4:.1f}" y="{_TOP - 8}" font-size="11" fill="#424a53">'
            f"{escape(_fit(span.name, x2 - x1 - 6))}</text></g>"
        )
    out.append("</g>")
    out.append('<g class="lanes">')
    for index, lane in enumerate(lanes):
        top = _TOP + index * _LANE
        out.append(
            f'<g class="lane" data-target={quoteattr(lane)}>'
            f'<line x1="{_LEFT}" y1="{top + _LANE:.1f}" x2="{_WIDTH - _RIGHT}" '
            f'y2="{top + _LANE:.1f}" stroke="#d0d7de"/>'
            f'<text x="{_LEFT - 10}" y="{top + _LANE / 2 + 4:.1f}" font-size="13" '
            f'font-weight="600" fill="#1b1f24" text-anchor="end">{escape(_fit(lane, _LEFT - 14))}'
            "</text>"
        )
        out.extend(_marks(rows[lane], top, t0, x))
        out.append("</g>")
    out.append("</g>")
    out.extend(_axis(ticks, axis_y, x))
    out.extend(_legend(height - 26))
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


def _ticks(end: float) -> tuple[list[float], float]:
    """Round tick positions (1, 2 or 5 times a power of ten) and the axis end."""
    end = max(end, 0.001)
    raw = end / 8
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(end / step - 1e-9)
    return [i * step for i in range(count + 1)], count * step


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
    placed: Sequence[tuple[int, int, JournalRecord]], top: float, t0: float, x: _XScale
) -> list[str]:
    out: list[str] = []
    inner = _LANE - 18  # leave room above for fault triangles
    for row, count, record in placed:
        row_h = inner / count
        left = x(record.time - t0)
        width = max(3.0, x(record.time - t0 + record.duration) - left)
        y = top + 12 + row * row_h
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


def _axis(ticks: Sequence[float], y: float, x: _XScale) -> list[str]:
    out = [
        '<g class="axis" font-size="11" fill="#57606a">',
        f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}" stroke="#57606a"/>',
    ]
    for tick in ticks:
        px = x(tick)
        out.append(
            f'<line x1="{px:.1f}" y1="{y}" x2="{px:.1f}" y2="{y + 5}" stroke="#57606a"/>'
            f'<text x="{px:.1f}" y="{y + 18}" text-anchor="middle">{_seconds(tick)}</text>'
        )
    out.append(
        f'<text x="{_WIDTH - _RIGHT}" y="{y + 34}" text-anchor="end">seconds since the first '
        "request</text>"
    )
    out.append("</g>")
    return out


def _legend(y: float) -> list[str]:
    out = ['<g class="legend" font-size="12" fill="#1b1f24">']
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
        f'<text x="{px + 15:.1f}" y="{y}">fault injected (hover for the rule)</text>'
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


def _caption(records: Sequence[JournalRecord]) -> str:
    faulted = sum(1 for r in records if r.rule is not None)
    return f"{len(records)} requests, {faulted} hit by a fault"


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _fit(text: str, width: float, *, per_char: float = 7) -> str:
    """Shorten ``text`` with an ellipsis to about ``width`` pixels."""
    room = max(1, int(width // per_char))
    return text if len(text) <= room else text[: max(0, room - 1)] + "…"
