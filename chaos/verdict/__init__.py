"""Verdicts: what the app did when the provider failed, read from the request journal.

A :class:`Verdict` groups the journal's attempts into *logical calls* and
attributes every attempt. A logical call is one question the app asked, however
many requests it took: the journal's ``content_key`` names the question (its
conversation, normalised across dialects, without model, stream flag or
limits), ``system_keys`` its system prompt (two requests are one question when
one's system blocks are all in the other's: frameworks add their own blocks
for one provider) and ``call_kind`` what is done with it (``generate``,
``count_tokens``, ``embed``). Attempts link only within one question: an
embedding of the same text, another question, or a request that asks none
(``models.list``) is never a retry or a failover of a call, whatever its timing.

``first``
    the first attempt of a logical call.
``sdk_retry``
    the SDK's own retry: ``x-stainless-retry-count`` > 0, the same question.
    The SDK does this before the app sees anything, so it proves nothing
    about the app.
``app_retry``
    the same question to the same target and model, the SDK's count back at 0
    (or no count: a client without the header), after a failed attempt on
    which the SDK did not retry itself: the app caught the error and asked again.
``failover``
    the same question, after a failed attempt, to another target, or to
    another model on the same target: the app moved the call.

A call is *open* while its last attempt failed (and for ``window_s`` after
it); a successful answer closes it. The same question asked again after a
success is a new call (a repeated question). So is the same question asked
again of the same target and model after the SDK's own retries gave up (the
last attempt was an SDK retry): the app got the error, and asking again is
indistinguishable from a user asking again, so it counts as a new call, failed
or not. Hence an app that retries on top of an SDK that retries too shows its
retries as calls; one that turns the SDK's retries off (``max_retries=0``)
shows them as app retries. Clients that send no retry count (google-genai,
plain HTTP) have their own retries read as app retries.

A *blind* attempt is one the harness saw fail without seeing its request (a
connection refused, reset or cut by a network fault before the request
arrived): it names no question. Blind attempts are the one place linking goes
by timing: a blind attempt right after a failed attempt on its target is a
retry of that call, and the first question right after a run of blind
failures (within ``window_s``) is what they were asking: a failover if it goes
elsewhere.

A *degraded* answer has no upstream request, so the journal cannot see it
directly: :meth:`Verdict.assert_degraded` checks what the journal can prove
(calls failed and none of them got a successful upstream answer); the test
checks the app's own answer (e.g. ``assert answer.degraded``).

No pytest and no network here: a verdict is plain data over
:class:`~chaos.common._journal.JournalRecord` objects, usable from any script.
"""

from chaos.verdict._calls import Attempt, Attribution, Call, Finding, TargetSummary
from chaos.verdict._verdict import Verdict

__all__ = ["Attempt", "Attribution", "Call", "Finding", "TargetSummary", "Verdict"]
