"""Cassettes: real provider answers recorded once into a readable YAML file, replayed offline.

A cassette holds interactions: the request (method, path, JSON body) and the answer
(status, headers, body text or SSE frames), in a diffable YAML file with a format
``version``. Secrets never reach the file: request headers are not stored at all
(keys come from the environment), secret query parameters (``?key=``) and secret
response headers are dropped or masked.

Recording forwards to the real upstream (which the gateway allows only with network
access on, or on loopback) and writes each answer as it completes; replaying needs
no network. Faults layer over replayed answers as over forwarded ones: the gateway
applies them to whatever the upstream returns.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from chaos._errors import ConfigError
from chaos.common._redact import is_secret_name
from chaos.providers._base import Request, Response

__all__ = ["CASSETTE_VERSION", "Cassette", "CassetteMiss", "CassetteUpstream", "RecordingUpstream"]

CASSETTE_VERSION = 1
"""The cassette file format version."""

_MASK = "***"
_DROPPED_HEADERS = frozenset({"set-cookie", "content-length", "transfer-encoding", "connection"})


class CassetteMiss(LookupError):
    """A replayed request has no recording."""


def _scrub_path(path: str) -> str:
    parts = urlsplit(path)
    if not parts.query:
        return parts.path
    query = [(k, _MASK if is_secret_name(k) else v) for k, v in parse_qsl(parts.query, True)]
    return f"{parts.path}?{urlencode(query)}"


def _body_value(body: bytes) -> Any:
    """The request body as stored: parsed JSON when it is JSON, else text."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def _key(method: str, path: str, body: Any) -> str:
    return f"{method.upper()} {path} {json.dumps(body, sort_keys=True, separators=(',', ':'))}"


class Cassette:
    """The interactions of one cassette file, loaded and saved with PyYAML.

    :param path: the YAML file (created on the first recording).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.interactions: list[dict[str, Any]] = []
        self.misses: list[str] = []
        """What replaying found no recording of (``METHOD path``), in order."""
        self._uses: dict[str, int] = {}
        self._lock = threading.Lock()
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cassette {self.path}: cannot be read: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != CASSETTE_VERSION:
            found = data.get("version") if isinstance(data, dict) else None
            raise ConfigError(
                f"cassette {self.path}: expected 'version: {CASSETTE_VERSION}' at the top, "
                f"got {found!r}"
            )
        interactions = data.get("interactions") or []
        if not isinstance(interactions, list) or not all(
            isinstance(i, dict) and isinstance(i.get("request"), dict) for i in interactions
        ):
            raise ConfigError(f"cassette {self.path}: 'interactions' must be a list of mappings")
        self.interactions = interactions

    def save(self) -> None:
        """Write the file (atomically: a reader never sees half of it)."""
        data = {"version": CASSETTE_VERSION, "interactions": self.interactions}
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(self.path.suffix + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.path)

    def record(
        self, request: Request, status: int, headers: list[tuple[str, str]], **body: Any
    ) -> None:
        """Add one interaction and save; ``body`` is ``body=TEXT`` or ``events=[FRAME...]``."""
        kept = [
            [name, _MASK if is_secret_name(name) else value]
            for name, value in headers
            if name.lower() not in _DROPPED_HEADERS
        ]
        entry = {
            "request": {
                "method": request.method,
                "path": _scrub_path(request.path),
                "body": _body_value(request.body),
            },
            "response": {"status": status, "headers": kept, **body},
        }
        with self._lock:
            self.interactions.append(entry)
            self.save()

    def find(self, request: Request) -> dict[str, Any]:
        """The recorded answer to ``request``: identical requests replay their recordings in
        order, the last one again after that. :class:`CassetteMiss` when none matches."""
        path, body = _scrub_path(request.path), _body_value(request.body)
        wanted = _key(request.method, path, body)
        with self._lock:
            found = [
                i["response"]
                for i in self.interactions
                if _key(i["request"]["method"], i["request"]["path"], i["request"].get("body"))
                == wanted
            ]
            if not found:
                self.misses.append(f"{request.method} {path}")
                raise CassetteMiss(
                    f"cassette {self.path} has no recording of {request.method} {path} "
                    f"(body {json.dumps(body)[:120]}); record it by running once in record "
                    "mode against the real provider: `llm-chaos cassette record`, "
                    "Target(cassette=..., record=True), chaos.cassette(..., record=True) or "
                    "'record: true' on the profile's target, with its upstream URL and network "
                    "access allowed (keys come from the environment and are never written)"
                )
            use = self._uses.get(wanted, 0)
            self._uses[wanted] = use + 1
            return dict(found[min(use, len(found) - 1)])


async def _replay(frames: list[str]) -> AsyncIterator[bytes]:
    for frame in frames:
        yield frame.encode()


class CassetteUpstream:
    """Answers from a cassette, offline; a request it has no recording of fails clearly."""

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self.description = f"cassette {cassette.path}"

    async def __call__(self, request: Request) -> Response:
        answer = self.cassette.find(request)
        headers = [(str(k), str(v)) for k, v in answer.get("headers") or []]
        events = answer.get("events")
        if events is not None:
            return Response(int(answer["status"]), headers, events=_replay(list(events)))
        return Response(int(answer["status"]), headers, str(answer.get("body", "")).encode())

    async def aclose(self) -> None:
        """Nothing to release."""


class RecordingUpstream:
    """Forwards to the real upstream and records every answer into a cassette.

    :param inner: the forwarding upstream (``HttpUpstream``).
    :param cassette: where answers are recorded.
    """

    def __init__(self, inner: Callable[[Request], Awaitable[Response]], cassette: Cassette) -> None:
        self._inner = inner
        self.cassette = cassette
        self.description = (
            f"{getattr(inner, 'description', 'upstream')} (recording to {cassette.path})"
        )

    async def __call__(self, request: Request) -> Response:
        response = await self._inner(request)
        if response.events is None:
            text = response.body.decode("utf-8", "replace")
            self.cassette.record(request, response.status, response.headers, body=text)
            return response
        frames = [frame async for frame in response.events]
        texts = [frame.decode("utf-8", "replace") for frame in frames]
        self.cassette.record(request, response.status, response.headers, events=texts)
        return Response(response.status, response.headers, events=_replay(texts))

    async def aclose(self) -> None:
        """Close the forwarding upstream."""
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()
