"""Check an environment against a record that has no release manifest (adopt, restore).

An adopted function runs code the tool did not build: there is no manifest to validate it
against, only what adopt recorded — the version alias ``live`` must name, its ``CodeSha256``
and its configuration (handler, runtime, memory, timeout, layers, env; secret-looking values
masked on both sides, so compared by key only).
"""

from __future__ import annotations

from typing import Any

from ..aws.lambda_ import ALIAS, if_exists
from ..common.clock import iso
from ..config.variables import MASK, is_secret_key
from ..deploy.target import Target
from ..store.ledger import DeploymentRecord
from .validate import CheckResult, ValidationReport

COMPARED = ("Handler", "Runtime", "MemorySize", "Timeout", "Layers", "Environment")


def masked_env(variables: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Env values with secret-looking ones replaced by the mask, and the masked keys."""
    masked = sorted(k for k in variables if is_secret_key(k))
    return {k: MASK if k in masked else v for k, v in variables.items()}, masked


def configuration(conf: dict[str, Any]) -> dict[str, Any]:
    """The restorable part of a Lambda configuration, secret values masked."""
    env, masked = masked_env((conf.get("Environment") or {}).get("Variables", {}))
    return {
        "Handler": conf.get("Handler"),
        "Runtime": conf.get("Runtime"),
        "MemorySize": conf.get("MemorySize"),
        "Timeout": conf.get("Timeout"),
        "Role": conf.get("Role"),
        "Description": conf.get("Description", ""),
        "Layers": [layer["Arn"] for layer in conf.get("Layers", [])],
        "Environment": env,
        "MaskedKeys": masked,
        "CodeSha256": conf.get("CodeSha256"),
        "Version": str(conf.get("Version", "$LATEST")),
    }


def config_differences(recorded: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Names of the compared fields that differ (env keys named, values never shown)."""
    out = [name for name in COMPARED[:-1] if recorded.get(name) != live.get(name)]
    want, have = recorded.get("Environment", {}), live.get("Environment", {})
    keys = sorted(k for k in {*want, *have} if want.get(k) != have.get(k))
    if keys:
        out.append("env " + ",".join(keys))
    return out


def check_recorded(target: Target, record: DeploymentRecord) -> ValidationReport:
    """Alias ``live`` of every recorded function on its version, code and configuration."""
    report = ValidationReport(target.name, record.release_id, iso(target.clock()))
    for fn, state in sorted(record.functions.items()):
        conf = if_exists(
            target.lam.get_function_configuration, FunctionName=state.name, Qualifier=ALIAS
        )
        if conf is None:
            report.checks.append(CheckResult("recorded", fn, False, f"no alias {ALIAS}"))
            continue
        live = configuration(conf)
        problems = []
        if live["Version"] != state.version:
            problems.append(f"{ALIAS} → {live['Version']}, recorded {state.version}")
        if live["CodeSha256"] != state.code_sha256:
            problems.append(f"CodeSha256 {live['CodeSha256']}, recorded {state.code_sha256}")
        problems += config_differences(state.config or {}, live)
        detail = "; ".join(problems) or f"version {state.version}, code and configuration"
        report.checks.append(CheckResult("recorded", fn, not problems, detail))
    return report
