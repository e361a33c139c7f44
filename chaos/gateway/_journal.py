"""The gateway's bounded journal store: records built lazily, read as snapshots from any thread.

Network notes (what a network fault did to one connection, reported by the
embedded Toxiproxy) are joined with the gateway's records when the journal is
read, so that each attempt has one record whichever of the two saw it first:
a note about a connection that carried a request the gateway recorded amends
that record; a note about an attempt that never reached the gateway becomes a
record of its own, at the sequence number reserved when the note came. When
the note carries the request the client sent before it was refused, that record
names the call like a gateway record does (operation, model, body fingerprint,
question, the SDK's retry count, headers redacted): it is no longer blind.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chaos.common._journal import JournalRecord, WireOutcome

__all__ = ["Journal", "NetworkNote"]

# clock slack between the Toxiproxy's and the gateway's timestamps (same host, same clock)
_SLACK = 0.0005


@dataclass(frozen=True, slots=True)
class NetworkNote:
    """What one network fault did to one connection through the Toxiproxy.

    :param target: the target whose proxy the connection went through.
    :param connection: the connection's number (unique in the Toxiproxy's process).
    :param fault: the network fault's name.
    :param action: its description, e.g. ``network:down``.
    :param outcome: what the app got because of it; None when it only slowed the
        connection down (latency and the like) or is not over yet.
    :param closing: the fault ended the connection (it is the last word on it).
    :param time: when, seconds since the epoch.
    :param opened: when the client connected.
    :param port: the connection's port as the gateway saw it; None when it never
        reached the gateway.
    :param last_read: when the client last sent bytes (0: never).
    :param until: for a fault that did not end the connection: when it left it.
    :param phase: the profile phase the fault belongs to, if any.
    :param request: the bytes the client sent on a connection refused before it
        reached the gateway (its request), else empty.
    """

    target: str
    connection: int
    fault: str
    action: str
    outcome: WireOutcome | None
    closing: bool
    time: float
    opened: float
    port: int | None = None
    last_read: float = 0.0
    until: float | None = None
    phase: str | None = None
    request: bytes = b""


Describe = Callable[[str, bytes, float], "JournalRecord | None"]
"""``(target, request bytes, time) -> a record naming that request`` (no seq yet), or None
when the bytes are no request the target can read."""

_Builder = Callable[[int, Any], JournalRecord]
# bodies above this are fingerprinted at once rather than kept for a lazy build
_LAZY_LIMIT = 64 * 1024


class Journal:
    """A bounded, thread-safe journal: the newest ``size`` records, a ``dropped`` counter.

    Writers append a builder and its raw fields (called as ``build(seq, fields)``);
    the record is built the first time someone reads it, so fingerprinting and
    redaction stay off the request path.

    :param size: how many records are kept; older ones are dropped and counted.
    """

    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError(f"journal size must be at least 1, not {size}")
        self.size = size
        self.dropped = 0
        self._next = 0
        self._items: deque[list[Any]] = deque(maxlen=size)
        self._notes: dict[tuple[int, str], tuple[int, NetworkNote]] = {}
        self._lock = threading.Lock()
        self._described: dict[tuple[str, bytes, float], JournalRecord | None] = {}
        self.describe: Describe | None = None
        """Reads a refused attempt's request (the gateway sets it: it knows the dialects)."""

    def append(
        self, build: _Builder, fields: Any, body_size: int = 0, port: int | None = None
    ) -> None:
        """Add one record, as a builder called with its sequence number and ``fields``.

        :param port: the client's port (joins the record with network notes).
        """
        with self._lock:
            seq = self._next
            self._next = seq + 1
            if len(self._items) == self.size:
                self.dropped += 1
            # [seq, the record or what builds it, port]: one slot, so readers race harmlessly
            item: list[Any] = [seq, (build, fields), port]
            self._items.append(item)
        if body_size > _LAZY_LIMIT:
            item[1] = build(seq, fields)

    def note(self, note: NetworkNote) -> None:
        """Add (or update: same connection and fault) what a network fault did to a
        connection; joined with the records when the journal is read."""
        key = (note.connection, note.fault)
        with self._lock:
            held = self._notes.get(key)
            if held is None:
                seq = self._next
                self._next = seq + 1
            else:
                seq = held[0]
            self._notes[key] = (seq, note)
            if len(self._notes) > self.size:  # bounded like the records: oldest first
                del self._notes[next(iter(self._notes))]

    def snapshot(self, since: int = 0) -> list[JournalRecord]:
        """The records with ``seq >= since``, oldest first (network notes joined in)."""
        with self._lock:
            notes = sorted(self._notes.values(), key=lambda held: held[0])
            items = list(self._items) if notes else [i for i in self._items if i[0] >= since]
        records: list[JournalRecord] = []
        for item in items:
            value = item[1]
            if not isinstance(value, JournalRecord):
                build, fields = value
                value = build(item[0], fields)
                item[1] = value
            records.append(value)
        if notes:
            records = _join(records, [item[2] for item in items], notes, self._describe)
            records = [r for r in records if r.seq >= since]
        return records

    def _describe(self, target: str, request: bytes, opened: float) -> JournalRecord | None:
        # each snapshot joins the notes again: read a refused request once
        key = (target, request, opened)
        if key not in self._described:
            if self.describe is None:
                return None
            if len(self._described) >= self.size:
                del self._described[next(iter(self._described))]
            self._described[key] = self.describe(target, request, opened)
        return self._described[key]

    @property
    def next_seq(self) -> int:
        """The sequence number the next record gets."""
        return self._next

    def clear(self) -> None:
        """Forget every record and note (sequence numbers keep counting up)."""
        with self._lock:
            self._items.clear()
            self._notes.clear()
            self._described.clear()
            self.dropped = 0


def _join(
    records: list[JournalRecord],
    ports: list[int | None],
    notes: list[tuple[int, NetworkNote]],
    describe: Describe | None = None,
) -> list[JournalRecord]:
    """``records`` with ``notes`` joined in: one record per attempt, in ``seq`` order."""
    by_port: dict[int, list[int]] = {}
    for index, port in enumerate(ports):
        if port is not None:
            by_port.setdefault(port, []).append(index)
    out = list(records)
    # attempts that never reached the gateway: (target, connection, last_read) -> record
    own: dict[tuple[str, int, float], JournalRecord] = {}
    for seq, note in notes:
        candidates = by_port.get(note.port, []) if note.port is not None else []
        mine = [
            i
            for i in candidates
            if out[i].target == note.target and out[i].time >= note.opened - _SLACK
        ]
        # the attempt the note is about: the first request on this connection whose
        # answer ended after the client last sent bytes (the request those bytes belong
        # to ends after them; earlier ones ended before the client sent them)
        current = [i for i in mine if _end(out[i]) >= note.last_read - _SLACK]
        if note.closing:
            if current:
                out[current[0]] = _amend(out[current[0]], note)
                continue
        else:
            # a toxic stays on a connection until removed: the requests after it met too
            met = [i for i in current if note.until is None or out[i].time <= note.until]
            for i in met:
                out[i] = _amend(out[i], note)
            if met or note.outcome is None:
                continue
        key = (note.target, note.connection, note.last_read)
        held = own.get(key)
        if held is not None:
            own[key] = _amend(held, note)
            continue
        started = note.last_read or note.opened
        fields: dict[str, Any] = {
            "seq": seq,
            "time": started,
            "target": note.target,
            "rule": note.fault,
            "action": note.action,
            "phase": note.phase,
            "outcome": note.outcome or "closed",
            "duration": max(0.0, note.time - started),
            "layer": "network",
            "network": note.fault,
        }
        asked = None
        if note.request and describe is not None:
            asked = describe(note.target, note.request, note.opened)
        if asked is not None:  # the request it carried: which call, which SDK attempt
            own[key] = dataclasses.replace(asked, **fields)
        else:
            own[key] = JournalRecord(method="", path="", **fields)
    out.extend(own.values())
    out.sort(key=lambda r: r.seq)
    return out


def _end(record: JournalRecord) -> float:
    return record.time + record.duration


def _amend(record: JournalRecord, note: NetworkNote) -> JournalRecord:
    """``record`` as the network fault left it."""
    if note.outcome is None:
        return dataclasses.replace(record, network=note.fault)
    return dataclasses.replace(record, network=note.fault, layer="network", outcome=note.outcome)
