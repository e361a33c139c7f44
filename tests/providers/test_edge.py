"""Edge-layer pages (Cloudflare, Envoy) against the reference's recorded examples."""

from __future__ import annotations

import json
import re

import pytest

from chaos import ConfigError
from chaos.providers._edge import EDGE_PAGES, edge_page, edge_status


def _headers(name: str) -> dict[str, str]:
    return dict(edge_page(name).headers)


@pytest.mark.parametrize("name", EDGE_PAGES)
def test_every_page_renders_with_its_status_and_a_ray_id(name: str) -> None:
    page = edge_page(name)
    assert page.status == edge_status(name)
    assert page.events is None
    assert re.fullmatch(r"[0-9a-f]{16}-SJC", _headers(name)["cf-ray"])


def test_cf_bad_gateway_json_is_the_recorded_84_bytes() -> None:
    page = edge_page("cf_bad_gateway")
    assert page.status == 502
    assert page.body == (
        b'{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}'
    )
    assert len(page.body) == 84
    assert _headers("cf_bad_gateway")["content-type"] == "application/json"


def test_cf_service_unavailable_json() -> None:
    page = edge_page("cf_service_unavailable")
    assert (page.status, json.loads(page.body)) == (
        503,
        {
            "error": {
                "code": 503,
                "message": "Service Unavailable.",
                "param": None,
                "type": "cf_service_unavailable",
            }
        },
    )


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("cloudflare_502", "api.anthropic.com | 502: Bad gateway"),
        ("cloudflare_504", "api.anthropic.com | 504: Gateway time-out"),
        ("cloudflare_520", "api.anthropic.com | 520: Web server is returning an unknown error"),
        ("cloudflare_524", "api.anthropic.com | 524: A timeout occurred"),
    ],
)
def test_cloudflare_html_pages_carry_the_recorded_titles(name: str, title: str) -> None:
    page = edge_page(name)
    assert f"<title>{title}</title>".encode() in page.body
    assert page.body.startswith(b"<!DOCTYPE html>")
    assert _headers(name)["content-type"] == "text/html; charset=UTF-8"
    assert _headers(name)["server"] == "cloudflare"
    ray = dict(page.headers)["cf-ray"].removesuffix("-SJC")
    assert f'Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong>'.encode() in page.body


def test_host_is_the_one_given() -> None:
    assert (
        b"<title>api.openai.com | 502: Bad gateway</title>"
        in edge_page("cloudflare_502", host="api.openai.com").body
    )


def test_envoy_503_is_plain_text() -> None:
    page = edge_page("envoy_503")
    assert page.status == 503
    assert page.body == (
        b"upstream connect error or disconnect/reset before headers. reset reason: overflow"
    )
    assert _headers("envoy_503")["content-type"] == "text/plain"
    assert edge_page("envoy_503_refused").body.endswith(
        b"reset reason: remote connection failure, transport failure reason: "
        b"delayed connect error: Connection refused"
    )


def test_520_empty_has_no_body() -> None:
    page = edge_page("cloudflare_520_empty")
    assert (page.status, page.body) == (520, b"")


def test_522_is_cloudflare_problem_json() -> None:
    page = edge_page("cloudflare_522")
    problem = json.loads(page.body)
    assert page.status == 522
    assert problem["title"] == "Error 522: Connection timed out"
    assert problem["error_name"] == "connection_timeout"
    assert problem["zone"] == "api.anthropic.com"
    assert problem["ray_id"] == problem["instance"]
    assert problem["retryable"] is True
    assert b", " not in page.body  # compact, like the recorded page


def test_challenge_is_just_a_moment() -> None:
    page = edge_page("challenge_403")
    assert page.status == 403
    assert page.body.startswith(
        b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    )
    assert _headers("challenge_403")["cf-mitigated"] == "challenge"


def test_ray_ids_are_fresh() -> None:
    assert _headers("cloudflare_524")["cf-ray"] != _headers("cloudflare_524")["cf-ray"]


def test_unknown_page_lists_valid_names_and_a_close_match() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'cloudflare_524'\?.*valid: .*envoy_503"):
        edge_page("cloudflare_525")
    with pytest.raises(ConfigError, match="unknown edge page 'nope'; valid: "):
        edge_status("nope")
