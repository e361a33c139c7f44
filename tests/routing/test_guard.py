"""The guard and import-time clients: nothing reaches a provider's host from a chaos test.

No real provider is reachable here, so each inner run's conftest stands a resolver in for
DNS (the one part that cannot run here): provider names and ``*.example.internal``
resolve to a loopback sentinel, and every lookup is counted. The guard wraps that
resolver, so a refusal "before any lookup" shows as a count of zero, and a run with
``--chaos-allow-network`` shows what would have left without the guard.
"""

from __future__ import annotations

import pytest

from tests.routing._sentinel import Sentinel, sentinel
from tests.routing.test_variables import REAL, clean_env

pytest.importorskip("anthropic")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sdk,
]  # the guard must hold at the lowest supported SDKs too

RESOLVER = """
import os
import socket

_lookup = socket.getaddrinfo
LOOKUPS = []
STAND_INS = ("api.anthropic.com", "api.openai.com", ".example.internal")


def _resolver(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name and name.endswith(STAND_INS):
        LOOKUPS.append(name)
        return _lookup("127.0.0.1", int(os.environ["SENTINEL_PORT"]), *args, **kwargs)
    return _lookup(host, port, *args, **kwargs)


socket.getaddrinfo = _resolver


def pytest_sessionfinish(session):
    with open("lookups.txt", "w") as f:
        f.write("\\n".join(LOOKUPS))
"""


@pytest.fixture
def stand_in(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    """A sentinel standing in for the provider, a real-looking key in the environment."""
    clean_env(monkeypatch)
    monkeypatch.setenv("ANTHROPIC_API_KEY", REAL["ANTHROPIC_API_KEY"])
    with sentinel() as s:
        monkeypatch.setenv("SENTINEL_PORT", str(s.port))
        pytester.makeconftest(RESOLVER)
        yield s


def lookups(pytester: pytest.Pytester) -> list[str]:
    return [x for x in (pytester.path / "lookups.txt").read_text().split("\n") if x]


APP = """
import anthropic

# built at import, before any fixture: the most common pattern
claude = anthropic.Anthropic(max_retries=0)


def ask(client=claude):
    return client.messages.create(
        model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
    )
"""


def test_a_client_built_at_import_reaches_the_harness(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        f"""
        import os
        from app import ask, claude

        def test_import_time_client(chaos):
            ask()
            assert [r.target for r in chaos.journal] == ["anthropic"]
            assert claude.api_key != {REAL["ANTHROPIC_API_KEY"]!r}

        def test_an_ordinary_test_sees_its_own_environment():
            assert os.environ["ANTHROPIC_API_KEY"] == {REAL["ANTHROPIC_API_KEY"]!r}
            assert "ANTHROPIC_BASE_URL" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert stand_in.connections == 0
    assert lookups(pytester) == []


BYPASS = """
import pytest
import anthropic
from app import ask

# built with the provider's URL: routing cannot reach it, the guard must
direct = anthropic.Anthropic(base_url="https://api.anthropic.com", max_retries=0)

def test_explicit_url(chaos):
    with pytest.raises(anthropic.APIConnectionError):  # the app swallows the failure
        ask(direct)
"""


def test_a_client_with_the_providers_url_is_refused_before_any_lookup(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    pytester.makepyfile(app=APP, test_bypass=BYPASS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*llm-chaos: anthropic.*Anthropic (base_url https://api.anthropic.com*), built at "
            "*test_bypass.py:6 (<module>), bypassed the harness: it connected to "
            "api.anthropic.com:443, called from *app.py:*(ask); "
            "refused before any DNS lookup or byte was sent.*base_url=chaos.endpoints?'anthropic'?*"
            "--chaos-allow-network*"
        ]
    )
    assert lookups(pytester) == []
    assert stand_in.connections == 0


def test_with_allow_network_the_guard_lets_it_through(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    pytester.makepyfile(app=APP, test_bypass=BYPASS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--chaos-allow-network")
    result.assert_outcomes(passed=1)
    # not refused by the guard: looked up, and it reached the stand-in's address
    assert lookups(pytester) == ["api.anthropic.com"]
    assert stand_in.connections == 1


def test_a_client_built_by_a_conftest_is_caught_by_the_guard(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    # a conftest imports the app before any test module: not routed, so refused
    pytester.makepyfile(app=APP)
    (pytester.path / "conftest.py").write_text(RESOLVER + "\nimport app  # noqa\n")
    pytester.makepyfile(
        """
        from app import ask

        def test_it(chaos):
            ask()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bypassed the harness: it connected to api.anthropic.com:443*"])
    assert lookups(pytester) == []
    assert stand_in.connections == 0


SOCKETS = """
import os
import socket

def test_db(chaos):
    with socket.create_connection(("db.example.internal", 5432), timeout=5):
        pass
"""


def test_other_hosts_are_allowed_and_listed_and_sealed_refused(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    pytester.makepyfile(test_db=SOCKETS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "other connections during chaos tests (allowed; --chaos-seal refuses them): "
            "db.example.internal:5432 (1)"
        ]
    )
    assert lookups(pytester) == ["db.example.internal"]

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--chaos-seal")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*connected to db.example.internal:5432, called from *test_db.py:*(test_db), "
            "refused before any DNS lookup or byte was sent: the test process is sealed*"
        ]
    )
    assert lookups(pytester) == []
    assert stand_in.connections == 1  # the first run's, none from the sealed one


def test_an_async_client_is_refused_too(pytester: pytest.Pytester, stand_in: Sentinel) -> None:
    # the async SDKs resolve through the event loop (in a worker thread): still refused
    pytester.makepyfile(
        """
        import asyncio
        import anthropic

        def test_async(chaos):
            client = anthropic.AsyncAnthropic(base_url="https://api.anthropic.com", max_retries=0)
            asyncio.run(client.messages.create(
                model="claude-sonnet-4-6", max_tokens=16,
                messages=[{"role": "user", "content": "hi"}],
            ))
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*bypassed the harness: it connected to api.anthropic.com:443*"])
    assert lookups(pytester) == []
    assert stand_in.connections == 0


def test_under_profile_all_an_ordinary_suite_is_routed_at_import(
    pytester: pytest.Pytester, stand_in: Sentinel
) -> None:
    # the module never names chaos: --chaos-profile-all makes every test a chaos test
    pytester.makepyfile(app=APP)
    pytester.makepyfile("from app import ask\n\ndef test_it():\n    ask()\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--chaos-profile-all")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["  anthropic: 1 calls, 1 attempts*"])
    assert lookups(pytester) == []
    assert stand_in.connections == 0
