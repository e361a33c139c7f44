"""The dialect contract: how one provider speaks, and the fake that speaks it.

A dialect knows its operations (``messages.create`` -> ``POST /v1/messages``),
how to tell a streaming request, its error catalogue (fault kind -> exact
status, headers and body bytes), its SSE framing and in-stream errors, and how
an answer is rendered into the provider's bytes. Dialects register by ``name``.

A fake (:class:`Fake`) is the provider's server, built on its dialect: it validates
requests, decides the answers (echo, tools, scripted replies), keeps batches and
files, and has the dialect render every byte. Fakes register under the ``name`` of
the dialect they speak; :meth:`Dialect.serve` hands a request to that fake, so a
dialect never imports its fake.

The gateway talks to dialects only through :class:`Request`, :class:`Response`
and the methods below, so a new provider is one new package: ``_dialect.py`` and
``_fake.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

from chaos._errors import ConfigError, did_you_mean
from chaos.providers._conversation import Question
from chaos.providers._replies import ReplyBook

__all__ = [
    "DIALECTS",
    "FAKES",
    "CallInfo",
    "Dialect",
    "Fake",
    "Operation",
    "Request",
    "Response",
    "unknown_choice",
]

_DIALECTS: dict[str, type[Dialect]] = {}
DIALECTS: Mapping[str, type[Dialect]] = MappingProxyType(_DIALECTS)
"""Every registered dialect class, by name."""

_FAKES: dict[str, type[Fake[Any]]] = {}
FAKES: Mapping[str, type[Fake[Any]]] = MappingProxyType(_FAKES)
"""Every registered fake provider class, by the name of the dialect it speaks."""

_T = TypeVar("_T")


def _register(registry: dict[str, type[_T]], what: str, cls: type[_T]) -> None:
    """Register ``cls`` under the ``name`` it sets itself (a subclass that inherits one
    does not register)."""
    name = cls.__dict__.get("name")
    if name is None:
        return
    if name in registry:
        raise TypeError(f"{what} {name!r} is already registered by {registry[name]}")
    registry[name] = cls


@dataclass(frozen=True, slots=True)
class Operation:
    """One API method of a provider.

    :param name: the SDK-style name, e.g. ``messages.create``.
    :param method: the HTTP method.
    :param path: the path pattern, ``{name}`` for one segment, e.g. ``/v1/models/{model_id}``.
    :param streams: whether the operation can stream.
    """

    name: str
    method: str
    path: str
    streams: bool = False


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What a dialect reads from a request: its operation, stream flag and model."""

    operation: str | None
    stream: bool
    model: str | None


@dataclass(slots=True)
class Request:
    """An HTTP request as the gateway received it.

    :param method: upper-case HTTP method.
    :param path: the request target, query string included.
    :param headers: header pairs in arrival order, names as sent.
    :param body: the complete request body.
    """

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(slots=True)
class Response:
    """An HTTP response a dialect (or a fault) produces.

    Exactly one of ``body`` and ``events`` carries the payload: ``events`` is an
    SSE stream, each item one complete event frame including its terminating
    blank line, so the gateway can count, cut, delay or replace events.

    :param status: the HTTP status code.
    :param headers: header pairs, in the order to send them.
    :param body: the complete body of a non-streaming answer.
    :param events: the frames of a streaming answer.
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    events: AsyncIterator[bytes] | None = None


class Dialect:
    """Base of every provider dialect; subclasses register under their ``name``.

    Subclasses set the class attributes and implement the methods below.
    """

    name: ClassVar[str]
    operations: ClassVar[tuple[Operation, ...]]
    auth_headers: ClassVar[tuple[str, ...]]
    request_id_header: ClassVar[str]
    host: ClassVar[str]
    """The provider's public API host, named by edge pages (``api.anthropic.com``)."""
    env: ClassVar[Mapping[str, str]]
    """Environment variables that route the official SDKs and the frameworks to a base
    URL: variable -> value template, ``{url}`` being the chaos endpoint; dummy keys too.
    docs/routing.md names the library that reads each one."""
    env_unset: ClassVar[tuple[str, ...]] = ()
    """Variables removed while routing: a second credential the SDK would send or warn
    about (``ANTHROPIC_AUTH_TOKEN``, ``GEMINI_API_KEY``), a switch that sends the SDK
    elsewhere (``GOOGLE_GENAI_USE_VERTEXAI``)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _register(_DIALECTS, "dialect", cls)

    def identify(self, method: str, path: str, body: bytes) -> CallInfo:
        """Tell which operation a request is, whether it streams, and its model."""
        raise NotImplementedError

    def question(self, info: CallInfo, body: bytes) -> Question | None:
        """The question a request asks, normalised across dialects (its conversation, not
        its model, stream flag or limits), or None for an operation that asks none
        (``models.list``) or a body the dialect cannot read. See
        :mod:`chaos.providers._conversation`."""
        return None

    def error(
        self,
        kind: str,
        *,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        should_retry: bool | None = None,
        message: str | None = None,
    ) -> Response:
        """The provider's exact error answer for fault ``kind`` (see ``error_kinds``)."""
        raise NotImplementedError

    def error_kinds(self) -> tuple[str, ...]:
        """Every fault kind :meth:`error` can render."""
        raise NotImplementedError

    def stream_error(
        self, kind: str, *, operation: str | None, message: str | None = None
    ) -> bytes:
        """The in-stream error frame(s) the provider sends after a 200 for ``kind``."""
        raise NotImplementedError

    def is_terminal_event(self, frame: bytes, *, operation: str | None) -> bool:
        """Whether ``frame`` is the stream's terminal event (``message_stop``, ``[DONE]``, ...)."""
        raise NotImplementedError

    def is_closing_event(self, frame: bytes, *, operation: str | None) -> bool:
        """Whether ``frame`` starts the stream's ending: the first event after the content.

        A stream that ends cleanly before this event is what a real truncation
        looks like to the SDK (``end_early``): for Anthropic ``message_delta``
        (which carries ``stop_reason``), for OpenAI chat the ``finish_reason``
        chunk. Defaults to :meth:`is_terminal_event`.
        """
        return self.is_terminal_event(frame, operation=operation)

    async def serve(self, request: Request) -> Response:
        """Answer ``request`` as the fake provider: deterministic, offline, validated.

        The fake registered under this dialect's name (see :data:`FAKES`) answers.
        """
        return await self.fake.serve(request)

    @property
    def fake(self) -> Fake[Any]:
        """This dialect's fake provider (made on first use; one per dialect instance).

        :raises NotImplementedError: no fake is registered for the dialect's name.
        """
        fake = self.__dict__.get("_fake_provider")
        if fake is None:
            cls = _FAKES.get(self.name)
            if cls is None:
                raise NotImplementedError(f"no fake provider registered for dialect {self.name!r}")
            fake = self.__dict__.setdefault("_fake_provider", cls(self))
        assert isinstance(fake, Fake)
        return fake

    @property
    def replies(self) -> ReplyBook:
        """The scripted replies the fake answers with before its default echo."""
        book = self.__dict__.get("_reply_book")
        if book is None:
            book = self.__dict__.setdefault("_reply_book", ReplyBook())
        assert isinstance(book, ReplyBook)
        return book


D = TypeVar("D", bound=Dialect)


class Fake(Generic[D]):
    """Base of every fake provider: the provider's server, built on its dialect.

    Subclasses set ``name`` to the name of the dialect they speak (they register
    under it, see :data:`FAKES`) and implement :meth:`serve`; every byte they send
    is rendered by :attr:`dialect`.

    :param dialect: the dialect instance the fake speaks: its options and its
        scripted replies.
    """

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _register(_FAKES, "fake", cls)

    def __init__(self, dialect: D) -> None:
        self.dialect = dialect

    async def serve(self, request: Request) -> Response:
        """Answer ``request`` as the provider would: deterministic, offline, validated."""
        raise NotImplementedError


def unknown_choice(what: str, name: str, choices: Iterable[str]) -> ConfigError:
    """A :class:`ConfigError` for an unknown ``name``, listing the valid ``choices``.

    The closest choice, if any is close, is suggested first::

        unknown error kind 'overload' (did you mean 'overloaded'?); valid: bad_request, ...

    :param what: what the name names, e.g. ``"error kind for dialect 'anthropic'"``.
    """
    valid = sorted(choices)
    hint = did_you_mean(name, valid, parens=True)
    return ConfigError(f"unknown {what} {name!r}{hint}; valid: {', '.join(valid)}")
