"""Finding, reading and validating profiles: every problem reported, with file:line:column.

Loading happens in passes, so that nothing is half-checked: read every file
of the profile (the named one, what it ``extends`` and what it ``include``\\ s),
merge the parameters and substitute ``${name}`` references, merge the targets,
then check every phase and fault against the merged targets. All problems of
all files are gathered into one :class:`~chaos.ProfileError`.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any, cast

from chaos._errors import ConfigError, ProfileError
from chaos.faults._problems import Path, Problems, unknown
from chaos.profiles._checks import (
    check_clock_keys,
    check_name,
    check_required,
    check_scale,
    check_seed,
    check_text,
    choice,
)
from chaos.profiles._find import (
    ENV_DIRS,
    ProfileInfo,
    builtin_dir,
    find_profiles,
    profile_dirs,
    profile_label,
    resolve_profile,
)
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
from chaos.profiles._phases import (
    NAME,
    PhaseDraft,
    check_hold,
    expand,
    read_phases,
    show,
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

# DESIGN.md's dialects, accepted even before their module registers them (they are
# being written alongside); any other name must be registered to be accepted
_PLANNED_DIALECTS = ("anthropic", "openai", "gemini")
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFERENCE = re.compile(r"\$\$|\$\{([^}]*)\}")


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
            _substitute_file(file, params)
        scalars = self._scalars(root)
        clock = cast("Clock", scalars.get("clock", "requests"))
        _check_included_clocks(root, files, clock)
        targets, declared = self._targets(root)
        phases = self._phases(root, targets, declared, clock, int(scalars.get("hold", 0)))
        replies = _replies(root, declared)
        top = root.problems
        if self.broken:  # what is missing may be in the file that could not be read
            top.mute(())
        check_required(top, scalars, declared, phases)
        check_clock_keys(top, scalars, clock, phases, targets)
        errors = [e for file in files for e in file.problems.in_order()] + self.loose
        if errors:
            raise ProfileError(list(dict.fromkeys(errors)))
        start = cast("Start", scalars.get("start", "first_request"))
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
            "name": check_name,
            "title": check_text,
            "source": check_text,
            "description": check_text,
            "clock": choice(CLOCKS),
            "count": choice(COUNTS),
            "time_scale": check_scale,
            "start": choice(STARTS),
            "hold": check_hold,
            "seed": check_seed,
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
        from chaos.faults._vocabulary import dialect_names

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
                if not NAME.fullmatch(name):
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

        def own(file: _File) -> list[PhaseDraft]:
            for link in file.chain():
                if "phases" in link.data:
                    return read_phases(
                        link.problems,
                        link.data.get("phases"),
                        dialects,
                        declared,
                        _default_target(link, declared),
                        clock,
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
                        f"({show(draft.at, clock)}, not {show(match.at, clock)})",
                    )
                else:
                    match.faults.extend(draft.faults)
        drafts.sort(key=lambda d: d.at)
        for before, after in itertools.pairwise(drafts):
            if before.at == after.at:
                after.problems.add(
                    (*after.path, "at"),
                    f"phase {after.name!r} starts at the same point as {before.name!r} "
                    f"({show(after.at, clock)})",
                )
            elif before.duration is not None and before.at + before.duration > after.at:
                before.problems.add(
                    (*before.path, "duration"),
                    f"phase {before.name!r} runs past the start of {after.name!r} "
                    f"({show(before.at + before.duration, clock)} > {show(after.at, clock)})",
                )
        return expand(drafts, clock, hold)


def _default_target(file: _File, declared: tuple[str, ...]) -> str | None:
    """A fault's target when it names none: the one target its own file declares,
    or else the profile's one target."""
    own = file.data.get("targets")
    if isinstance(own, dict) and own:
        return next(iter(own)) if len(own) == 1 else None
    return declared[0] if len(declared) == 1 else None


def _flatten_includes(file: _File, own: Any) -> Iterator[PhaseDraft]:
    yield from own(file)
    for included in file.includes:
        yield from _flatten_includes(included, own)


def _substitute_file(file: _File, params: Mapping[str, Any]) -> None:
    """``${name}`` references replaced everywhere in ``file`` but its ``parameters``."""
    file.data = {
        key: value if key == "parameters" else _substitute(file.problems, value, (key,), params)
        for key, value in file.data.items()
    }


def _check_included_clocks(root: _File, files: list[_File], clock: Clock) -> None:
    for file in files:
        declared = file.data.get("clock")
        if declared is not None and declared != clock and file not in root.chain():
            file.problems.add(
                ("clock",),
                f"an included profile must use the including profile's clock ({clock})",
            )


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
