"""Drift (live vs the ledger) and diff (one environment vs another)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..common.output import markdown_table, table
from ..config.model import CONFIG_PREFIX_VAR
from ..deploy.live_run import MonitoringLive, read_monitoring
from ..deploy.monitoring import MonitoringD
from ..deploy.release import target_monitoring
from ..deploy.target import Target
from .findings import Finding, all_findings, manifest_of, view_function

MONITORING = "monitoring"

DRIFT_HEADERS = ("check", "subject", "what", "expected", "live")


@dataclass
class DriftReport:
    env: str
    release_id: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.findings)

    def rows(self) -> list[tuple[str, ...]]:
        return [
            (f.check, f.subject, f.field, f.expected or "-", f.actual or "-") for f in self.findings
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "release": self.release_id,
            "drifted": self.drifted,
            "findings": [f.to_dict() for f in self.findings],
        }

    def render(self) -> str:
        if self.release_id is None:
            return f"{self.env}: nothing deployed yet, nothing to compare"
        if not self.drifted:
            return f"{self.env}: no drift from {self.release_id}"
        return f"{self.env}: {len(self.findings)} differences from {self.release_id}\n" + table(
            DRIFT_HEADERS, self.rows()
        )

    def markdown(self) -> str:
        if not self.drifted:
            return f"### {self.env}: no drift ✅"
        return f"### {self.env}: drift from {self.release_id} ❌\n\n" + markdown_table(
            DRIFT_HEADERS, self.rows()
        )


def drift(target: Target) -> DriftReport:
    """Live state of ``target`` against its current ledger record."""
    record = target.ledger.current()
    if record is None:
        return DriftReport(target.name, None)
    manifest = manifest_of(target, record)
    findings, _ = all_findings(target, manifest, record)
    return DriftReport(target.name, record.release_id, findings + monitoring_findings(target))


def monitoring_findings(target: Target) -> list[Finding]:
    """Schedules, alarms, topic and dashboard changed, disabled or deleted by hand; rules and
    alarms the tool made that release.yaml no longer declares (the next deploy removes them)."""
    desired = target_monitoring(target)
    return _compare_monitoring(desired, read_monitoring(target.client, desired))


def _compare_monitoring(desired: MonitoringD, live: MonitoringLive) -> list[Finding]:
    out = []
    if not live.topic_exists:
        out.append(Finding(MONITORING, desired.topic, "alerts topic", "exists", None))
    for rule in desired.rules:
        now = live.rules.get(rule.name)
        wanted = f"{rule.state} {rule.expression}"
        if now is None:
            out.append(Finding(MONITORING, rule.name, "schedule", wanted, None))
            continue
        if f"{now.state} {now.expression}" != wanted:
            actual = f"{now.state} {now.expression}"
            out.append(Finding(MONITORING, rule.name, "schedule", wanted, actual))
        if now.targets != ((rule.target_arn, rule.input),):
            actual = ", ".join(arn.rsplit(":function:", 1)[-1] for arn, _ in now.targets)
            target_name = f"{rule.function}:live"
            out.append(Finding(MONITORING, rule.name, "target", target_name, actual or None))
        if not now.permitted:
            out.append(Finding(MONITORING, rule.name, "invoke permission", "granted", None))
    for alarm in desired.alarms:
        current = live.alarms.get(alarm.name)
        if current is None:
            out.append(Finding(MONITORING, alarm.name, "alarm", "as declared", None))
            continue
        changed = sorted(k for k in current if current[k] != alarm.params.get(k))
        if changed:
            out.append(
                Finding(
                    MONITORING, alarm.name, "alarm", "as declared", "changed: " + ", ".join(changed)
                )
            )
    if live.dashboard_body is None:
        out.append(Finding(MONITORING, desired.dashboard, "dashboard", "exists", None))
    for name in sorted(live.undeclared_rules):
        out.append(Finding(MONITORING, name, "schedule", "not declared", "exists"))
    for name in live.undeclared_alarms:
        out.append(Finding(MONITORING, name, "alarm", "not declared", "exists"))
    return out


DIFF_HEADERS = ("what", "{a}", "{b}", "same")


@dataclass
class DiffReport:
    a: str
    b: str
    rows: list[tuple[str, str, str, bool]]

    @property
    def differs(self) -> bool:
        return not all(same for *_, same in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "differs": self.differs,
            "rows": [{"what": w, self.a: x, self.b: y, "same": s} for w, x, y, s in self.rows],
        }

    def render(self) -> str:
        headers = (h.format(a=self.a, b=self.b) for h in DIFF_HEADERS)
        body = [(w, x, y, "yes" if s else "NO") for w, x, y, s in self.rows]
        verdict = "differ in release content" if self.differs else "run the same release"
        return f"{self.a} vs {self.b}: {verdict}\n" + table(tuple(headers), body)


def _snapshot(target: Target) -> dict[str, str]:
    """Release content of an environment, normalised so that environments can be compared."""
    out: dict[str, str] = {}
    record = target.ledger.current()
    out["release"] = record.release_id if record else "-"
    out["config bundle"] = (record.config_bundle_sha256 or "-")[:16] if record else "-"
    out.update(_monitoring_snapshot(target))
    for fn in target.config.functions:
        view = view_function(target, fn)
        conf = view.configuration or {}
        out[f"{fn} code"] = conf.get("CodeSha256", "-")
        for arn, code in view.layers:
            layer = arn.rsplit(":", 2)[1]
            name = layer.removeprefix(f"{target.config.project}-").removesuffix(f"-{target.name}")
            out[f"{fn} layer {name}"] = code or "-"
        live = (conf.get("Environment") or {}).get("Variables", {})
        declared = target.config.declared_env(fn, target.name)
        for key in sorted(set(live) | set(declared)):
            if key == CONFIG_PREFIX_VAR:
                continue
            if key not in live:
                out[f"{fn} env {key}"] = "missing"
            elif key not in declared:
                out[f"{fn} env {key}"] = "undeclared"
            else:
                # references are compared as references (never resolved): see env_findings
                out[f"{fn} env {key}"] = "as declared" if live[key] == declared[key] else "changed"
    return out


MONITORING_ROWS = ("schedule ", "alarm ")
UNLIKE_DECLARED = " (declared: "


def _monitoring_snapshot(target: Target) -> dict[str, str]:
    """Schedules and alarms by their name without the environment, as they run.

    Each environment declares its own (dev's schedule off, prod's extra alarm…): a value is
    the live one, followed by ``(declared: …)`` when it is not what this environment declares.
    """
    desired = target_monitoring(target)
    live = read_monitoring(target.client, desired)
    out = {}

    def key(kind: str, name: str) -> str:
        bare = name.removeprefix(f"{target.config.project}-").removesuffix(f"-{target.name}")
        return f"{kind} {bare}"

    for rule in desired.rules:
        now, wanted = live.rules.get(rule.name), f"{rule.state} {rule.expression}"
        text = f"{now.state} {now.expression}" if now else "missing"
        out[key("schedule", rule.name)] = (
            text if text == wanted else f"{text}{UNLIKE_DECLARED}{wanted})"
        )
    for alarm in desired.alarms:
        current = live.alarms.get(alarm.name)
        wanted = f"{alarm.params['ComparisonOperator']} {alarm.params['Threshold']:g}"
        text = "missing"
        if current is not None:
            text = f"{current['ComparisonOperator']} {current['Threshold']:g}"
        as_declared = current is not None and all(
            current[k] == alarm.params.get(k) for k in current
        )
        out[key("alarm", alarm.name)] = text if as_declared else f"{text}{UNLIKE_DECLARED}{wanted})"
    return out


def _same(key: str, x: str, y: str) -> bool:
    """Equal, or, for a schedule or alarm, each as its own environment declares it."""
    if x == y:
        return True
    if not key.startswith(MONITORING_ROWS):
        return False
    return all(v != "missing" and UNLIKE_DECLARED not in v for v in (x, y))


def diff(a: Target, b: Target) -> DiffReport:
    """The two environments side by side; env values normalised by each one's declarations,
    schedules and alarms shown as they run and the same when each is as declared."""
    left, right = _snapshot(a), _snapshot(b)
    rows = []
    declared = 0
    for key in dict.fromkeys([*left, *right]):
        x, y = left.get(key, "-"), right.get(key, "-")
        if " env " in key and x == y == "as declared":
            declared += 1  # summarised below: the table shows what needs a look
            continue
        rows.append((key, x, y, _same(key, x, y)))
    rows.append((f"other env vars ({declared})", "as declared", "as declared", True))
    return DiffReport(a.name, b.name, rows)
