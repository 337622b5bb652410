"""Typed reads of parsed YAML whose errors name the file and the dotted key.

Used by ``config`` (release.yaml) and ``config_check`` (canonical/ and client configs).
"""

from __future__ import annotations

from typing import Any

from ..common.errors import ConfigError


class Reader:
    """Reads typed values out of parsed YAML, naming ``file: dotted.key`` in errors."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {problem}", f"fix {self.source}")

    def mapping(self, value: Any, where: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {kind_of(value)}")
        if allowed is not None:
            unknown = sorted(set(map(str, value)) - allowed)
            if unknown:
                prefix = f"{where}." if where != "(top level)" else ""
                raise self.fail(
                    f"{prefix}{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )
        return value

    def get(
        self, data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, **opt: Any
    ) -> Any:
        path = f"{where}.{key}" if where != "(top level)" else key
        if key not in data or data[key] is None:
            if "default" in opt:
                return opt["default"]
            raise self.fail(path, "missing required key")
        value = data[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(path, f"expected an integer, got {kind_of(value)}")
        if not isinstance(value, kind):
            raise self.fail(path, f"expected {kind_name(kind)}, got {kind_of(value)}")
        return value

    def str_list(self, data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        values = self.get(data, key, list, where, default=[])
        for i, item in enumerate(values):
            if not isinstance(item, str):
                raise self.fail(f"{where}.{key}[{i}]", f"expected a string, got {kind_of(item)}")
        return tuple(values)


def kind_of(value: Any) -> str:
    """A value as an error message shows it: its type and (the start of) its repr."""
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:60]


def kind_name(kind: type | tuple[type, ...]) -> str:
    """The expected type(s) in words: 'a string or an integer'."""
    names = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "a map"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)
