"""Pages from the edge layer in front of a provider (Cloudflare, Google LB, Envoy).

During real outages many failures never reach the provider's API servers: the
client gets a Cloudflare HTML page, a Cloudflare JSON error, or Envoy's plain
text, not the provider's JSON error (``reference/providers.md`` §1.9, §2.8).
These pages are the same whatever the provider, so they live outside the
dialects: ``edge_page(name)`` renders one, ``EDGE_PAGES`` lists the names.

Ray ids and timestamps are fresh on every call, as on the real edge.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from types import MappingProxyType

from chaos.providers._base import Response, unknown_choice

__all__ = ["EDGE_PAGES", "cloudflare_html", "edge_page", "edge_status", "envoy_503"]

_CF_HTML_HEADERS = (
    ("content-type", "text/html; charset=UTF-8"),
    ("cache-control", "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0"),
    ("expires", "Thu, 01 Jan 1970 00:00:01 GMT"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "SAMEORIGIN"),
    ("server", "cloudflare"),
)

_CF_HTML = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if IE 7]>    <html class="no-js ie7 oldie" lang="en-US"> <![endif]-->
<!--[if IE 8]>    <html class="no-js ie8 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>{host} | {code}: {title}</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta http-equiv="X-UA-Compatible" content="IE=Edge" />
<meta name="robots" content="noindex, nofollow" />
<meta name="viewport" content="width=device-width,initial-scale=1" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="p-0">
    <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
      <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
        <span class="inline-block">{title}</span>
        <span class="code-label">Error code {code}</span>
      </h1>
      <div>
        Visit <a href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_{code}&utm_campaign={host}" target="_blank" rel="noopener noreferrer">cloudflare.com</a> for more information.
      </div>
      <div class="mt-3">{time}</div>
    </header>
    <div class="my-8 bg-gradient-gray">
      <div class="w-240 lg:w-full mx-auto">
        <div class="clearfix md:px-8">
          <div id="cf-browser-status" class="cf-column sm:w-full sm:pb-4">
            <span class="md:block w-full truncate">You</span>
            <h3 class="md:inline-block mt-3 md:mt-0">Browser</h3>
            <span class="leading-1.3 text-2xl text-green-success">Working</span>
          </div>
          <div id="cf-cloudflare-status" class="cf-column sm:w-full sm:pb-4">
            <span class="md:block w-full truncate">{colo}</span>
            <h3 class="md:inline-block mt-3 md:mt-0">Cloudflare</h3>
            <span class="leading-1.3 text-2xl text-green-success">Working</span>
          </div>
          <div id="cf-host-status" class="cf-error-source cf-column sm:w-full sm:pb-4">
            <span class="md:block w-full truncate">{host}</span>
            <h3 class="md:inline-block mt-3 md:mt-0">Host</h3>
            <span class="leading-1.3 text-2xl text-red-error">Error</span>
          </div>
        </div>
      </div>
    </div>
    <div class="w-240 lg:w-full mx-auto mb-8 lg:px-8">
      <div class="clearfix">
        <div class="w-1/2 md:w-full float-left pr-6 md:pb-10 md:pr-0 leading-relaxed">
          <h2 class="text-3xl font-normal leading-1.3 mb-4">What happened?</h2>
          <p>{what}</p>
        </div>
        <div class="w-1/2 md:w-full float-left leading-relaxed">
          <h2 class="text-3xl font-normal leading-1.3 mb-4">What can I do?</h2>
          <p>Please try again in a few minutes.</p>
        </div>
      </div>
    </div>
    <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
      <p class="text-13">
        <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong></span>
        <span class="cf-footer-separator sm:hidden">&bull;</span>
        <span class="cf-footer-item sm:block sm:mb-1"><span>Performance &amp; security by</span> <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing?utm_source=errorcode_{code}&utm_campaign={host}" id="brand_link" target="_blank">Cloudflare</a></span>
      </p>
    </div>
  </div>
</div>
</body>
</html>
"""  # noqa: E501  (the page is reproduced as Cloudflare serves it)

_CF_PAGES = {
    502: ("Bad gateway", "The web server reported a bad gateway error."),
    504: ("Gateway time-out", "The web server reported a gateway time-out error."),
    520: (
        "Web server is returning an unknown error",
        "There is an unknown connection issue between Cloudflare and the origin web server. "
        "As a result, the web page can not be displayed.",
    ),
    524: (
        "A timeout occurred",
        "The origin web server timed out responding to this request.",
    ),
}

_CHALLENGE_HTML = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
    '<meta http-equiv="X-UA-Compatible" content="IE=Edge">'
    '<meta name="robots" content="noindex,nofollow">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15;"
    "font-family:system-ui,-apple-system,sans-serif;color:#313131}}</style></head>"
    '<body><div class="main-wrapper" role="main"><div class="main-content">'
    '<noscript><div class="h2"><span id="challenge-error-text">'
    "Enable JavaScript and cookies to continue</span></div></noscript></div></div>"
    "<script>(function(){{window._cf_chl_opt={{cvId: '3',cZone: '{host}',cType: 'managed',"
    "cRay: '{ray_id}',cH: '{token}',cUPMDTk: \"\\/v1\\/messages?__cf_chl_tk={token}\","
    "cFPWv: 'b',cITimeS: '{epoch}'}};var a = document.createElement('script');"
    "a.src = '/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray={ray_id}';"
    "document.getElementsByTagName('head')[0].appendChild(a);}}());</script></body></html>"
)

_ENVOY_REASONS = {
    "envoy_503": "overflow",
    "envoy_503_timeout": "connection timeout",
    "envoy_503_termination": "connection termination",
    "envoy_503_refused": (
        "remote connection failure, transport failure reason: "
        "delayed connect error: Connection refused"
    ),
}


def _ray() -> tuple[str, str]:
    ray_id = secrets.token_hex(8)
    return ray_id, f"{ray_id}-SJC"


def cloudflare_html(code: int, host: str, *, what: str | None = None) -> Response:
    """Cloudflare's HTML error page for ``code`` (502, 504, 520 or 524).

    :param what: replaces the "What happened?" text.
    """
    title, default_what = _CF_PAGES[code]
    what = default_what if what is None else html.escape(what)
    ray_id, cf_ray = _ray()
    body = _CF_HTML.format(
        host=host,
        code=code,
        title=title,
        what=what,
        ray=ray_id,
        colo="San Jose",
        time=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    ).encode()
    return Response(status=code, headers=[*_CF_HTML_HEADERS, ("cf-ray", cf_ray)], body=body)


def _cf_json(code: int, message: str, kind: str) -> Response:
    # OpenAI's edge, recorded: compact JSON, content-length 84 for the 502.
    error = {"code": code, "message": message, "param": None, "type": kind}
    body = json.dumps({"error": error}, separators=(",", ":")).encode()
    headers = [
        ("content-type", "application/json"),
        ("server", "cloudflare"),
        ("cf-ray", _ray()[1]),
        ("alt-svc", 'h3=":443"; ma=86400'),
    ]
    return Response(status=code, headers=headers, body=body)


def _cf_522(host: str) -> Response:
    ray_id, cf_ray = _ray()
    problem = {
        "type": "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/"
        "cloudflare-5xx-errors/error-522/",
        "title": "Error 522: Connection timed out",
        "status": 522,
        "detail": "Cloudflare could not establish a TCP connection to the origin server.",
        "instance": ray_id,
        "error_code": 522,
        "error_name": "connection_timeout",
        "error_category": "origin",
        "ray_id": ray_id,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "zone": host,
        "cloudflare_error": True,
        "retryable": True,
        "retry_after": 120,
    }
    body = json.dumps(problem, separators=(",", ":")).encode()
    headers = [("content-type", "application/json"), ("server", "cloudflare"), ("cf-ray", cf_ray)]
    return Response(status=522, headers=headers, body=body)


def _cf_520_empty(host: str) -> Response:
    headers = [("server", "cloudflare"), ("cf-ray", _ray()[1])]
    return Response(status=520, headers=headers, body=b"")


def _challenge(host: str) -> Response:
    ray_id, cf_ray = _ray()
    body = _CHALLENGE_HTML.format(
        host=host,
        ray_id=ray_id,
        token=secrets.token_urlsafe(32),
        epoch=int(datetime.now(UTC).timestamp()),
    ).encode()
    headers = [*_CF_HTML_HEADERS, ("cf-mitigated", "challenge"), ("cf-ray", cf_ray)]
    return Response(status=403, headers=headers, body=body)


def envoy_503(reason: str = "overflow", *, text: str | None = None) -> Response:
    """Envoy's plain-text 503 ``upstream connect error ... reset reason: <reason>``.

    :param text: replaces the whole body.
    """
    if text is None:
        text = f"upstream connect error or disconnect/reset before headers. reset reason: {reason}"
    headers = [
        ("content-type", "text/plain"),
        ("server", "cloudflare"),
        ("via", "1.1 google"),
        ("cf-ray", _ray()[1]),
    ]
    return Response(status=503, headers=headers, body=text.encode())


def _envoy(name: str) -> Callable[[str], Response]:
    return lambda host: envoy_503(_ENVOY_REASONS[name])


def _html(code: int) -> Callable[[str], Response]:
    return lambda host: cloudflare_html(code, host)


_RENDERERS: dict[str, Callable[[str], Response]] = {
    "cloudflare_502": _html(502),
    "cloudflare_504": _html(504),
    "cloudflare_520": _html(520),
    "cloudflare_520_empty": _cf_520_empty,
    "cloudflare_522": _cf_522,
    "cloudflare_524": _html(524),
    "cf_bad_gateway": lambda host: _cf_json(502, "Bad gateway.", "cf_bad_gateway"),
    "cf_service_unavailable": lambda host: _cf_json(
        503, "Service Unavailable.", "cf_service_unavailable"
    ),
    "challenge_403": _challenge,
    **{name: _envoy(name) for name in _ENVOY_REASONS},
}

EDGE_PAGES: tuple[str, ...] = tuple(_RENDERERS)
"""Every edge page name :func:`edge_page` renders."""

_STATUS = MappingProxyType(
    {
        "cloudflare_502": 502,
        "cloudflare_504": 504,
        "cloudflare_520": 520,
        "cloudflare_520_empty": 520,
        "cloudflare_522": 522,
        "cloudflare_524": 524,
        "cf_bad_gateway": 502,
        "cf_service_unavailable": 503,
        "challenge_403": 403,
    }
    | dict.fromkeys(_ENVOY_REASONS, 503)
)


def edge_page(name: str, *, host: str = "api.anthropic.com") -> Response:
    """The edge layer's answer ``name`` (see :data:`EDGE_PAGES`), with fresh ray ids.

    :param name: ``cloudflare_502|504|520|524`` (Cloudflare HTML), ``cloudflare_520_empty``,
        ``cloudflare_522`` (problem JSON), ``cf_bad_gateway`` / ``cf_service_unavailable``
        (JSON), ``challenge_403`` ("Just a moment..."), ``envoy_503`` (``reset reason:
        overflow``) and its variants ``envoy_503_timeout``, ``envoy_503_termination``,
        ``envoy_503_refused``.
    :param host: the provider host the page names (``api.openai.com`` for OpenAI).
    :raises ConfigError: ``name`` is not an edge page; the message lists the valid ones.
    """
    render = _RENDERERS.get(name)
    if render is None:
        raise unknown_choice("edge page", name, EDGE_PAGES)
    return render(host)


def edge_status(name: str) -> int:
    """The HTTP status of edge page ``name`` without rendering it."""
    status = _STATUS.get(name)
    if status is None:
        raise unknown_choice("edge page", name, EDGE_PAGES)
    return status
