"""The ground every layer stands on: the journal's record, targets, clock, redaction, reaper.

Standard library only, and nothing of ``chaos`` but the exception tree
(``chaos._errors``): the gateway writes :class:`JournalRecord` s, the verdict and
the reports read them; ``_target`` is a harness target and its one grammar (a
dialect's name alone is looked up, lazily, in the provider registry); ``_vtime``
is the clock every layer reads (virtual time in a test that asks for it);
``_redact`` hides secrets before anything is recorded; ``_reaper`` removes what a
dead harness left behind (processes, containers).
"""

from chaos.common._journal import JournalRecord, Layer, WireOutcome
from chaos.common._target import Target

__all__ = ["JournalRecord", "Layer", "Target", "WireOutcome"]
