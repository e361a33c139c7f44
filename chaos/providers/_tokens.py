"""Tokens and ids: how every dialect cuts text into the pieces a stream emits, counts them,
and stamps its answers.

:func:`tokenize` cuts text into the pieces a stream emits (their concatenation is
the text), and :func:`count_tokens` counts them, so usage adds up across endpoints
(``count_tokens`` == ``usage.input_tokens``; ``output_tokens`` == pieces sent).
The ids are the provider-shaped ones the dialects send (``msg_``, ``req_``, ``cf-ray``).

Both the dialects (rendering) and the fakes (answering, through
:mod:`chaos.providers._fake`) use this module; its names and results are stable.
"""

from __future__ import annotations

import hashlib
import os
import random
import re

__all__ = [
    "count_tokens",
    "limit_tokens",
    "random_hex",
    "random_id",
    "stable_id",
    "tokenize",
]

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+$")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def tokenize(text: str) -> list[str]:
    """Cut ``text`` into tokens: a word or one punctuation mark, with the whitespace before it.

    ``"".join(tokenize(text)) == text`` for every ``text``.
    """
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:  # characters outside \w\s (none in practice), keep it exact
        return [text] if text else []
    return tokens


def count_tokens(text: str) -> int:
    """The number of :func:`tokenize` tokens in ``text``."""
    return len(tokenize(text))


def limit_tokens(text: str, max_tokens: int | None) -> tuple[list[str], bool]:
    """The tokens of ``text``, at most ``max_tokens`` of them, and whether it was cut.

    :param max_tokens: the request's output budget; None means no limit.
    """
    tokens = tokenize(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        return tokens[: max(max_tokens, 0)], True
    return tokens, False


def _base62(digest: bytes, length: int) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(chars)


def stable_id(prefix: str, *parts: str, length: int = 24) -> str:
    """A deterministic id: ``prefix`` + ``length`` base62 characters hashed from ``parts``.

    >>> stable_id("batch_", "x") == stable_id("batch_", "x")
    True
    """
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return prefix + _base62(digest, length)


# Fake ids need to be unique, not secret: a generator seeded from the OS once (and again in
# a forked child) costs no system call per id, which the per-request path notices.
_ids = random.Random(os.urandom(32))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))
_TO_BASE62 = bytes(ord(_BASE62[i % 62]) for i in range(256))


def random_id(prefix: str, length: int = 24) -> str:
    """A fresh random id: ``prefix`` + ``length`` base62 characters (``msg_``, ``req_``...)."""
    return prefix + _ids.randbytes(length).translate(_TO_BASE62).decode()


def random_hex(nbytes: int) -> str:
    """``nbytes`` fresh random bytes as lower-case hex (``cf-ray``-style ids)."""
    return _ids.randbytes(nbytes).hex()
