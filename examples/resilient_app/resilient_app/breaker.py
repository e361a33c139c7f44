"""A small circuit breaker: stop calling a provider that keeps failing, probe it later."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitOpen(Exception):
    """The provider's circuit is open: the call was not attempted."""


class CircuitBreaker:
    """Closed until ``threshold`` consecutive failures; then open for ``cooldown`` seconds;
    then half-open: one probe call goes through, its result closes or re-opens the circuit.

    :param threshold: consecutive failures that open the circuit.
    :param cooldown: seconds the circuit stays open before a probe is allowed.
    :param clock: a monotonic clock (injectable so tests need not sleep); default
        ``time.monotonic``, looked up at each reading so that a patched clock (the chaos
        harness's virtual time) applies.
    """

    def __init__(
        self,
        *,
        threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock if clock is not None else lambda: time.monotonic()
        self.failures = 0
        self.state: State = "closed"
        self._opened_at = 0.0
        self._probing = False
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether a call may go out now (in half-open state: only the one probe)."""
        with self._lock:
            if self.state == "open" and self.clock() - self._opened_at >= self.cooldown:
                self.state = "half_open"
                self._probing = False
            if self.state == "closed":
                return True
            if self.state == "half_open" and not self._probing:
                self._probing = True
                return True
            return False

    def record_success(self) -> None:
        """A call succeeded: close the circuit."""
        with self._lock:
            self.failures = 0
            self.state = "closed"
            self._probing = False

    def record_failure(self) -> None:
        """A call failed: count it; open the circuit at the threshold or on a failed probe."""
        with self._lock:
            self.failures += 1
            if self.state == "half_open" or self.failures >= self.threshold:
                self.state = "open"
                self._opened_at = self.clock()
                self._probing = False
