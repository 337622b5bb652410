"""``config check``: release.yaml, canonical/ and client configs parse and match their schemas.

The application reads canonical/ and clients/ at run time, in Lambda: a typo there is found by
the weekly run, in production. This module reads every YAML file of the config bundle with the
strict loader (duplicate keys are errors) and checks what ``vectora_core`` relies on — the keys
it reads, their types, and that every scope, source set, ingestion profile and prompt a client
names exists in canonical/. The first problem raises ConfigError naming the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import semver

from ..common.errors import ConfigError
from . import yamlio
from .model import ReleaseConfig, load_config
from .schema import Reader

YAML_SUFFIXES = (".yaml", ".yml")
# What vectora_core.config accepts as a scope/source/profile/prompt/client name.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
URL_SCHEMES = ("http://", "https://", "file://", "s3://")
ITEMS_PLACEHOLDER = "{items_json}"


@dataclass(frozen=True)
class ConfigCheckReport:
    """What ``config check`` read (paths relative to the repository root)."""

    release_yaml: str
    canonical: tuple[str, ...]
    clients: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "release_yaml": self.release_yaml,
            "canonical": list(self.canonical),
            "clients": list(self.clients),
        }

    def summary(self) -> str:
        return (
            f"config ok: {self.release_yaml}, {len(self.canonical)} canonical files, "
            f"{len(self.clients)} client config{'s' if len(self.clients) != 1 else ''}"
        )


@dataclass(frozen=True)
class _Doc:
    """One parsed YAML file: ``key`` is its path inside the bundle (``scopes/x.yaml``)."""

    display: str
    key: str
    data: dict[str, Any]

    @property
    def stem(self) -> str:
        return Path(self.key).stem


def check_config(config_path: Path | str = "release.yaml") -> ConfigCheckReport:
    """Check release.yaml and every file of the config bundle; raise ConfigError on the first
    problem."""
    return check_bundle(load_config(config_path))


def check_bundle(config: ReleaseConfig) -> ConfigCheckReport:
    """Check every file of the config bundle (``build`` refuses a bundle that fails this)."""
    canonical = _load_tree(config, config.bundle_canonical)
    clients = _load_tree(config, config.bundle_clients)
    catalogue = _Catalogue(config.bundle_canonical.rstrip("/"), canonical)
    for doc in canonical.values():
        catalogue.check(doc)
    if not clients:
        raise ConfigError(
            f"{config.bundle_clients}: no client config (*.yaml) found",
            "check config_bundle.clients in release.yaml",
        )
    for doc in clients.values():
        _check_client(doc, catalogue)
    return ConfigCheckReport(
        release_yaml=config.path.name,
        canonical=tuple(d.display for d in canonical.values()),
        clients=tuple(d.display for d in clients.values()),
    )


def _load_tree(config: ReleaseConfig, folder: str) -> dict[str, _Doc]:
    """Every YAML file under ``folder``, parsed strictly, keyed by its path inside it."""
    base = config.root / folder
    if not base.is_dir():
        raise ConfigError(f"{folder}: folder not found", "check config_bundle in release.yaml")
    docs: dict[str, _Doc] = {}
    for path in sorted(p for p in base.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()):
        key = path.relative_to(base).as_posix()
        display = f"{folder.rstrip('/')}/{key}"
        data = yamlio.load(path, display)
        if not isinstance(data, dict):
            kind = "an empty file" if data is None else type(data).__name__
            raise ConfigError(
                f"{display}: (top level): expected a mapping, got {kind}",
                f"fix {display}: the application reads a YAML mapping",
            )
        if path.suffix != ".yaml":
            raise ConfigError(
                f"{display}: the application only reads '.yaml' files",
                f"rename it to {key[:-4]}.yaml",
            )
        docs[key] = _Doc(display, key, data)
    return docs


class _Catalogue:
    """canonical/: what exists, and the schema of each kind of file."""

    def __init__(self, folder: str, docs: dict[str, _Doc]) -> None:
        self.folder = folder
        self.docs = docs

    def has(self, folder: str, name: str) -> bool:
        return f"{folder}/{name}.yaml" in self.docs

    def names(self, folder: str) -> list[str]:
        prefix = f"{folder}/"
        return sorted(k[len(prefix) : -5] for k in self.docs if k.startswith(prefix))

    def check(self, doc: _Doc) -> None:
        r = Reader(doc.display)
        folder = doc.key.split("/", 1)[0] if "/" in doc.key else ""
        checker = {
            "scopes": _check_scope,
            "sources": _check_source_set,
            "ingestion_profiles": _check_profile,
            "prompts": _check_prompt,
        }.get(folder)
        if checker is None:
            return  # a file the application does not read by convention: parsing is enough
        for part in Path(doc.key).with_suffix("").parts[1:]:
            if not NAME.match(part):
                raise r.fail("(file name)", f"{part!r} is not a name the application can load")
        checker(r, doc)


def _check_scope(r: Reader, doc: _Doc) -> None:
    data = doc.data
    _same_as_file(r, data, "scope_id", doc.stem)
    for key in ("category", "label", "description"):
        r.get(data, key, str, "(top level)", default=None)
    terms = r.get(data, "terms", list, "(top level)")
    if not terms:
        raise r.fail("terms", "must list at least one term")
    seen: set[str] = set()
    for i, term in enumerate(terms):
        if not isinstance(term, str) or not term.strip():
            raise r.fail(f"terms[{i}]", f"expected a non-empty string, got {term!r}")
        if term.lower() in seen:
            raise r.fail(f"terms[{i}]", f"duplicate term {term!r}")
        seen.add(term.lower())


def _check_source_set(r: Reader, doc: _Doc) -> None:
    data = doc.data
    _same_as_file(r, data, "source_set", doc.stem)
    sources = r.get(data, "sources", list, "(top level)")
    if not sources:
        raise r.fail("sources", "must list at least one source")
    ids: set[str] = set()
    for i, raw in enumerate(sources):
        where = f"sources[{i}]"
        entry = r.mapping(raw, where)
        url = r.get(entry, "url", str, where)
        if not url.startswith(URL_SCHEMES):
            raise r.fail(f"{where}.url", f"{url!r} is not an http(s)://, file:// or s3:// URL")
        source_id = r.get(entry, "id", str, where, default=None)
        if source_id is not None:
            if source_id in ids:
                raise r.fail(f"{where}.id", f"duplicate source id {source_id!r}")
            ids.add(source_id)
        r.get(entry, "name", str, where, default=None)


def _check_profile(r: Reader, doc: _Doc) -> None:
    data = doc.data
    _same_as_file(r, data, "profile_id", doc.stem)
    for key in ("period_days", "max_items_per_source", "max_items_total", "max_feed_bytes"):
        _positive(r, data, key, "(top level)", int)
    _positive(r, data, "fetch_timeout_seconds", "(top level)", (int, float))
    r.get(data, "user_agent", str, "(top level)", default=None)


def _check_prompt(r: Reader, doc: _Doc) -> None:
    data = doc.data
    _same_as_file(r, data, "prompt_id", doc.stem)
    template = r.get(data, "user_template", str, "(top level)")
    if ITEMS_PLACEHOLDER not in template:
        raise r.fail("user_template", f"must contain {ITEMS_PLACEHOLDER} (where the items go)")
    r.get(data, "system", str, "(top level)", default=None)
    _positive(r, data, "batch_size", "(top level)", int)
    inference = r.get(data, "inference", dict, "(top level)", default={})
    _positive(r, inference, "max_tokens", "inference", int)
    temperature = r.get(inference, "temperature", (int, float), "inference", default=0)
    if isinstance(temperature, bool) or not 0 <= temperature <= 1:
        raise r.fail("inference.temperature", "must be a number between 0 and 1")


def _check_client(doc: _Doc, catalogue: _Catalogue) -> None:
    """A client config as vectora_core reads it: profile, ingestion, scoring, newsletter."""
    r = Reader(doc.display)
    _check_client_profile(r, doc)
    _check_ingestion(r, doc.data, catalogue)
    _check_scoring(r, doc.data, catalogue)
    _check_newsletter(r, doc.data, catalogue)


def _check_client_profile(r: Reader, doc: _Doc) -> None:
    profile = r.mapping(r.get(doc.data, "client_profile", dict, "(top level)"), "client_profile")
    client_id = r.get(profile, "client_id", str, "client_profile")
    if not CLIENT_ID.match(client_id):
        raise r.fail(
            "client_profile.client_id",
            f"{client_id!r} is not a slug (lower-case letters, digits, '_' and '-')",
        )
    if client_id != doc.stem:
        raise r.fail(
            "client_profile.client_id",
            f"{client_id!r} differs from the file name (the application loads "
            f"clients/<client_id>.yaml): rename the file or the id",
        )
    version = r.get(profile, "version", str, "client_profile")
    try:
        semver.Version.parse(version)
    except ValueError:
        raise r.fail(
            "client_profile.version", f'{version!r} is not a semantic version (e.g. "7.0.0")'
        ) from None
    for key in ("name", "language"):
        r.get(profile, key, str, "client_profile", default=None)


def _check_ingestion(r: Reader, data: dict[str, Any], catalogue: _Catalogue) -> None:
    ingestion = r.mapping(r.get(data, "ingestion", dict, "(top level)", default={}), "ingestion")
    profile_name = r.get(ingestion, "profile", str, "ingestion", default="default")
    _exists(r, catalogue, "ingestion_profiles", profile_name, "ingestion.profile")
    for i, name in enumerate(r.str_list(ingestion, "source_sets", "ingestion")):
        _exists(r, catalogue, "sources", name, f"ingestion.source_sets[{i}]")


def _check_scoring(r: Reader, data: dict[str, Any], catalogue: _Catalogue) -> None:
    scoring = r.mapping(r.get(data, "scoring", dict, "(top level)"), "scoring")
    threshold = r.get(scoring, "threshold", int, "scoring", default=50)
    if not 0 <= threshold <= 100:
        raise r.fail("scoring.threshold", "must be between 0 and 100")
    r.get(scoring, "title_bonus", int, "scoring", default=0)
    prompt = r.get(scoring, "bedrock_prompt", str, "scoring", default=None)
    if prompt is not None:
        _exists(r, catalogue, "prompts", prompt, "scoring.bedrock_prompt")
    scopes = r.get(scoring, "scopes", list, "scoring")
    if not scopes:
        raise r.fail("scoring.scopes", "must list at least one scope")
    for i, raw in enumerate(scopes):
        where = f"scoring.scopes[{i}]"
        spec = r.mapping(raw, where)
        _exists(r, catalogue, "scopes", r.get(spec, "scope", str, where), f"{where}.scope")
        for key in ("points", "extra_points", "max_points"):
            if r.get(spec, key, int, where, default=0) < 0:
                raise r.fail(f"{where}.{key}", "must be 0 or more")
    for i, name in enumerate(r.str_list(scoring, "tags", "scoring")):
        _exists(r, catalogue, "scopes", name, f"scoring.tags[{i}]")
    exclusions = r.mapping(
        r.get(scoring, "exclusions", dict, "scoring", default={}), "scoring.exclusions"
    )
    for i, name in enumerate(r.str_list(exclusions, "scopes", "scoring.exclusions")):
        _exists(r, catalogue, "scopes", name, f"scoring.exclusions.scopes[{i}]")
    r.get(exclusions, "max_score", int, "scoring.exclusions", default=10)


def _check_newsletter(r: Reader, data: dict[str, Any], catalogue: _Catalogue) -> None:
    top = "(top level)"
    newsletter = r.mapping(r.get(data, "newsletter", dict, top, default={}), "newsletter")
    for key in ("title", "intro", "other_section_title"):
        r.get(newsletter, key, str, "newsletter", default=None)
    for key in ("tldr_items", "max_items_per_section", "summary_chars"):
        _positive(r, newsletter, key, "newsletter", int)
    for i, raw in enumerate(r.get(newsletter, "sections", list, "newsletter", default=[])):
        where = f"newsletter.sections[{i}]"
        section = r.mapping(raw, where)
        r.get(section, "title", str, where)
        for j, name in enumerate(r.str_list(section, "scopes", where)):
            _exists(r, catalogue, "scopes", name, f"{where}.scopes[{j}]")


def _same_as_file(r: Reader, data: dict[str, Any], key: str, stem: str) -> None:
    value = r.get(data, key, str, "(top level)", default=None)
    if value is not None and value != stem:
        raise r.fail(key, f"{value!r} differs from the file name {stem!r}")


def _positive(
    r: Reader, data: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]
) -> None:
    value = r.get(data, key, kind, where, default=None)
    if value is not None and (isinstance(value, bool) or value <= 0):
        path = key if where == "(top level)" else f"{where}.{key}"
        raise r.fail(path, f"must be a positive number, got {value!r}")


def _exists(r: Reader, catalogue: _Catalogue, folder: str, name: str, where: str) -> None:
    if not isinstance(name, str) or not all(NAME.match(p) for p in name.split("/")):
        raise r.fail(where, f"{name!r} is not a name the application can load")
    if not catalogue.has(folder, name):
        known = ", ".join(catalogue.names(folder)) or "none"
        raise r.fail(where, f"{name!r} not found in {catalogue.folder}/{folder}/ (known: {known})")
