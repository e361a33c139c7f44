"""The ``llm-chaos`` command: thin verbs over the harness.

Each verb lives in its own module under ``chaos/cli/_commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
function taking the parsed arguments and returning the exit code. Verbs are
imported only when listed, so ``llm-chaos --help`` stays fast. The two verbs
with logic of their own keep it beside them: :mod:`chaos.cli.gate` (``run``, the
CI gate) and :mod:`chaos.cli.demo` (``demo``, the outage replayed against the
example apps); everything else the verbs do is the library's.

Exit codes: 0 success, 1 a check failed, 2 bad input (a message names what and
where; never a traceback), 130 interrupted.
"""

from __future__ import annotations

from chaos.cli._main import main

__all__ = ["main"]
