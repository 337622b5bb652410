"""Lint every IAM policy the project ships with parliament, offline (``make lint``).

Each permission template of ``iam/`` is rendered for every environment as bootstrap and
iam/bootstrap.yaml render it (trust policies are not permission policies: parliament cannot
read them; tests/unit/workflows/test_deploy_role_templates.py checks them). Parliament's default
auditors must find nothing, but for the one finding docs/security.md explains
(``RESOURCE_MISMATCH`` of ``bedrock:InvokeModel``: parliament wants every resource type the
action can take, and granting them all would widen the function roles).

Its community privilege-escalation auditor flags action combinations any Lambda deployer
needs: each kind it reports must be explained in docs/security.md (a table row starting with
the kind in backquotes), so a new kind fails the lint until someone writes why it is harmless.
"""

from __future__ import annotations

import json
import re
import string
import sys
from pathlib import Path

from parliament import analyze_policy_string

ROOT = Path(__file__).resolve().parents[1]
EXPLAINED_IN = ROOT / "docs" / "security.md"
VALUES = {
    "Project": "vectora-inbox",
    "Region": "eu-west-3",
    "Account": "123456789012",
    "Repo": "vectora/vectora-inbox",
    "Bucket": "vectora-inbox-artifacts",
}
ENVS = {"observe-policy": ("observe",)}
# (issue, action): default findings accepted because docs/security.md explains them.
ACCEPTED = {("RESOURCE_MISMATCH", "bedrock:InvokeModel")}


def rendered() -> list[tuple[str, str]]:
    """(label, policy JSON) for every template and environment."""
    found = []
    for path in sorted((ROOT / "iam").glob("*.json")):
        if path.stem.endswith("-trust"):
            continue
        for env in ENVS.get(path.stem, ("dev", "stage", "prod")):
            text = string.Template(path.read_text(encoding="utf-8")).substitute(VALUES, Env=env)
            found.append((f"{path.name} ({env})", json.dumps(json.loads(text))))
    return found


def findings(text: str, community: bool) -> list[tuple[str, str]]:
    policy = analyze_policy_string(text, include_community_auditors=community)
    return [
        (f.issue, json.dumps(f.location, sort_keys=True))
        for f in policy.findings
        if not _accepted(f.issue, f.detail)
    ]


def _accepted(issue: str, detail: object) -> bool:
    actions = {d.get("action") for d in detail} if isinstance(detail, list) else {None}
    return all((issue, action) in ACCEPTED for action in actions)


def main() -> int:
    explained = set(re.findall(r"^\| `(\w+)` \|", EXPLAINED_IN.read_text(encoding="utf-8"), re.M))
    problems, kinds = [], set()
    policies = rendered()
    for label, text in policies:
        default = findings(text, community=False)
        problems += [f"{label}: {issue} {where}" for issue, where in default]
        for issue, where in findings(text, community=True):
            if (issue, where) in default:
                continue
            escalation = issue == "PRIVILEGE_ESCALATION"
            kind = json.loads(where).get("type", issue) if escalation else issue
            kinds.add(kind)
            if kind not in explained:
                problems.append(f"{label}: {issue} {kind} not explained in docs/security.md")
    for problem in problems:
        print(problem)
    print(
        f"parliament: {len(policies)} rendered policies, {len(problems)} problems; "
        f"community findings explained in docs/security.md: {', '.join(sorted(kinds)) or 'none'}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
