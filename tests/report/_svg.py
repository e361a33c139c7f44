"""Reading a timeline SVG in tests: its groups by class and the text a reader sees."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"


def read(path: Path) -> ET.Element:
    """The parsed SVG document at ``path``."""
    root = ET.fromstring(path.read_bytes())
    assert root.tag == f"{SVG}svg"
    return root


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    """Every ``<g>`` of class ``cls``."""
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def visible_text(root: ET.Element) -> list[str]:
    """The ``<text>`` elements' contents: what shows without hovering (titles excluded)."""
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def tick_labels(root: ET.Element) -> list[str]:
    """The time axis's tick labels, left to right."""
    (axis,) = groups(root, "axis")
    return [t.text or "" for t in axis.iter(f"{SVG}text")][:-1]  # the last one names the unit
