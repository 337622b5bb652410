"""``release.yaml`` → a typed, validated model. Errors name the file and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..common.errors import ConfigError, InputError
from . import yamlio
from .bedrock import MODEL_VAR, REGION_VAR, geography_problem
from .gates import E2eSpec, parse_duration, parse_e2e
from .monitoring import Monitoring, parse_monitoring
from .schema import Reader
from .variables import SSM_PREFIX, parse_variables

SCHEMA_VERSION = 1
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
CONFIG_PREFIX_VAR = "CONFIG_PREFIX"
_LAMBDA_RUNTIMES = ("python3.11", "python3.12", "python3.13")
TOP_KEYS = {
    "schema_version",
    "project",
    "runtime",
    "compatible_runtimes",
    "artifact_store",
    "layers",
    "functions",
    "config_bundle",
    "contract",
    "variables",
    "validation",
    "lock",
    "environments",
    "chain",
    "schedules",
    "alarms",
}


@dataclass(frozen=True)
class LayerSpec:
    """A layer to build: either a Python package or a requirements file."""

    name: str
    package: str | None = None
    requirements: str | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """A function to build and deploy (release content, identical in every environment)."""

    name: str
    source: str
    handler: str
    memory: int
    timeout: int
    layers: tuple[str, ...]
    env: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentSpec:
    """Where and how one environment runs."""

    name: str
    region: str
    reserved_concurrency: int | None
    requires_validated_in: str | None
    artifact_bucket: str
    variables: dict[str, str]
    buckets: dict[str, str]
    account: str | None = None
    min_soak_seconds: int = 0  # how long a release must have run, validated, upstream
    min_checks: int = 0  # the upstream validation must have passed at least this many checks
    monitoring: Monitoring = field(default_factory=lambda: Monitoring((), (), (), 0))


@dataclass(frozen=True)
class ReleaseConfig:
    """The whole of ``release.yaml``."""

    path: Path
    project: str
    runtime: str
    compatible_runtimes: tuple[str, ...]
    artifact_bucket: str
    artifact_region: str
    layers: dict[str, LayerSpec]
    functions: dict[str, FunctionSpec]
    bundle_canonical: str
    bundle_clients: str
    contract_required: tuple[str, ...]
    tolerance: float
    e2e: E2eSpec
    lock_lease_seconds: int
    # A lock whose heartbeat is older than this is taken over (its holder is gone); the
    # holder renews it every lock_heartbeat_seconds (docs/architecture.md, "Lock").
    lock_stale_after_seconds: int = 60
    lock_heartbeat_seconds: int = 5
    environments: dict[str, EnvironmentSpec] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The repository root: the folder holding release.yaml."""
        return self.path.parent

    def env(self, name: str) -> EnvironmentSpec:
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(self.environments)
            raise InputError(f"unknown environment {name!r}", f"choose one of: {known}") from None

    def function(self, name: str) -> FunctionSpec:
        try:
            return self.functions[name]
        except KeyError:
            known = ", ".join(self.functions)
            raise InputError(f"unknown function {name!r}", f"choose one of: {known}") from None

    def required_env(self, function: str) -> tuple[str, ...]:
        """Env-var keys function ``function`` must have (contract + its own)."""
        spec = self.function(function)
        return tuple(dict.fromkeys((*self.contract_required, *spec.env)))

    def function_resource(self, function: str, env: str) -> str:
        return f"{self.project}-{function}-{env}"

    def layer_resource(self, layer: str, env: str) -> str:
        return f"{self.project}-{layer}-{env}"

    def role_name(self, function: str, env: str) -> str:
        return f"{self.project}-{function}-{env}-role"

    def alerts_topic(self, env: str) -> str:
        """The SNS topic every alarm of ``env`` notifies (operators add its subscribers)."""
        return f"{self.project}-alerts-{env}"

    def monitor_resource(self, name: str, env: str) -> str:
        """The name of a schedule rule, an alarm or the dashboard of ``env``."""
        return f"{self.project}-{name}-{env}"

    def declared_env(self, function: str, env: str) -> dict[str, str]:
        """The declared values (SSM references unresolved) of ``function`` in ``env``."""
        values = self.env(env).variables
        return {key: values[key] for key in self.required_env(function)}


def load_config(path: Path | str = "release.yaml") -> ReleaseConfig:
    """Load and validate ``release.yaml``; raises ConfigError before any AWS call."""
    path = Path(path).resolve()
    display = path.name
    data = yamlio.load(path, display)
    return parse_config(data, path, display)


def parse_config(data: Any, path: Path, display: str = "release.yaml") -> ReleaseConfig:
    """Validate parsed ``release.yaml``; the first problem raises ConfigError naming its key."""
    r = Reader(display)
    top = r.mapping(data, "(top level)", TOP_KEYS)
    if r.get(top, "schema_version", int, "(top level)") != SCHEMA_VERSION:
        raise r.fail("schema_version", f"unsupported (this tool reads {SCHEMA_VERSION})")
    section = partial(_section, r, top)
    runtime = r.get(top, "runtime", str, "(top level)")
    if runtime not in _LAMBDA_RUNTIMES:
        raise r.fail("runtime", f"unsupported runtime {runtime!r}")
    store = section("artifact_store", {"bucket", "region"})
    layers = _parse_layers(r, r.get(top, "layers", dict, "(top level)"))
    bundle = section("config_bundle", {"canonical", "clients"})
    validation = section("validation", {"tolerance", "e2e"}, optional=True)
    config = ReleaseConfig(
        path=path,
        project=r.get(top, "project", str, "(top level)"),
        runtime=runtime,
        compatible_runtimes=r.str_list(top, "compatible_runtimes", "(top level)") or (runtime,),
        artifact_bucket=r.get(store, "bucket", str, "artifact_store"),
        artifact_region=r.get(store, "region", str, "artifact_store"),
        layers=layers,
        functions=_parse_functions(r, r.get(top, "functions", dict, "(top level)"), layers),
        bundle_canonical=r.get(bundle, "canonical", str, "config_bundle"),
        bundle_clients=r.get(bundle, "clients", str, "config_bundle"),
        contract_required=_parse_contract(r, section("contract", {"required"})),
        tolerance=float(r.get(validation, "tolerance", (int, float), "validation", default=0.05)),
        e2e=parse_e2e(r, r.get(validation, "e2e", dict, "validation")),
        **_parse_lock(r, section("lock", set(LOCK_DEFAULTS), optional=True)),
    )
    shared = parse_variables(
        r, r.get(top, "variables", dict, "(top level)", default={}), "variables"
    )
    envs = _parse_environments(
        r, r.get(top, "environments", dict, "(top level)"), config, shared, top
    )
    object.__setattr__(config, "environments", envs)
    _check_contract(r, config)
    return config


def _section(
    r: Reader, top: dict[str, Any], key: str, allowed: set[str], optional: bool = False
) -> dict[str, Any]:
    """A top-level mapping of release.yaml with only ``allowed`` keys ({} when optional)."""
    value = r.get(top, key, dict, "(top level)", **({"default": {}} if optional else {}))
    return r.mapping(value, key, allowed)


LOCK_DEFAULTS = {"lease_seconds": 900, "stale_after_seconds": 60, "heartbeat_seconds": 5}


def _parse_lock(r: Reader, lock: dict[str, Any]) -> dict[str, int]:
    """``lock``: lease, staleness and heartbeat period; a heartbeat must beat well within both."""
    values = {key: r.get(lock, key, int, "lock", default=d) for key, d in LOCK_DEFAULTS.items()}
    for key, value in values.items():
        if value < 1:
            raise r.fail(f"lock.{key}", "must be a positive number of seconds")
    if values["heartbeat_seconds"] * 3 > values["stale_after_seconds"]:
        raise r.fail("lock.heartbeat_seconds", "must be at most a third of stale_after_seconds")
    if values["stale_after_seconds"] > values["lease_seconds"]:
        raise r.fail("lock.stale_after_seconds", "must not exceed lease_seconds")
    return {f"lock_{key}": value for key, value in values.items()}


def _parse_contract(r: Reader, contract: dict[str, Any]) -> tuple[str, ...]:
    required = r.str_list(contract, "required", "contract")
    if not required:
        raise r.fail("contract.required", "must list at least one key")
    return required


def _parse_layers(r: Reader, data: dict[str, Any]) -> dict[str, LayerSpec]:
    layers: dict[str, LayerSpec] = {}
    for name, raw in data.items():
        where = f"layers.{name}"
        body = r.mapping(raw, where, {"package", "requirements"})
        package = r.get(body, "package", str, where, default=None)
        requirements = r.get(body, "requirements", str, where, default=None)
        if (package is None) == (requirements is None):
            raise r.fail(where, "give exactly one of 'package' or 'requirements'")
        layers[name] = LayerSpec(name, package, requirements)
    if len(layers) > 5:
        raise r.fail("layers", "Lambda allows at most 5 layers")
    return layers


def _parse_functions(
    r: Reader, data: dict[str, Any], layers: dict[str, LayerSpec]
) -> dict[str, FunctionSpec]:
    functions: dict[str, FunctionSpec] = {}
    for name, raw in data.items():
        where = f"functions.{name}"
        body = r.mapping(raw, where, {"source", "handler", "memory", "timeout", "layers", "env"})
        used = r.str_list(body, "layers", where)
        for i, layer in enumerate(used):
            if layer not in layers:
                raise r.fail(f"{where}.layers[{i}]", f"unknown layer {layer!r}")
        memory = r.get(body, "memory", int, where)
        timeout = r.get(body, "timeout", int, where)
        if not 128 <= memory <= 10240:
            raise r.fail(f"{where}.memory", "must be between 128 and 10240 MB")
        if not 1 <= timeout <= 900:
            raise r.fail(f"{where}.timeout", "must be between 1 and 900 seconds")
        functions[name] = FunctionSpec(
            name=name,
            source=r.get(body, "source", str, where),
            handler=r.get(body, "handler", str, where),
            memory=memory,
            timeout=timeout,
            layers=used,
            env=r.str_list(body, "env", where),
        )
    if not functions:
        raise r.fail("functions", "must declare at least one function")
    return functions


ENV_KEYS = frozenset(
    {
        "schedules",
        "alarms",
        "bake_minutes",
        "region",
        "account",
        "reserved_concurrency",
        "requires_validated_in",
        "artifact_bucket",
        "variables",
        "buckets",
        "min_soak",
        "min_checks",
    }
)


def _parse_environments(
    r: Reader,
    data: dict[str, Any],
    config: ReleaseConfig,
    shared: dict[str, str],
    top: dict[str, Any],
) -> dict[str, EnvironmentSpec]:
    envs: dict[str, EnvironmentSpec] = {}
    for name, raw in data.items():
        if not ENV_NAME.match(str(name)):
            raise r.fail(
                f"environments.{name}", "environment names are lower-case letters, digits and '-'"
            )
        envs[name] = _parse_environment(r, name, raw, config, shared, top)
    for name, env in envs.items():
        upstream = env.requires_validated_in
        if upstream is not None and upstream not in envs:
            raise r.fail(
                f"environments.{name}.requires_validated_in", f"unknown environment {upstream!r}"
            )
    if not envs:
        raise r.fail("environments", "must declare at least one environment")
    return envs


def _parse_environment(
    r: Reader,
    name: str,
    raw: Any,
    config: ReleaseConfig,
    shared: dict[str, str],
    top: dict[str, Any],
) -> EnvironmentSpec:
    where = f"environments.{name}"
    body = r.mapping(raw, where, set(ENV_KEYS))
    own = parse_variables(
        r, r.get(body, "variables", dict, where, default={}), f"{where}.variables"
    )
    variables = {k: v.replace("{env}", name) for k, v in {**shared, **own}.items()}
    buckets = {
        kind: f"{config.project}-{kind}-{name}" for kind in ("config", "data", "newsletters")
    }
    buckets.update(
        r.mapping(r.get(body, "buckets", dict, where, default={}), f"{where}.buckets", set(buckets))
    )
    concurrency = r.get(body, "reserved_concurrency", int, where, default=None)
    if concurrency is not None and concurrency < 0:
        raise r.fail(f"{where}.reserved_concurrency", "must be 0 or more")
    account = r.get(body, "account", (str, int), where, default=None)
    return EnvironmentSpec(
        name=name,
        region=r.get(body, "region", str, where),
        reserved_concurrency=concurrency,
        requires_validated_in=r.get(body, "requires_validated_in", str, where, default=None),
        artifact_bucket=r.get(body, "artifact_bucket", str, where, default=config.artifact_bucket),
        variables=variables,
        buckets=buckets,
        account=None if account is None else str(account),
        min_soak_seconds=parse_duration(r, body.get("min_soak", 0), f"{where}.min_soak"),
        min_checks=r.get(body, "min_checks", int, where, default=0),
        monitoring=parse_monitoring(r, top, body, name, tuple(config.functions)),
    )


def _check_contract(r: Reader, config: ReleaseConfig) -> None:
    """Every key a function requires must have a value in every environment."""
    for env in config.environments.values():
        for function in config.functions:
            for key in config.required_env(function):
                if key == CONFIG_PREFIX_VAR:
                    raise r.fail(f"functions.{function}.env", f"{key} is set by the deploy")
                if key not in env.variables:
                    raise r.fail(
                        f"environments.{env.name}.variables.{key}",
                        f"missing contract value (required by {function})",
                    )
        model, region = env.variables.get(MODEL_VAR, ""), env.variables.get(REGION_VAR, "")
        if not model.startswith(SSM_PREFIX) and not region.startswith(SSM_PREFIX):
            problem = geography_problem(model, region)
            if problem:
                raise ConfigError(
                    f"{r.source}: environments.{env.name}.variables: {problem}",
                    f"set {REGION_VAR} to a region of that geography, or use a {MODEL_VAR} "
                    f"whose prefix matches {region}",
                )
