"""The providers' real bytes, copied from ``shared/reference/providers.md``.

Nothing here comes from ``chaos``: this is the other side of the differential tests, what
the real API sends, so that a bug in a dialect cannot pass on both sides. Each entry names
its source in the reference ([REC] recorded, [DOC] documented shape, [ISSUE] a user's
report); where the reference has only the shape (no verbatim body), the message text is
the documented one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

JSON = ("content-type", "application/json")


@dataclass(frozen=True)
class Recorded:
    """One recorded HTTP answer: status, headers and the exact body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source: str = ""


@dataclass(frozen=True)
class RecordedStream:
    """A recorded SSE answer: its headers, its events (each with its separator) and the
    in-stream error event the provider sends during an outage."""

    headers: tuple[tuple[str, str], ...]
    events: tuple[bytes, ...]
    error_event: bytes
    source: str = ""
    text_events: frozenset[int] = field(default_factory=frozenset)


def _rec(status: int, body: str, *headers: tuple[str, str], source: str = "") -> Recorded:
    return Recorded(status, (JSON, *headers), body.encode(), source)


# -- Anthropic (providers.md §1) ------------------------------------------------------------

ANTHROPIC_OK = _rec(
    200,
    '{"model":"claude-sonnet-4-5-20250929","id":"msg_01Egs18hRzhru3uGon3qesbA","type":"message",'
    '"role":"assistant","content":[{"type":"text","text":"{\\"product_name\\": \\"Green Tea\\", '
    '\\"price\\": 5.50, \\"quantity\\": 2}"}],"stop_reason":"end_turn","stop_sequence":null,'
    '"usage":{"input_tokens":249,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
    '"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},'
    '"output_tokens":26,"service_tier":"standard","inference_geo":"not_available"}}',
    ("request-id", "req_011CSLsW7mFqvHHnzrKdKjAE"),
    source="§1.4 [REC]",
)

ANTHROPIC_ERRORS: dict[str, Recorded] = {
    "overloaded": _rec(
        529,
        '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        ("request-id", "req_01RCc7MbLyQNtGKzBTv8VCep"),
        ("x-should-retry", "true"),
        source="§1.7 529 [ISSUE, full headers]",
    ),
    "server_error": _rec(
        500,
        '{"type":"error","error":{"type":"api_error","message":"Internal server error"},'
        '"request_id":"req_011CXmPAT8xd3GWgKxdq8TRC"}',
        ("request-id", "req_011CXmPAT8xd3GWgKxdq8TRC"),
        source="§1.7 500 [ISSUE]",
    ),
    "rate_limited": _rec(
        429,
        '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed '
        "your organization's rate limit of 20,000,000 prompt bytes per hour (org: "
        "5576611f-a1ee-427c-9800-298d9579899c, model: claude-sonnet-4-5-20250929). For details, "
        "refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers "
        "for current usage. Please reduce the prompt length or the maximum tokens requested, or "
        "try again later. You may also contact sales at https://www.anthropic.com/contact-sales "
        'to discuss your options for a rate limit increase."},'
        '"request_id":"req_011CYK5mje9HkutJtmfPzzNC"}',
        ("request-id", "req_011CYK5mje9HkutJtmfPzzNC"),
        ("x-should-retry", "true"),
        source="§1.7 429 [REC]",
    ),
    "bad_request": _rec(
        400,
        '{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content.1: '
        "unexpected `tool_use_id` found in `tool_result` blocks: toolu_01GHndag5wQmbzNihYmV2UBj. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
        'message."},"request_id":"req_011CYHyk9NPsBYeGbC9LuDNK"}',
        ("request-id", "req_011CYHyk9NPsBYeGbC9LuDNK"),
        ("x-should-retry", "false"),
        source="§1.7 400 [REC]",
    ),
    "unauthorized": _rec(
        401,
        '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},'
        '"request_id":"req_011CXw8h8A796q3f74Ezmhav"}',
        ("request-id", "req_011CXw8h8A796q3f74Ezmhav"),
        source="§1.7 401 [ISSUE]",
    ),
    "not_found": _rec(
        404,
        '{"type":"error","error":{"type":"not_found_error","message":"The requested resource '
        'could not be found."},"request_id":"req_011CYHyk9NPsBYeGbC9LuDNA"}',
        ("request-id", "req_011CYHyk9NPsBYeGbC9LuDNA"),
        source="§1.6 [DOC]",
    ),
    "forbidden": _rec(
        403,
        '{"type":"error","error":{"type":"permission_error","message":"Your API key does not '
        'have permission to use the specified resource."},"request_id":"req_011CYHyk9NPsBYeG"}',
        source="§1.6 [DOC]",
    ),
    "gateway_timeout": _rec(
        504,
        '{"type":"error","error":{"type":"timeout_error","message":"Request timeout"},'
        '"request_id":"req_011CYHyk9NPsBYeGbC9LuDNB"}',
        source="§1.6 [DOC] (timeout_error)",
    ),
    "service_unavailable": Recorded(
        503,
        (("content-type", "text/plain"),),
        b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
        "§1.9 Envoy 503 [ISSUE]",
    ),
    "billing": _rec(
        402,
        '{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too '
        'low to access the Anthropic API."},"request_id":"req_011CYHyk9NPsBYeGbC9LuDNC"}',
        source="§1.6 [DOC] (billing_error)",
    ),
    "conflict": _rec(
        409,
        '{"type":"error","error":{"type":"conflict_error","message":"Conflict"},'
        '"request_id":"req_011CYHyk9NPsBYeGbC9LuDND"}',
        source="§1.6 [DOC] (conflict_error)",
    ),
    "request_too_large": _rec(
        413,
        '{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the '
        'maximum allowed number of bytes."}}',
        source="§1.6 [DOC] (sent by Cloudflare)",
    ),
    "quota_exceeded": _rec(
        429,
        '{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your '
        'specified API usage limits."},"request_id":"req_011CYHyk9NPsBYeGbC9LuDNE"}',
        ("x-should-retry", "true"),
        source="§1.6 (the spend-cap 429 has no retry-after)",
    ),
    "bad_gateway": Recorded(
        502,
        (("content-type", "text/html"), ("server", "cloudflare")),
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
        b"502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n"
        b"</html>\r\n",
        "§1.9 / §2.8 Cloudflare page [ISSUE]",
    ),
}

_ANTHROPIC_EVENTS = (
    b'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-sonnet-4-5-'
    b'20250929","id":"msg_013nnniYDrJDocdy5nrMU7cH","type":"message","role":"assistant",'
    b'"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":135,'
    b'"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":'
    b'{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,'
    b'"service_tier":"standard","inference_geo":"not_available"}}   }\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":'
    b'{"type":"text","text":""}     }\n\n',
    b'event: ping\ndata: {"type": "ping"}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"["}             }\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"12"}   }\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"345,"}    }\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
    b'{"type":"text_delta","text":"67890]"}               }\n\n',
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0        }\n\n',
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",'
    b'"stop_sequence":null},"usage":{"input_tokens":135,"cache_creation_input_tokens":0,'
    b'"cache_read_input_tokens":0,"output_tokens":10}             }\n\n',
    b'event: message_stop\ndata: {"type":"message_stop"              }\n\n',
)

ANTHROPIC_STREAM = RecordedStream(
    (("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")),
    _ANTHROPIC_EVENTS,
    b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
    b'"message": "Overloaded"}}\n\n',
    "§1.5 [REC], §1.8 [DOC]",
)

# -- OpenAI (providers.md §2) -----------------------------------------------------------------


def _openai_error(message: str, type_: str, code: str | None) -> str:
    # real OpenAI error bodies are 4-space indented (§2.6)
    code_json = "null" if code is None else f'"{code}"'
    return (
        "{\n"
        '    "error": {\n'
        f'        "message": "{message}",\n'
        f'        "type": "{type_}",\n'
        '        "param": null,\n'
        f'        "code": {code_json}\n'
        "    }\n"
        "}\n"
    )


OPENAI_OK = _rec(
    200,
    """{
  "id": "chatcmpl-CJQDgFMHEtVk3h2VotEk31bNLi0am",
  "object": "chat.completion",
  "created": 1758745056,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I help?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 14,
    "completion_tokens": 37,
    "total_tokens": 51
  },
  "service_tier": "default",
  "system_fingerprint": "fp_b40fb1c6fb"
}
""",
    ("x-request-id", "req_1495f3f0dc7a4f71abadc40f5b9c6717"),
    source="§2.3 [REC]",
)

OPENAI_ERRORS: dict[str, Recorded] = {
    "rate_limited": _rec(
        429,
        _openai_error(
            "Rate limit reached for gpt-4o in organization org-VDAWofJASuLH0vVz8o9tiQZr on tokens "
            "per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            "rate_limit_exceeded",
        ),
        ("x-request-id", "req_2495f3f0dc7a4f71abadc40f5b9c6717"),
        source="§2.6 429 [ISSUE]",
    ),
    "quota_exceeded": _rec(
        429,
        _openai_error(
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        source="§2.6 [ISSUE]",
    ),
    "server_error": _rec(
        500,
        _openai_error(
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        source="§2.6 [DOC]",
    ),
    "overloaded": _rec(
        503,
        _openai_error(
            "Our servers are currently overloaded. Please try again later.",
            "service_unavailable_error",
            "server_is_overloaded",
        ),
        source="§2.6 [3P]",
    ),
    "bad_gateway": Recorded(
        502,
        (JSON, ("server", "cloudflare"), ("cf-ray", "81f306648c6ab0ed-ATL")),
        b'{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}',
        "§2.8 [ISSUE, content-length 84]",
    ),
    "service_unavailable": Recorded(
        503,
        (JSON, ("server", "cloudflare")),
        b'{"error":{"code":503,"message":"Service Unavailable.","param":null,'
        b'"type":"cf_service_unavailable"}}',
        "§2.8 [3P]",
    ),
    "unauthorized": _rec(
        401,
        _openai_error(
            "Incorrect API key provided: sk-test. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        ("www-authenticate", 'Bearer realm="OpenAI API"'),
        source="§2.6 [DOC]",
    ),
    "not_found": _rec(
        404,
        _openai_error(
            "The model `gpt-4o` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        source="§2.6 [DOC]",
    ),
    "bad_request": _rec(
        400,
        _openai_error("Invalid service_tier argument.", "invalid_request_error", "invalid_value"),
        source="§2.6 [DOC]",
    ),
    "forbidden": _rec(
        403,
        _openai_error(
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        ),
        source="§2.6 [DOC]",
    ),
    "request_too_large": _rec(
        429,
        _openai_error(
            "Request too large for gpt-4o in organization org-VDAWofJASuLH0vVz8o9tiQZr on tokens "
            "per min (TPM): Limit 30000, Requested 30601. The input or output tokens must be "
            "reduced in order to run successfully. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "tokens",
            "rate_limit_exceeded",
        ),
        source="§2.6 429 'Request too large' [ISSUE]",
    ),
    "gateway_timeout": Recorded(
        504,
        (("content-type", "text/html"), ("server", "cloudflare")),
        b"<html><head><title>api.openai.com | 504: Gateway time-out</title></head></html>",
        "§1.9 Cloudflare 504 page [ISSUE]",
    ),
}

_OPENAI_CHUNK = (
    '{"id":"chatcmpl-CedWYrywQV4mbHiiyebdY17UdXZRY","object":"chat.completion.chunk",'
    '"created":1763801086,"model":"gpt-4o-mini-2024-07-18","service_tier":"default",'
    '"system_fingerprint":"fp_560af6e559","choices":[{"index":0,"delta":%s,"logprobs":null,'
    '"finish_reason":%s}],"obfuscation":"qDeuXH"}'
)


def _openai_event(delta: str, finish: str = "null") -> bytes:
    return b"data: " + (_OPENAI_CHUNK % (delta, finish)).encode() + b"\n\n"


OPENAI_STREAM = RecordedStream(
    (("content-type", "text/event-stream; charset=utf-8"),),
    (
        _openai_event('{"role":"assistant","content":"","refusal":null}'),
        _openai_event('{"content":"1"}'),
        _openai_event('{"content":", 2"}'),
        _openai_event('{"content":", 3"}'),
        _openai_event('{"content":", 4"}'),
        _openai_event("{}", '"stop"'),
        b"data: [DONE]\n\n",
    ),
    b'data: {"error":{"message":"The server had an error processing your request. Sorry about '
    b"that! You can retry your request, or contact us through our help center at "
    b"help.openai.com if you keep seeing this error. (Please include the request ID "
    b'fb94b183e8b7bc5aca22fa62981cc107 in your email.)","type":"server_error","param":null,'
    b'"code":null}}\n\ndata: [DONE]\n\n',
    "§2.4 [REC], §2.7 [ISSUE]",
)

# -- Gemini (providers.md §3) -----------------------------------------------------------------


def _gemini_error(code: int, message: str, status: str, details: str = "") -> str:
    extra = f',\n    "details": {details}' if details else ""
    return (
        "{\n"
        '  "error": {\n'
        f'    "code": {code},\n'
        f'    "message": "{message}",\n'
        f'    "status": "{status}"{extra}\n'
        "  }\n"
        "}\n"
    )


_RETRY_INFO = (
    '[{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": '
    '"generativelanguage.googleapis.com/generate_content_free_tier_input_token_count", '
    '"quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier"}]}, '
    '{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}]'
)
_GEMINI_JSON = ("content-type", "application/json; charset=UTF-8")

GEMINI_OK = Recorded(
    200,
    (_GEMINI_JSON,),
    b"""{
  "candidates": [
    {
      "content": {
        "role": "model",
        "parts": [
          {
            "text": "Hello!"
          }
        ]
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 3,
    "candidatesTokenCount": 2,
    "totalTokenCount": 22
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "FugfaZasF6ra2roP_9i9KQ"
}
""",
    "§3 [REC]",
)


def _gem(code: int, message: str, status: str, details: str = "") -> Recorded:
    return Recorded(
        code, (_GEMINI_JSON,), _gemini_error(code, message, status, details).encode(), "§3"
    )


GEMINI_ERRORS: dict[str, Recorded] = {
    "overloaded": _gem(503, "The model is overloaded. Please try again later.", "UNAVAILABLE"),
    "service_unavailable": _gem(
        503,
        "This model is currently experiencing high demand. Spikes in demand are usually "
        "temporary. Please try again later.",
        "UNAVAILABLE",
    ),
    "rate_limited": _gem(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        "RESOURCE_EXHAUSTED",
        _RETRY_INFO,
    ),
    "server_error": _gem(500, "An internal error has occurred.", "INTERNAL"),
    "not_found": _gem(404, "models/gemini-2.5-flash is not found.", "NOT_FOUND"),
    "bad_request": _gem(400, "Request contains an invalid argument.", "INVALID_ARGUMENT"),
    "forbidden": _gem(403, "The caller does not have permission", "PERMISSION_DENIED"),
    "gateway_timeout": _gem(
        504, "Deadline expired before operation could complete.", "DEADLINE_EXCEEDED"
    ),
    "unauthorized": _gem(
        400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT"
    ),
    "request_too_large": _gem(400, "Request payload size exceeds the limit.", "INVALID_ARGUMENT"),
    "quota_exceeded": _gem(
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "RESOURCE_EXHAUSTED",
        _RETRY_INFO,
    ),
    "bad_gateway": Recorded(
        502,
        (("content-type", "text/html; charset=UTF-8"),),
        b"<!DOCTYPE html>\n<html lang=en>\n  <title>Error 502 (Server Error)!!1</title>\n"
        b"  <p><b>502.</b> <ins>That's an error.</ins>\n",
        "§3 Google front end 502 page",
    ),
}


def _gemini_event(text: str, finish: bool = False) -> bytes:
    # Gemini SSE: CRLF separators, `": "` spacing, no event line and no [DONE] (§3)
    end = ',"finishReason": "STOP"' if finish else ""
    return (
        b'data: {"candidates": [{"content": {"parts": [{"text": "'
        + text.encode()
        + b'"}],"role": "model"}'
        + end.encode()
        + b',"index": 0}],"usageMetadata": {"promptTokenCount": 3,"totalTokenCount": 9},'
        b'"modelVersion": "gemini-2.5-flash","responseId": "4HkhaaajEJaY0-kPyI_b2A4"}\r\n\r\n'
    )


GEMINI_STREAM = RecordedStream(
    (("content-type", "text/event-stream"), ("content-disposition", "attachment")),
    (
        _gemini_event("1"),
        _gemini_event(", 2"),
        _gemini_event(", 3"),
        _gemini_event(", 4"),
        _gemini_event(", 5", finish=True),
    ),
    b'data: {"error": {"code": 503, "message": "The model is overloaded. Please try again '
    b'later.", "status": "UNAVAILABLE"}}\r\n\r\n',
    "§3 [REC] (CRLF SSE)",
)

EDGE_502_HTML = Recorded(
    502,
    (("content-type", "text/html"), ("server", "cloudflare")),
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
    b"Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n",
    "§2.8 nginx-style Cloudflare page [ISSUE]",
)

# Edge pages (§1.9): not provider JSON; what an SDK makes of them depends on the status alone
_HTML = ("content-type", "text/html; charset=UTF-8")
EDGE_PAGES: dict[str, Recorded] = {
    "cloudflare_502": EDGE_502_HTML,
    "cloudflare_524": Recorded(
        524,
        (_HTML, ("server", "cloudflare")),
        b"<!DOCTYPE html>\n<html><head><title>api.anthropic.com | 524: A timeout occurred"
        b"</title></head><body>Error 524</body></html>\n",
        "§1.9 Cloudflare 524 page [ISSUE]",
    ),
    "cloudflare_520_empty": Recorded(520, ((("server", "cloudflare")),), b"", "§1.9 [ISSUE]"),
    "challenge_403": Recorded(
        403,
        (_HTML, ("server", "cloudflare"), ("cf-mitigated", "challenge")),
        b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
        b"<body></body></html>",
        "§1.9 Cloudflare challenge [ISSUE]",
    ),
    "envoy_503": Recorded(
        503,
        (("content-type", "text/plain"),),
        b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
        "§1.9 Envoy 503 [ISSUE]",
    ),
}
