"""Configuration loading: client configs and the canonical catalogue (YAML).

Where config is read from:

* ``CONFIG_DIR`` set -> local folder ``<dir>/canonical/...`` and ``<dir>/clients/<id>.yaml``;
* otherwise S3 ``CONFIG_BUCKET`` at ``<CONFIG_PREFIX>canonical/...`` and
  ``<CONFIG_PREFIX>clients/<id>.yaml``. ``CONFIG_PREFIX`` may be empty; a non-empty prefix
  without a trailing ``/`` gets one (``releases/0.1.0+abc1234`` == ``releases/0.1.0+abc1234/``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from vectora_core import aws

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(RuntimeError):
    """A config file/object is missing, unreadable or malformed; the message names it."""


def config_prefix() -> str:
    """Return ``CONFIG_PREFIX`` normalised to "" or a value ending with "/"."""
    prefix = os.environ.get("CONFIG_PREFIX", "").strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _check_relpath(relpath: str) -> str:
    parts = relpath.split("/")
    if not relpath or any(not p or p in (".", "..") for p in parts):
        raise ConfigError(f"invalid config path: {relpath!r}")
    return relpath


def _check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"invalid {kind} name: {name!r}")
    return name


def read_config_text(relpath: str) -> tuple[str, str]:
    """Read ``relpath`` (e.g. ``clients/x.yaml``); return ``(text, location)``."""
    relpath = _check_relpath(relpath)
    config_dir = os.environ.get("CONFIG_DIR", "").strip()
    if config_dir:
        path = Path(config_dir) / relpath
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc

    bucket = os.environ.get("CONFIG_BUCKET", "").strip()
    if not bucket:
        raise ConfigError("neither CONFIG_DIR nor CONFIG_BUCKET is set")
    key = config_prefix() + relpath
    location = f"s3://{bucket}/{key}"
    try:
        body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except (*aws.errors(), OSError) as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            raise ConfigError(f"config object not found: {location}") from exc
        raise ConfigError(f"cannot read config object {location}: {exc}") from exc
    return body.decode("utf-8"), location


def read_config_yaml(relpath: str) -> dict[str, Any]:
    """Read and parse a YAML mapping at ``relpath``; raise :class:`ConfigError` otherwise."""
    text, location = read_config_text(relpath)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML in {location}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"expected a YAML mapping in {location}")
    return data


def load_canonical(relpath: str) -> dict[str, Any]:
    """Load ``canonical/<relpath>`` (e.g. ``scopes/lai_companies.yaml``)."""
    return read_config_yaml("canonical/" + _check_relpath(relpath))


def load_client_config(client_id: str) -> dict[str, Any]:
    """Load ``clients/<client_id>.yaml`` and check its ``client_profile.client_id``."""
    data = read_config_yaml(f"clients/{_check_name('client', client_id)}.yaml")
    profile = data.get("client_profile")
    if not isinstance(profile, dict) or profile.get("client_id") != client_id:
        raise ConfigError(f"clients/{client_id}.yaml: client_profile.client_id must be {client_id}")
    return data


def load_scope(scope_id: str) -> dict[str, Any]:
    """Load ``canonical/scopes/<scope_id>.yaml``; it must hold a non-empty ``terms`` list."""
    data = load_canonical(f"scopes/{_check_name('scope', scope_id)}.yaml")
    terms = data.get("terms")
    if not isinstance(terms, list) or not terms or not all(isinstance(t, str) for t in terms):
        raise ConfigError(f"canonical/scopes/{scope_id}.yaml: 'terms' must be a list of strings")
    return data


def load_source_set(name: str) -> list[dict[str, Any]]:
    """Load the ``sources`` list of ``canonical/sources/<name>.yaml``."""
    data = load_canonical(f"sources/{_check_name('source set', name)}.yaml")
    sources = data.get("sources")
    if not isinstance(sources, list) or not all(
        isinstance(s, dict) and s.get("url") for s in sources
    ):
        raise ConfigError(f"canonical/sources/{name}.yaml: 'sources' must list mappings with url")
    return sources


def load_ingestion_profile(name: str) -> dict[str, Any]:
    """Load ``canonical/ingestion_profiles/<name>.yaml``."""
    return load_canonical(f"ingestion_profiles/{_check_name('ingestion profile', name)}.yaml")


def load_prompt(name: str) -> dict[str, Any]:
    """Load ``canonical/prompts/<name>.yaml`` (``name`` may contain one folder level)."""
    parts = name.split("/")
    for part in parts:
        _check_name("prompt", part)
    return load_canonical(f"prompts/{name}.yaml")
