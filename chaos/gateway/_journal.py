"""The gateway's bounded journal store: records built lazily, read as snapshots from any thread."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from chaos._journal import JournalRecord

__all__ = ["Journal"]

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
        self._lock = threading.Lock()

    def append(self, build: _Builder, fields: Any, body_size: int = 0) -> None:
        """Add one record, as a builder called with its sequence number and ``fields``."""
        with self._lock:
            seq = self._next
            self._next = seq + 1
            if len(self._items) == self.size:
                self.dropped += 1
            # [seq, the record or what builds it]: one slot, so readers race harmlessly
            item: list[Any] = [seq, (build, fields)]
            self._items.append(item)
        if body_size > _LAZY_LIMIT:
            item[1] = build(seq, fields)

    def snapshot(self, since: int = 0) -> list[JournalRecord]:
        """The records with ``seq >= since``, oldest first."""
        with self._lock:
            items = [item for item in self._items if item[0] >= since]
        records: list[JournalRecord] = []
        for item in items:
            value = item[1]
            if not isinstance(value, JournalRecord):
                build, fields = value
                value = build(item[0], fields)
                item[1] = value
            records.append(value)
        return records

    @property
    def next_seq(self) -> int:
        """The sequence number the next record gets."""
        return self._next

    def clear(self) -> None:
        """Forget every record (sequence numbers keep counting up)."""
        with self._lock:
            self._items.clear()
            self.dropped = 0
