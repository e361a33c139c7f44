"""Finding profiles by name: the built-ins, ``$LLM_CHAOS_PROFILES_DIRS`` and given folders."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path as FsPath

from chaos._errors import ProfileError, did_you_mean
from chaos.faults._problems import choices_text
from chaos.profiles._yaml import read_yaml

__all__ = [
    "ENV_DIRS",
    "SUFFIXES",
    "ProfileInfo",
    "builtin_dir",
    "find_profiles",
    "profile_dirs",
    "profile_label",
    "resolve_profile",
]

ENV_DIRS = "LLM_CHAOS_PROFILES_DIRS"
"""Environment variable: extra profile folders, separated by ``os.pathsep``."""

SUFFIXES: tuple[str, ...] = (".yaml", ".yml")


def builtin_dir() -> FsPath:
    """The folder of the built-in profiles: in the installed wheel, or the checkout's."""
    shipped = resources.files("chaos").joinpath("fault_profiles")
    if shipped.is_dir():
        return FsPath(str(shipped))
    return FsPath(__file__).resolve().parents[2] / "fault_profiles"


def profile_label(name_or_path: str | os.PathLike[str]) -> str:
    """How a message names a profile: a built-in by its name (``provider-down``), not by
    its install path (``.../site-packages/chaos/fault_profiles/provider-down.yaml``); any
    other name or file as given."""
    text = os.fspath(name_or_path)
    path = FsPath(text)
    if path.suffix in SUFFIXES and path.parent.resolve() == builtin_dir().resolve():
        return path.stem
    return text


def profile_dirs(dirs: Sequence[str | os.PathLike[str]] = ()) -> list[FsPath]:
    """Where profiles are looked up by name, in order: ``dirs``, ``$LLM_CHAOS_PROFILES_DIRS``,
    then the built-ins."""
    found = [FsPath(d) for d in dirs]
    found += [FsPath(d) for d in os.environ.get(ENV_DIRS, "").split(os.pathsep) if d.strip()]
    found.append(builtin_dir())
    return found


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """A profile file as ``llm-chaos profiles list`` shows it (read, not validated).

    :param name: the name to load it by (its file name without ``.yaml``).
    :param title: its ``title``, or an empty string if unreadable.
    :param source: its ``source``.
    :param path: the file.
    :param origin: ``built-in`` or ``user``.
    """

    name: str
    title: str
    source: str
    path: FsPath
    origin: str


def find_profiles(dirs: Sequence[str | os.PathLike[str]] = ()) -> list[ProfileInfo]:
    """Every profile reachable by name (first folder wins for a name), sorted by name."""
    seen: dict[str, ProfileInfo] = {}
    builtin = builtin_dir().resolve()
    for folder in profile_dirs(dirs):
        if not folder.is_dir():
            continue
        origin = "built-in" if folder.resolve() == builtin else "user"
        for path in sorted(folder.iterdir()):
            if path.suffix not in SUFFIXES or path.stem in seen:
                continue
            title = source = ""
            try:
                data = read_yaml(path.read_text(encoding="utf-8"), str(path)).data
            except (ProfileError, OSError, UnicodeDecodeError):
                data = None
            if isinstance(data, Mapping):
                title = str(data.get("title", ""))
                source = str(data.get("source", ""))
            else:
                title = "(unreadable: see llm-chaos profiles validate)"
            seen[path.stem] = ProfileInfo(path.stem, title, source, path, origin)
    return [seen[name] for name in sorted(seen)]


def resolve_profile(
    name_or_path: str | os.PathLike[str],
    *,
    dirs: Sequence[str | os.PathLike[str]] = (),
    relative_to: FsPath | None = None,
) -> FsPath:
    """The file for a profile name (looked up in :func:`profile_dirs`) or a path.

    :raises chaos.ProfileError: nothing by that name; the message lists the known names.
    """
    text = os.fspath(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, os.PathLike)
        or "/" in text
        or os.sep in text
        or text.endswith(SUFFIXES)
    )
    if looks_like_path:
        path = FsPath(text).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise ProfileError(f"{text}: no such profile file ({path})")
        return path
    for folder in profile_dirs(dirs):
        for suffix in SUFFIXES:
            candidate = folder / f"{text}{suffix}"
            if candidate.is_file():
                return candidate
    known = [info.name for info in find_profiles(dirs)]
    folders = ", ".join(str(d) for d in profile_dirs(dirs))
    raise ProfileError(
        f"no profile named {text!r} (looked in {folders}); known profiles: "
        f"{choices_text(known)}{did_you_mean(text, known)}"
    )
