"""The pytest plugin (``pytest11`` entry point ``llm_chaos``).

It decides; the heavy parts load lazily, only when a collected test uses the
``chaos`` fixture.
"""

from __future__ import annotations
