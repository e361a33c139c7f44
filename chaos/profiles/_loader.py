"""Finding, reading and validating profiles: every problem reported, with file:line:column.

Loading happens in passes, so that nothing is half-checked: read every file
of the profile (the named one, what it ``extends`` and what it ``include``\\ s),
merge the parameters and substitute ``${name}`` references, merge the targets,
then check every phase and fault against the merged targets. All problems of
all files are gathered into one :class:`~chaos.ProfileError`.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path as FsPath
from typing import Any, cast

from chaos._errors import ConfigError, ProfileError, did_you_mean
from chaos.faults import Fault, NetworkAction
from chaos.faults._parse import parse_fault_into
from chaos.faults._problems import Path, Problems, choices_text, unknown
from chaos.profiles._duration import format_duration, parse_duration
from chaos.profiles._model import (
    CLOCKS,
    COUNTS,
    STARTS,
    VERSION,
    Clock,
    Count,
    Phase,
    Profile,
    Start,
    TargetSpec,
)
from chaos.profiles._yaml import Document, read_yaml
from chaos.providers._replies import Reply, parse_reply

__all__ = [
    "ENV_DIRS",
    "ProfileInfo",
    "builtin_dir",
    "find_profiles",
    "load_profile",
    "load_profile_text",
    "profile_dirs",
    "profile_label",
    "resolve_profile",
]

ENV_DIRS = "LLM_CHAOS_PROFILES_DIRS"
"""Environment variable: extra profile folders, separated by ``os.pathsep``."""

TOP_KEYS: tuple[str, ...] = (
    "version",
    "name",
    "title",
    "source",
    "description",
    "clock",
    "time_scale",
    "start",
    "hold",
    "count",
    "seed",
    "parameters",
    "extends",
    "include",
    "targets",
    "phases",
    "replies",
)
TARGET_KEYS: tuple[str, ...] = ("dialect", "upstream", "cassette", "record")
PHASE_KEYS: tuple[str, ...] = (
    "name",
    "at",
    "duration",
    "hold",
    "description",
    "ramp",
    "faults",
)
RAMP_KEYS: tuple[str, ...] = ("rate", "every")
SUFFIXES: tuple[str, ...] = (".yaml", ".yml")

# DESIGN.md's dialects, accepted even before their module registers them (they are
# being written alongside); any other name must be registered to be accepted
_PLANNED_DIALECTS = ("anthropic", "openai", "gemini")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")


# -- finding profiles ---------------------------------------------------------------------------


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


# -- loading ------------------------------------------------------------------------------------


def load_profile(
    name_or_path: str | os.PathLike[str] | Profile,
    *,
    dirs: Sequence[str | os.PathLike[str]] = (),
    params: Mapping[str, Any] | None = None,
) -> Profile:
    """Load and fully validate a profile by name (built-in or in ``dirs``) or by path.

    :param name_or_path: ``claude-2026-03-02``, ``profiles/mine.yaml``, or a Profile (returned
        as is when no ``params`` are given).
    :param dirs: extra folders to look names up in, before ``$LLM_CHAOS_PROFILES_DIRS``
        and the built-ins.
    :param params: values for the profile's ``parameters`` (e.g. ``{"rate": 0.5}``).
    :raises chaos.ProfileError: listing every problem, each with file, line, column and field.
    """
    if isinstance(name_or_path, Profile):
        if not params:
            return name_or_path
        if name_or_path.path is None:
            raise ProfileError(f"{name_or_path.name}: parameters need the profile's file")
        name_or_path = name_or_path.path
    path = resolve_profile(name_or_path, dirs=dirs)
    return _Loader(dirs).load(path, params or {})


def load_profile_text(
    text: str,
    *,
    source: str = "<string>",
    dirs: Sequence[str | os.PathLike[str]] = (),
    params: Mapping[str, Any] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> Profile:
    """Load and fully validate a profile from YAML text (``source`` names it in errors).

    :param base_dir: where relative ``extends``/``include`` paths start (default: cwd).
    """
    return _Loader(dirs).load_text(text, source, FsPath(base_dir or "."), params or {})


@dataclass
class _PhaseDraft:
    name: str
    at: float
    duration: float | None
    description: str
    faults: list[Fault]
    ramp: tuple[tuple[float, ...], float] | None
    problems: Problems
    path: Path
    hold: int | None = None


@dataclass(eq=False)
class _File:
    """One file of a profile and what it extends and includes."""

    source: str
    folder: FsPath
    doc: Document
    data: dict[str, Any]
    base: _File | None = None
    includes: list[_File] = field(default_factory=list)

    @property
    def problems(self) -> Problems:
        return self.doc.problems

    def walk(self) -> Iterator[_File]:
        yield self
        if self.base is not None:
            yield from self.base.walk()
        for included in self.includes:
            yield from included.walk()

    def merge_order(self) -> Iterator[_File]:
        """Every file in the order merged values are applied, so later ones win:
        what this file includes, then what it extends, then this file."""
        for included in self.includes:
            yield from included.merge_order()
        if self.base is not None:
            yield from self.base.merge_order()
        yield self

    def chain(self) -> Iterator[_File]:
        """This file, then what it extends, then what that extends..."""
        current: _File | None = self
        while current is not None:
            yield current
            current = current.base


class _Loader:
    def __init__(self, dirs: Sequence[str | os.PathLike[str]]) -> None:
        self.dirs = dirs
        self.loose: list[str] = []  # problems not tied to one file (load-time parameters)
        self.broken = False  # an extends/include could not be read: what it gives is unknown

    def load(self, path: FsPath, params: Mapping[str, Any]) -> Profile:
        root = self._read_file(path, ())
        return self._finish(root, params, str(path))

    def load_text(
        self, text: str, source: str, folder: FsPath, params: Mapping[str, Any]
    ) -> Profile:
        root = self._read(text, source, folder, ())
        return self._finish(root, params, None)

    # reading ---------------------------------------------------------------------------------

    def _read_file(self, path: FsPath, stack: tuple[FsPath, ...]) -> _File:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: cannot read: {exc}") from exc
        return self._read(text, str(path), path.parent, (*stack, path.resolve()))

    def _read(self, text: str, source: str, folder: FsPath, stack: tuple[FsPath, ...]) -> _File:
        doc = read_yaml(text, source)
        problems = doc.problems
        if not isinstance(doc.data, dict):
            problems.add((), "a profile must be a mapping of keys (version, name, title, ...)")
            problems.raise_if_any()
        data = cast("dict[str, Any]", doc.data)
        for key in data:
            if key not in TOP_KEYS:
                problems.add((key,), unknown("key", key, TOP_KEYS), at_key=True)
        version = data.get("version")
        if "version" not in data:
            problems.add((), f"missing 'version' (write 'version: {VERSION}' first)")
        elif version != VERSION or isinstance(version, bool):
            problems.add(
                ("version",),
                f"unsupported version {version!r}; this pytest-llm-chaos reads version {VERSION}",
            )
        file = _File(source, folder, doc, data)
        extends = data.get("extends")
        if extends is not None:
            if isinstance(extends, str):
                file.base = self._read_ref(file, extends, ("extends",), stack)
            else:
                problems.add(("extends",), f"expected a profile name or path, got {extends!r}")
        include = data.get("include")
        if include is not None:
            items = include if isinstance(include, list) else [include]
            for i, ref in enumerate(items):
                where: Path = ("include", i) if isinstance(include, list) else ("include",)
                if not isinstance(ref, str):
                    problems.add(where, f"expected a profile name or path, got {ref!r}")
                    continue
                included = self._read_ref(file, ref, where, stack)
                if included is not None:
                    file.includes.append(included)
        return file

    def _read_ref(
        self, file: _File, ref: str, where: Path, stack: tuple[FsPath, ...]
    ) -> _File | None:
        try:
            # a name is looked up next to the referring file first
            path = resolve_profile(ref, dirs=[file.folder, *self.dirs], relative_to=file.folder)
        except ProfileError as exc:
            file.problems.add(where, str(exc))
            self.broken = True
            return None
        if path.resolve() in stack:
            cycle = " -> ".join(p.stem for p in (*stack, path.resolve()))
            file.problems.add(where, f"profiles include each other in a cycle: {cycle}")
            self.broken = True
            return None
        try:
            return self._read_file(path, stack)
        except ProfileError as exc:
            file.problems.extend(exc.errors)
            self.broken = True
            return None

    # merging and checking --------------------------------------------------------------------

    def _finish(self, root: _File, overrides: Mapping[str, Any], path: str | None) -> Profile:
        files = list(root.walk())
        params = self._parameters(root, overrides)
        for file in files:
            file.data = {
                key: (
                    value
                    if key == "parameters"
                    else _substitute(file.problems, value, (key,), params)
                )
                for key, value in file.data.items()
            }
        scalars = self._scalars(root)
        clock = cast("Clock", scalars.get("clock", "requests"))
        for file in files:
            declared = file.data.get("clock")
            if declared is not None and declared != clock and file not in root.chain():
                file.problems.add(
                    ("clock",),
                    f"an included profile must use the including profile's clock ({clock})",
                )
        targets, declared = self._targets(root)
        phases = self._phases(root, targets, declared, clock, int(scalars.get("hold", 0)))
        replies = _replies(root, declared)
        top = root.problems
        if self.broken:  # what is missing may be in the file that could not be read
            top.mute(())
        for key in ("name", "title"):
            if key not in scalars:
                top.add((), f"missing {key!r}")
        if not declared:
            top.add(
                (), "missing 'targets': declare at least one (e.g. anthropic: {dialect: anthropic})"
            )
        if not phases and "phases" not in scalars:
            top.add((), "missing 'phases': a profile needs at least one phase")
        start = cast("Start", scalars.get("start", "first_request"))
        if clock == "requests":
            for key in ("time_scale", "start", "hold"):
                if key in scalars:
                    top.add((key,), "applies to the wall clock only (set clock: wall)")
        else:
            if "count" in scalars:
                top.add(("count",), "applies to the requests clock only (set clock: requests)")
            if start == "first_request":
                _check_first_request(top, phases, targets, explicit="start" in scalars)
        errors = [e for file in files for e in file.problems.in_order()] + self.loose
        if errors:
            raise ProfileError(list(dict.fromkeys(errors)))
        return Profile(
            name=str(scalars["name"]),
            title=str(scalars["title"]),
            source=str(scalars.get("source", "")),
            description=str(scalars.get("description", "")),
            clock=clock,
            time_scale=float(scalars.get("time_scale", 1.0)),
            start=start if clock == "wall" else "first_request",
            count=cast("Count", scalars.get("count", "global")),
            seed=cast("int | None", scalars.get("seed")),
            targets=targets,
            phases=phases,
            parameters=params,
            path=path,
            replies=replies,
        )

    def _parameters(self, root: _File, overrides: Mapping[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {}

        for file in root.merge_order():
            declared = file.data.get("parameters")
            if declared is None:
                continue
            if not isinstance(declared, dict):
                file.problems.add(("parameters",), "expected a mapping of name: default value")
                continue
            for name, value in declared.items():
                where: Path = ("parameters", name)
                if not _PARAM.fullmatch(name):
                    file.problems.add(where, "a parameter name is a word (letters, digits, _)")
                elif isinstance(value, dict | list) or value is None:
                    file.problems.add(where, f"a default must be a scalar, got {value!r}")
                else:
                    merged[name] = value

        for name, value in overrides.items():
            if name not in merged:
                self.loose.append(
                    f"{root.source}: parameters: {unknown('parameter', name, merged)}"
                    " (given at load time)"
                )
            else:
                merged[name] = value
        return merged

    def _scalars(self, root: _File) -> dict[str, Any]:
        """name, title, clock...: this file's, else what it extends."""
        checks: dict[str, Any] = {
            "name": _check_name,
            "title": _check_text,
            "source": _check_text,
            "description": _check_text,
            "clock": _choice(CLOCKS),
            "count": _choice(COUNTS),
            "time_scale": _check_scale,
            "start": _choice(STARTS),
            "hold": _check_hold,
            "seed": _check_seed,
        }
        result: dict[str, Any] = {}
        for file in root.walk():
            in_chain = file in root.chain()
            for key, check in checks.items():
                if key not in file.data:
                    continue
                problem = check(file.data[key])
                if problem:
                    file.problems.add((key,), problem)
                elif in_chain and key not in result:
                    result[key] = file.data[key]
        if any("phases" in f.data for f in root.chain()):
            result["phases"] = True
        return result

    def _targets(self, root: _File) -> tuple[dict[str, TargetSpec], tuple[str, ...]]:
        """The merged targets, and every declared target name (valid or not)."""
        from chaos.profiles._vocabulary import dialect_names

        dialects = dialect_names()
        merged: dict[str, TargetSpec] = {}
        names: dict[str, None] = {}

        for file in root.merge_order():
            declared = file.data.get("targets")
            if declared is None:
                continue
            if not isinstance(declared, dict):
                file.problems.add(("targets",), "expected a mapping of name: {dialect: ...}")
                continue
            for name, spec in declared.items():
                names[name] = None
                where: Path = ("targets", name)
                if not _NAME.fullmatch(name):
                    file.problems.add(where, "a target name is letters, digits, '-', '_' or '.'")
                    continue
                if not isinstance(spec, dict):
                    file.problems.add(
                        where, f"expected {{dialect: NAME, upstream: fake|URL}}, got {spec!r}"
                    )
                    continue
                ok = True
                for key in spec:
                    if key not in TARGET_KEYS:
                        file.problems.add(
                            (*where, key), unknown("key", key, TARGET_KEYS), at_key=True
                        )
                        ok = False
                dialect = spec.get("dialect")
                if not isinstance(dialect, str):
                    file.problems.add(where, "missing 'dialect' (e.g. anthropic, openai)")
                    ok = False
                elif dialect not in dialects and dialect not in _PLANNED_DIALECTS:
                    file.problems.add((*where, "dialect"), unknown("dialect", dialect, dialects))
                    ok = False
                upstream = spec.get("upstream", "fake")
                if not isinstance(upstream, str) or not (
                    upstream == "fake" or upstream.startswith(("http://", "https://"))
                ):
                    file.problems.add(
                        (*where, "upstream"), f"expected 'fake' or an http(s) URL, got {upstream!r}"
                    )
                    ok = False
                cassette = spec.get("cassette")
                if cassette is not None and (not isinstance(cassette, str) or not cassette):
                    file.problems.add(
                        (*where, "cassette"), f"expected a cassette file path, got {cassette!r}"
                    )
                    ok = False
                record = spec.get("record", False)
                if not isinstance(record, bool):
                    file.problems.add((*where, "record"), f"expected true or false, got {record!r}")
                    ok = False
                elif record and cassette is None:
                    file.problems.add(
                        (*where, "record"), "record: true needs a 'cassette' file to record into"
                    )
                    ok = False
                if ok:
                    # a relative cassette path is relative to the profile file that names it
                    found = None if cassette is None else str(file.folder / cast("str", cassette))
                    merged[name] = TargetSpec(
                        name, cast("str", dialect), upstream, cassette=found, record=record
                    )

        return merged, tuple(names)

    def _phases(
        self,
        root: _File,
        targets: Mapping[str, TargetSpec],
        declared: tuple[str, ...],
        clock: Clock,
        hold: int,
    ) -> tuple[Phase, ...]:
        dialects = {name: spec.dialect for name, spec in targets.items()}

        def own(file: _File) -> list[_PhaseDraft]:
            for link in file.chain():
                if "phases" in link.data:
                    return self._read_phases(
                        link, dialects, declared, _default_target(link, declared), clock
                    )
            return []

        drafts = own(root)
        for included in root.includes:
            for draft in _flatten_includes(included, own):
                match = next((d for d in drafts if d.name == draft.name), None)
                if match is None:
                    drafts.append(draft)
                elif match.at != draft.at:
                    draft.problems.add(
                        (*draft.path, "at"),
                        f"phase {draft.name!r} is included with a different start "
                        f"({_show(draft.at, clock)}, not {_show(match.at, clock)})",
                    )
                else:
                    match.faults.extend(draft.faults)
        drafts.sort(key=lambda d: d.at)
        for before, after in itertools.pairwise(drafts):
            if before.at == after.at:
                after.problems.add(
                    (*after.path, "at"),
                    f"phase {after.name!r} starts at the same point as {before.name!r} "
                    f"({_show(after.at, clock)})",
                )
            elif before.duration is not None and before.at + before.duration > after.at:
                before.problems.add(
                    (*before.path, "duration"),
                    f"phase {before.name!r} runs past the start of {after.name!r} "
                    f"({_show(before.at + before.duration, clock)} > {_show(after.at, clock)})",
                )
        return _expand(drafts, clock, hold)

    def _read_phases(
        self,
        file: _File,
        dialects: Mapping[str, str],
        declared: tuple[str, ...],
        default_target: str | None,
        clock: Clock,
    ) -> list[_PhaseDraft]:
        problems = file.problems
        raw = file.data.get("phases")
        if not isinstance(raw, list) or not raw:
            problems.add(("phases",), f"expected a non-empty list of phases, got {raw!r}")
            return []
        drafts: list[_PhaseDraft] = []
        names: set[str] = set()
        previous: _PhaseDraft | None = None
        for i, item in enumerate(raw):
            path: Path = ("phases", i)
            if not isinstance(item, dict):
                problems.add(path, f"a phase must be a mapping with name, at, faults; got {item!r}")
                continue
            for key in item:
                if key not in PHASE_KEYS:
                    problems.add((*path, key), unknown("key", key, PHASE_KEYS), at_key=True)
            name = item.get("name")
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                problems.add(
                    (*path, "name") if "name" in item else path,
                    "missing or bad 'name': a word (letters, digits, '-', '_', '.')",
                )
                name = f"phase{i}"
            elif name in names:
                problems.add((*path, "name"), f"duplicate phase name {name!r}")
            names.add(name)
            if "at" not in item:
                problems.add(path, "missing 'at' (when the phase starts)")
                at = None
            else:
                at = _point(problems, (*path, "at"), item["at"], clock, positive=False)
            duration = None
            if "duration" in item:
                duration = _point(
                    problems, (*path, "duration"), item["duration"], clock, positive=True
                )
            description = item.get("description", "")
            if not isinstance(description, str):
                problems.add((*path, "description"), "expected text")
                description = ""
            ramp = _ramp(problems, (*path, "ramp"), item["ramp"], clock) if "ramp" in item else None
            hold = None
            if "hold" in item:
                problem = _check_hold(item["hold"])
                if clock == "requests":
                    problem = "applies to the wall clock only (set clock: wall)"
                if problem:
                    problems.add((*path, "hold"), problem)
                else:
                    hold = int(item["hold"])
            faults: list[Fault] = []
            raw_faults = item.get("faults", [])
            if raw_faults is None:
                raw_faults = []
            if not isinstance(raw_faults, list):
                problems.add((*path, "faults"), f"expected a list of faults, got {raw_faults!r}")
                raw_faults = []
            for j, raw_fault in enumerate(raw_faults):
                fault = parse_fault_into(
                    problems,
                    raw_fault,
                    (*path, "faults", j),
                    default_target=default_target,
                    dialects=dialects,
                    declared_targets=declared,
                )
                if fault is not None:
                    faults.append(fault)
            if at is None:
                continue
            draft = _PhaseDraft(name, at, duration, description, faults, ramp, problems, path, hold)
            if previous is not None and at <= previous.at:
                problems.add(
                    (*path, "at"),
                    f"phases must start in increasing order: {name!r} starts at "
                    f"{_show(at, clock)}, not after {previous.name!r} "
                    f"at {_show(previous.at, clock)}",
                )
            previous = draft
            drafts.append(draft)
        return drafts


def _default_target(file: _File, declared: tuple[str, ...]) -> str | None:
    """A fault's target when it names none: the one target its own file declares,
    or else the profile's one target."""
    own = file.data.get("targets")
    if isinstance(own, dict) and own:
        return next(iter(own)) if len(own) == 1 else None
    return declared[0] if len(declared) == 1 else None


def _flatten_includes(file: _File, own: Any) -> Iterator[_PhaseDraft]:
    yield from own(file)
    for included in file.includes:
        yield from _flatten_includes(included, own)


def _expand(drafts: list[_PhaseDraft], clock: Clock, hold: int = 0) -> tuple[Phase, ...]:
    """Drafts to phases: ends computed, ramps unrolled, faults named; each phase's
    ``hold`` its own, else the profile's."""
    phases: list[Phase] = []
    names: dict[str, tuple[Problems, Path]] = {}
    for index, draft in enumerate(drafts):
        following = drafts[index + 1].at if index + 1 < len(drafts) else None
        end = draft.at + draft.duration if draft.duration is not None else None
        if following is not None:
            end = following if end is None else min(end, following)
        steps: list[tuple[str, float, float | None]] = [(draft.name, draft.at, end)]
        if draft.ramp is not None:
            rates, every = draft.ramp
            last_start = draft.at + every * (len(rates) - 1)
            if end is not None and last_start >= end:
                draft.problems.add(
                    (*draft.path, "ramp", "every"),
                    f"the ramp's last step would start at {_show(last_start, clock)}, "
                    f"after the phase ends at {_show(end, clock)}",
                )
            starts = [draft.at + every * i for i in range(len(rates))]
            steps = [
                (f"{draft.name}.{i + 1}", start, starts[i + 1] if i + 1 < len(starts) else end)
                for i, start in enumerate(starts)
            ]
        for step, (name, at, until) in enumerate(steps):
            faults = []
            for i, fault in enumerate(draft.faults):
                schedule = fault.schedule
                if (
                    draft.ramp is not None
                    and fault.action.layer == "http"
                    and schedule.rate is None
                ):
                    schedule = dataclasses.replace(schedule, rate=draft.ramp[0][step])
                fault_name = fault.name or f"{name}/{i}-{fault.action.kind}"
                if fault.name is not None and len(steps) > 1:
                    fault_name = f"{fault.name}.{step + 1}"
                where = (*draft.path, "faults", i)
                if fault_name in names:
                    draft.problems.add((*where, "name"), f"duplicate fault name {fault_name!r}")
                names[fault_name] = (draft.problems, where)
                faults.append(
                    dataclasses.replace(fault, name=fault_name, phase=name, schedule=schedule)
                )
            held = (draft.hold if draft.hold is not None else hold) if faults else 0
            phases.append(Phase(name, at, until, tuple(faults), draft.description, held))
    return tuple(phases)


def _point(
    problems: Problems, path: Path, value: object, clock: Clock, *, positive: bool
) -> float | None:
    """An ``at``/``duration``: incident seconds (``wall``) or a request count (``requests``)."""
    if clock == "requests":
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= (1 if positive else 0)
        ):
            return float(value)
        problems.add(
            path,
            f"with clock: requests this counts requests: expected an integer >= "
            f"{1 if positive else 0}, got {value!r}"
            + ("" if not isinstance(value, str) else "; set clock: wall for durations"),
        )
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds: float | None = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value)
    else:
        seconds = None
    if seconds is None or seconds < 0 or (positive and seconds == 0) or seconds != seconds:
        problems.add(
            path,
            f"expected a duration like 90s, 20m, 3h58m or 500ms (or seconds as a number)"
            f"{' above 0' if positive else ''}, got {value!r}",
        )
        return None
    return seconds


def _ramp(
    problems: Problems, path: Path, value: object, clock: Clock
) -> tuple[tuple[float, ...], float] | None:
    if not isinstance(value, dict):
        problems.add(path, f"expected {{rate: [0.2, 0.6, 1.0], every: 10m}}, got {value!r}")
        return None
    ok = True
    for key in value:
        if key not in RAMP_KEYS:
            problems.add((*path, key), unknown("key", key, RAMP_KEYS), at_key=True)
            ok = False
    rates = value.get("rate")
    if (
        not isinstance(rates, list)
        or len(rates) < 2
        or not all(
            isinstance(r, int | float) and not isinstance(r, bool) and 0 <= r <= 1 for r in rates
        )
    ):
        problems.add(
            (*path, "rate") if "rate" in value else path,
            f"expected a list of at least 2 rates between 0 and 1, got {rates!r}",
        )
        ok = False
    every = None
    if "every" not in value:
        problems.add(path, "missing 'every' (how long each step lasts)")
        ok = False
    else:
        every = _point(problems, (*path, "every"), value["every"], clock, positive=True)
    if not ok or every is None or not isinstance(rates, list):
        return None
    return tuple(float(r) for r in rates), every


def _substitute(problems: Problems, value: Any, path: Path, params: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(problems, v, (*path, k), params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(problems, v, (*path, i), params) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _REFERENCE.fullmatch(value)
    if whole and whole.group(1) is not None:
        name = whole.group(1)
        if name in params:
            return params[name]
        problems.add(path, _undeclared(name, params))
        problems.mute(path)
        return value

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name is None:
            return "$"  # "$$" is a literal dollar
        if name not in params:
            problems.add(path, _undeclared(name, params))
            problems.mute(path)
            return found.group(0)
        return str(params[name])

    return _REFERENCE.sub(replace, value)


def _undeclared(name: str, params: Mapping[str, Any]) -> str:
    return unknown("parameter", name, params) + " (declare it under parameters:)"


def _is_rate(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _show(value: float, clock: Clock) -> str:
    return format_duration(value) if clock == "wall" else f"request {int(value)}"


def _check_name(value: object) -> str | None:
    if isinstance(value, str) and _NAME.fullmatch(value):
        return None
    return f"expected a name (letters, digits, '-', '_', '.'), got {value!r}"


def _check_first_request(
    problems: Problems,
    phases: Sequence[Phase],
    targets: Mapping[str, TargetSpec],
    *,
    explicit: bool,
) -> None:
    """``start: first_request`` needs a first request: refuse it when the phase active at
    0 takes every target's network down (no request could reach the harness to start
    the clock, so the incident would never move on)."""
    first = phases[0] if phases and phases[0].at == 0 else None
    if first is None or not targets:
        return
    down = {
        f.target
        for f in first.network_faults()
        if isinstance(f.action, NetworkAction) and f.action.toxic == "down"
    }
    if down >= set(targets):
        problems.add(
            ("start",) if explicit else ("phases", 0),
            f"phase {first.name!r} takes every target down (network: down) from 0, so no "
            "request can reach the harness to start the clock at its first request; "
            "set start: apply (the clock then starts when the profile is applied)",
        )


def _check_text(value: object) -> str | None:
    return None if isinstance(value, str) else f"expected text, got {value!r}"


def _check_scale(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return None
    return f"expected a number above 0 (incident seconds per test second), got {value!r}"


def _check_hold(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"expected a number of attempts (an integer >= 0), got {value!r}"


def _check_seed(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"expected an integer, got {value!r}"


def _choice(choices: tuple[str, ...]) -> Any:
    def check(value: object) -> str | None:
        if value in choices:
            return None
        return unknown("value", value, choices)

    return check


def _replies(root: _File, declared: Sequence[str]) -> tuple[tuple[str, Reply], ...]:
    """The top-level ``replies`` of the profile's own file: each a reply with a ``target``."""
    raw = root.data.get("replies")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        root.problems.add(("replies",), f"expected a list of replies, got {raw!r}")
        return ()
    found: list[tuple[str, Reply]] = []
    for index, item in enumerate(raw):
        where: Path = ("replies", index)
        if not isinstance(item, dict) or not isinstance(item.get("target"), str):
            root.problems.add(where, "a reply needs a 'target' (and e.g. text: or json:)")
            continue
        spec = dict(item)
        target = spec.pop("target")
        if target not in declared:
            root.problems.add(
                (*where, "target"),
                unknown("target", target, declared),
            )
            continue
        source = f"replies[{index}]"
        try:
            found.append((target, parse_reply(spec, source=source)))
        except ConfigError as exc:
            root.problems.add(where, str(exc).removeprefix(f"{source}: "))
    return tuple(found)
