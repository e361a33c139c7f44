"""The registries that meet by a string agree: fault action kinds and their executors,
toxic types and their attributes (defined once, by the embedded Toxiproxy)."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
import typing

import pytest

from chaos.faults import ACTIONS, NetworkAction
from chaos.faults._executors import check_executors
from chaos.faults.network import TOXICS
from chaos.gateway._actions import APPLIERS
from chaos.harness._executors import EXECUTES as NETWORK_EXECUTES
from chaos.toxiproxy import ToxiproxyClient
from chaos.toxiproxy._toxics import TOXICS as EMBEDDED_TOXICS

EXECUTORS = {"http": set(APPLIERS), "network": set(NETWORK_EXECUTES)}


@pytest.mark.parametrize("kind", sorted(ACTIONS))
def test_every_action_kind_has_exactly_one_executor_of_its_layer(kind: str) -> None:
    executed_by = [layer for layer, kinds in EXECUTORS.items() if kind in kinds]
    assert executed_by == [ACTIONS[kind].layer]


def test_every_executor_executes_a_registered_action_kind() -> None:
    for layer, kinds in EXECUTORS.items():
        for kind in kinds:
            assert kind in ACTIONS, (layer, kind)
            assert ACTIONS[kind].layer == layer, kind
    assert set(APPLIERS).isdisjoint(NETWORK_EXECUTES)


@pytest.mark.parametrize("kind", sorted(APPLIERS))
def test_each_applier_is_registered_by_and_typed_with_the_action_class_it_applies(
    kind: str,
) -> None:
    applier = type(APPLIERS[kind])
    (applied,) = typing.get_args(applier.__orig_bases__[0])  # type: ignore[attr-defined]
    assert applied is ACTIONS[kind]  # Applier[ErrorAction]: the class, not a string
    assert applier.kind == kind
    generic = {p.__name__ for base in applier.__mro__ for p in getattr(base, "__parameters__", ())}
    for method in (applier.start, applier.check):
        # the action is typed as that class (or the generic base's type variable), not Any
        assert inspect.get_annotations(method)["action"] in {applied.__name__, *generic}


def test_a_second_applier_for_an_applied_action_is_refused() -> None:
    from chaos.faults import ErrorAction
    from chaos.gateway._actions import Applier

    with pytest.raises(TypeError, match="an applier for 'error' is already registered"):

        class Again(Applier[ErrorAction]):
            pass


def test_the_check_names_a_kind_without_executor_and_an_executor_without_kind() -> None:
    with pytest.raises(TypeError) as caught:
        check_executors("http", (set(APPLIERS) - {"delay"}) | {"dealy"}, "somewhere")
    assert str(caught.value) == (
        "somewhere: no executor for the http action kind(s) delay; executors for dealy, "
        "not http action kinds of chaos.faults.ACTIONS (those are: "
        + ", ".join(sorted(APPLIERS))
        + ")"
    )
    check_executors("network", NETWORK_EXECUTES, "the plane")  # agrees: no error


def test_a_new_action_kind_without_an_applier_fails_the_gateway_at_import() -> None:
    # a fresh interpreter: registering a kind cannot be undone in this one
    code = textwrap.dedent(
        """
        from dataclasses import dataclass
        from chaos.faults import Action

        @dataclass(frozen=True)
        class ShoutAction(Action):
            kind = "shout"

        import chaos.gateway
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert (
        "TypeError: chaos.gateway._actions: no executor for the http action kind(s) shout"
        in result.stderr
    )


def test_toxic_attributes_are_the_embedded_toxiproxys() -> None:
    expected = {name: tuple(toxic.attributes) for name, toxic in EMBEDDED_TOXICS.items()}
    assert dict(TOXICS) == {**expected, "down": ()}
    assert "packet_loss" in TOXICS


def test_the_fault_model_does_not_import_the_toxiproxy_server() -> None:
    code = (
        "import sys, chaos.faults, chaos.profiles; "
        "print(sorted(m for m in sys.modules if m.startswith('chaos.toxiproxy')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("documented", "field"),
    [(ToxiproxyClient.add_toxic, "type"), (NetworkAction, "toxic")],
    ids=["add_toxic", "NetworkAction"],
)
def test_the_docs_name_every_toxic_type(documented: object, field: str) -> None:
    doc = inspect.getdoc(documented) or ""
    param = re.search(rf":param {field}:(.*?)(?=\n:|\Z)", doc, re.DOTALL)
    assert param is not None
    named = set(re.findall(r"``(\w+)``", param.group(1)))
    assert set(EMBEDDED_TOXICS) <= named
