"""Dataclass configs <-> YAML: unknown keys rejected, `--set a.b=v` overrides type-checked, hashed.

A config file holds values only; the schema is the method's dataclass. A file may carry one reserved
top-level block, `smoke:`, with the overrides that make the experiment's smoke variant.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import io
import json
import textwrap
import tokenize
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from raylab import RaylabError

SMOKE_KEY = "smoke"
T = typing.TypeVar("T")


class ConfigError(RaylabError):
    """A config file, a `--set` override or a value that does not fit the dataclass."""


def require_positive(**values: float) -> None:
    """For a config's `__post_init__`: ValueError naming every field (given by name) that is not > 0."""
    bad = [name for name, value in values.items() if value <= 0]
    if bad:
        raise ValueError(f"{', '.join(bad)} must be > 0")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing, unparsable or non-mapping file is a ConfigError naming it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of config keys, got {type(data).__name__}")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged into a copy of `base`, recursing into nested mappings."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check `value` against `annotation`, converting only lossless cases (int -> float, str -> float)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping for {annotation.__name__}, got {value!r}")
        return from_dict(annotation, value, where)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, option, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {args}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin in (list, tuple, Sequence):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
        item_type = args[0] if args else Any
        items = [_coerce(v, item_type, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        value_type = args[1] if args else Any
        return {str(k): _coerce(v, value_type, f"{where}.{k}") for k, v in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        raise ConfigError(f"{where}: unsupported config type {annotation!r}")
    raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}")


def from_dict(cls: type[T], data: Mapping[str, Any], source: str) -> T:
    """Build dataclass `cls` from `data`; unknown keys and wrong types raise ConfigError naming `source`."""
    types_ = _field_types(cls)
    unknown = [k for k in data if k not in types_]
    if unknown:
        raise ConfigError(f"{source}: unknown key '{unknown[0]}' (known keys: {', '.join(types_)})")
    kwargs = {name: _coerce(value, types_[name], f"{source}: {name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as plain JSON-able data (tuples become lists)."""
    data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(cfg)))
    return data


def config_hash(cfg: Any) -> str:
    """sha256 of the canonical JSON of the config: equal configs, equal hashes."""
    text = json.dumps(to_dict(cfg), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=v` -> (["a", "b"], v), with v read as a YAML scalar/list (never evaluated as code).

    The raw text is kept too (as `RawText`), so a string field gets `001`, not the number 1.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. --set optim.lr=0.01")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if isinstance(value, dict):  # `--set a=b: c` is text, not a mapping
        value = raw
    return key.strip().split("."), RawText(raw, value)


class RawText:
    """An override value as typed (`text`) and as parsed by YAML (`parsed`)."""

    def __init__(self, text: str, parsed: Any):
        self.text, self.parsed = text, parsed


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], cls: type) -> dict[str, Any]:
    """Apply `--set a.b=v` strings to raw config data, checked against `cls` (see `apply_values`)."""
    parsed = {}
    for text in overrides:
        path, value = parse_override(text)
        parsed[".".join(path)] = (value, f"--set {text}")
    return _apply(data, parsed, cls)


def apply_values(data: dict[str, Any], values: Mapping[str, Any], cls: type, source: str) -> dict[str, Any]:
    """Set dotted config paths (`{"lr.gd": 0.01}`, e.g. from a Tune trial) on raw config data."""
    return _apply(data, {path: (value, f"{source}: {path}") for path, value in values.items()}, cls)


def _apply(data: dict[str, Any], values: Mapping[str, tuple[Any, str]], cls: type) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    for dotted, (value, where) in values.items():
        path = dotted.split(".")
        target_cls, node = cls, data
        for depth, key in enumerate(path):
            types_ = _field_types(target_cls)
            if key not in types_:
                raise ConfigError(
                    f"{where}: unknown key '{'.'.join(path[: depth + 1])}' (known keys: {', '.join(types_)})"
                )
            annotation = types_[key]
            if depth == len(path) - 1:
                node[key] = _coerce(_typed_scalar(value, annotation), annotation, where)
            elif isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
                target_cls, node = annotation, node.setdefault(key, {})
            else:
                raise ConfigError(f"{where}: '{key}' is not a nested config section")
    return data


def _typed_scalar(value: Any, annotation: Any) -> Any:
    """`--set name=001` keeps the text "001" when the field is a string; otherwise the YAML value."""
    if isinstance(value, RawText):
        return value.text if annotation is str else value.parsed
    return value


def resolve_config(
    cls: type, path: str | Path, overrides: Sequence[str] = (), smoke: bool = False, seed: int | None = None
) -> Any:
    """Config file [+ its `smoke:` block] + `--set` overrides [+ seed] -> validated dataclass."""
    data = load_yaml(path)
    smoke_block = data.pop(SMOKE_KEY, {}) or {}
    if not isinstance(smoke_block, Mapping):
        raise ConfigError(f"{path}: '{SMOKE_KEY}' must be a mapping of overrides")
    from_dict(cls, deep_merge(data, smoke_block), f"{path} ({SMOKE_KEY})")  # smoke keys checked always
    if smoke:
        data = deep_merge(data, smoke_block)
    data = apply_overrides(data, overrides, cls)
    if seed is not None:
        data["seed"] = seed
    return from_dict(cls, data, str(path))


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's one-line description: the comment on its line in the class body, as in
    `lr: float = 3e-4  # Adam step size`. Fields without one are missing from the result."""
    source = textwrap.dedent(inspect.getsource(cls))
    comments = {
        token.start[0]: token.string.lstrip("#").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    docs = {}
    # the source of a class parses to one ClassDef
    for node in typing.cast(ast.ClassDef, ast.parse(source).body[0]).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            found = [comments[line] for line in lines if line in comments]
            if found:
                docs[node.target.id] = found[0]
    return docs


def undocumented_fields(cls: type, prefix: str = "") -> list[str]:
    """Dotted paths of the fields of `cls` (and its nested config classes) without a description."""
    docs, missing = field_docs(cls), []
    for name, annotation in _field_types(cls).items():
        if name not in docs:
            missing.append(prefix + name)
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            missing += undocumented_fields(annotation, f"{prefix}{name}.")
    return missing


def commented_yaml(cfg: Any, indent: int = 0) -> str:
    """The config as YAML that `--config` reads back to the same config, each field followed by its
    description (what `raylab show` prints)."""
    cls: type = type(cfg)  # (mypy takes `type[Any]` for unhashable)
    docs, pad, lines = field_docs(cls), " " * indent, []
    for field in dataclasses.fields(cfg):
        value, doc = getattr(cfg, field.name), docs.get(field.name, "")
        comment = f"  # {doc}" if doc else ""
        if dataclasses.is_dataclass(value):
            lines.append(f"{pad}{field.name}:{comment}")
            lines.append(commented_yaml(value, indent + 2).rstrip("\n"))
        else:
            lines.append(f"{pad}{field.name}: {_flow_yaml(value)}{comment}")
    return "\n".join(lines) + "\n"


def _flow_yaml(value: Any) -> str:
    """One value as single-line YAML (lists and mappings in flow style)."""
    text = yaml.safe_dump([json.loads(json.dumps(value))], default_flow_style=True, width=10**9)
    return text.strip()[1:-1]
