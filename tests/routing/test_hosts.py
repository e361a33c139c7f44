"""Which hosts the guard treats as providers', and which test modules route early."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.routing._env import uses_chaos
from chaos.routing._guard import is_provider_host


@pytest.mark.parametrize(
    "host",
    [
        "api.anthropic.com",
        "API.OpenAI.com.",
        "generativelanguage.googleapis.com",
        "my-resource.openai.azure.com",
        "my-resource.cognitiveservices.azure.com",
        "my-project.services.ai.azure.com",
        "bedrock-runtime.us-east-1.amazonaws.com",
        "bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
        "aiplatform.googleapis.com",
        "us-central1-aiplatform.googleapis.com",
    ],
)
def test_provider_hosts(host: str) -> None:
    assert is_provider_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "api.anthropic.com.example.org",
        "anthropic.com",
        "s3.amazonaws.com",
        "storage.googleapis.com",
        "db.internal",
        "127.0.0.1",
    ],
)
def test_other_hosts(host: str) -> None:
    assert not is_provider_host(host)


@pytest.mark.parametrize(
    ("source", "uses"),
    [
        ("def test_a(chaos):\n    pass\n", True),
        ("def test_a(\n    tmp_path,\n    chaos: ChaosFixture,\n):\n    pass\n", True),
        ("@pytest.mark.chaos(profile='blackout')\ndef test_a(): pass\n", True),
        ("pytestmark = pytest.mark.chaos\n", True),
        ("@pytest.mark.usefixtures('tmp_path', 'chaos')\ndef test_a(): pass\n", True),
        ("from chaos import Harness\n\ndef test_a(tmp_path):\n    Harness()\n", False),
        ("def test_a(chaos_profile_dir):\n    pass\n", False),
        # a pytester source, in a string: not this module's use
        ("def test_a(pytester):\n    pytester.makepyfile('def test_b(chaos): pass')\n", False),
        ("def test_a(chaos):\n    pass\n(", False),  # not Python: pytest reports it
    ],
)
def test_which_modules_use_chaos(tmp_path: Path, source: str, uses: bool) -> None:
    path = tmp_path / "test_x.py"
    path.write_text(source)
    assert uses_chaos(path) is uses
