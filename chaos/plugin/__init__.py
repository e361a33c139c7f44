"""The pytest plugin (``pytest11`` entry point ``llm_chaos``).

It decides; the heavy parts (the harness, gateway, Toxiproxy, providers) load
lazily, only when a test uses the harness. A test uses it when it requests
the ``chaos`` fixture, carries the ``chaos`` marker, or when the run was
started with ``--chaos-profile-all``.

One harness per session (per xdist worker: its own ports and proxy names),
started on first use and stopped at the end of the session. Every chaos test
ends with a reset, so no fault leaks into the next test, pass or fail.
User guide: docs/plugin.md.

This module is what pytest registers: it hands on the hooks and fixtures of the
plugin's parts, one concern each:

- ``_hooks``: options, ini, marker and hookspecs, the report header, routing while
  the test modules are imported, one run per profile, the built-in reporter;
- ``_marker``: the ``chaos`` marker's signature, help and binding;
- ``_session``: session and test state, settings through the precedence rule,
  starting the session's harness;
- ``_fixtures``: ``chaos`` and the fixtures around it; ``_fixture``: the scope
  over a harness and the :class:`~chaos.ChaosFixture` it yields;
- ``_checks``: after the test body (bypass, strictness, :class:`ChaosWarning`);
- ``_summary``: the terminal summary.
"""

from chaos.plugin._checks import ChaosWarning
from chaos.plugin._checks import pytest_runtest_call as pytest_runtest_call
from chaos.plugin._checks import pytest_runtest_makereport as pytest_runtest_makereport
from chaos.plugin._fixtures import _llm_chaos as _llm_chaos
from chaos.plugin._fixtures import _llm_chaos_harness as _llm_chaos_harness
from chaos.plugin._fixtures import chaos as chaos
from chaos.plugin._fixtures import chaos_config as chaos_config
from chaos.plugin._fixtures import chaos_profile_dir as chaos_profile_dir
from chaos.plugin._hooks import pytest_addhooks as pytest_addhooks
from chaos.plugin._hooks import pytest_addoption as pytest_addoption
from chaos.plugin._hooks import pytest_chaos_make_reporter as pytest_chaos_make_reporter
from chaos.plugin._hooks import pytest_collection_finish as pytest_collection_finish
from chaos.plugin._hooks import pytest_configure as pytest_configure
from chaos.plugin._hooks import pytest_generate_tests as pytest_generate_tests
from chaos.plugin._hooks import pytest_pycollect_makemodule as pytest_pycollect_makemodule
from chaos.plugin._hooks import pytest_report_header as pytest_report_header
from chaos.plugin._hooks import pytest_unconfigure as pytest_unconfigure
from chaos.plugin._marker import MARKER_HELP, MarkerOptions, marker_options

__all__ = ["MARKER_HELP", "ChaosWarning", "MarkerOptions", "marker_options"]
