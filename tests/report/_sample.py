"""A hand-written journal shaped like a failover under a 529 storm, for report tests."""

from __future__ import annotations

from chaos.common._journal import JournalRecord

T0 = 1_700_000_000.0


def rec(
    seq,
    t,
    target,
    *,
    status=200,
    outcome="ok",
    rule=None,
    action=None,
    phase=None,
    retry=0,
    fp="fp-q1",
    key=None,
    op=None,
    stream=False,
    duration=0.05,
    model=None,
    events=0,
    headers=None,
):
    op = op or ("messages.create" if target == "anthropic" else "chat.completions.create")
    path = "/v1/messages" if target == "anthropic" else "/v1/chat/completions"
    return JournalRecord(
        seq=seq,
        time=T0 + t,
        target=target,
        method="POST",
        path=path,
        operation=op,
        stream=stream,
        model=model or ("claude-sonnet-4-5" if target == "anthropic" else "gpt-4o"),
        retry_count=retry,
        fingerprint=fp,
        content_key=key or fp,  # the question; the bytes (fp) may differ per provider
        call_kind="generate",
        rule=rule,
        action=action,
        phase=phase,
        status=status,
        outcome=outcome,
        duration=duration,
        events=events,
        request_headers=headers
        or {"x-api-key": "[redacted]", "x-stainless-retry-count": str(retry)},
    )


def storm_journal():
    """Call 1 fine; call 2 hit by 529 x3 (SDK retries) then failover to openai;
    call 3 a stream cut absorbed by an app retry; call 4 fails for good."""
    e = "elevated-errors/0-error"
    m = "methods-failing/0-error"
    return [
        rec(0, 0.00, "anthropic", fp="fp-q0"),
        rec(
            1,
            0.30,
            "anthropic",
            status=529,
            outcome="fault",
            rule=m,
            action="error:overloaded",
            phase="methods-failing",
            fp="fp-q1",
        ),
        rec(
            2,
            0.80,
            "anthropic",
            status=529,
            outcome="fault",
            rule=m,
            action="error:overloaded",
            phase="methods-failing",
            retry=1,
            fp="fp-q1",
        ),
        rec(
            3,
            1.70,
            "anthropic",
            status=529,
            outcome="fault",
            rule=m,
            action="error:overloaded",
            phase="methods-failing",
            retry=2,
            fp="fp-q1",
        ),
        rec(4, 1.80, "openai", fp="fp-q1-openai", key="fp-q1", duration=0.2),
        rec(
            5,
            2.40,
            "anthropic",
            stream=True,
            status=200,
            outcome="stream_cut",
            rule="truncated/0-sse",
            action="sse:cut_after=3",
            phase="truncated",
            fp="fp-q2",
            duration=0.3,
            events=3,
        ),
        rec(6, 2.80, "anthropic", stream=True, fp="fp-q2", duration=0.4, events=12),
        rec(
            7,
            3.50,
            "anthropic",
            status=500,
            outcome="fault",
            rule=e,
            action="error:server_error",
            phase="elevated-errors",
            fp="fp-q3",
            headers={"authorization": "Bearer sk-live-SECRET"},
        ),
        rec(
            8,
            3.52,
            "anthropic",
            status=None,
            outcome="reset",
            rule="wire/0",
            action="wire:reset",
            phase="elevated-errors",
            retry=1,
            fp="fp-q3",
            duration=0.0,
        ),
    ]
