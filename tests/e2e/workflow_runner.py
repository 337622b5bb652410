"""Rehearse GitHub Actions workflows on this machine: the `run:` steps for real, actions replaced.

A :class:`Rehearsal` runs the jobs of one workflow in `needs` order the way a runner would: each
job gets a fresh workspace (the local equivalent of `actions/checkout`: a clone of the origin
repository at the event's commit, honouring `fetch-depth`), its own `RUNNER_TEMP`, the
`GITHUB_*` variables of the event, and no AWS credentials until its
`aws-actions/configure-aws-credentials` step (replaced by the embedded AWS's, after checking the
job may assume the role: `id-token: write` and the role's trust policy against the job's OIDC
subject). `run:` steps run unchanged with `bash --noprofile --norc -eo pipefail`, like
`shell: bash` on GitHub, with the `.venv` first on `PATH` and a `gh` shim that records releases.

The rehearsal is strict on purpose, so the YAML cannot drift from what it rehearses: an
expression, an action, a key or an `if:` it does not know raises :class:`RehearsalError` before
any step runs. It knows exactly what the workflows use today; teach it more when they need more.
Every action step and every replaced `run:` step is listed in :attr:`WorkflowRun.substitutions`.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vectora_release.local.server import CREDENTIALS


class RehearsalError(Exception):
    """The workflow uses something the rehearsal does not know (fix the workflow or teach it)."""


class StepFailed(Exception):
    """A replaced action failed the way the real one would (the step fails, not the harness)."""


# -- expressions ------------------------------------------------------------------------------
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(
    r"\s*(?:(?P<or>\|\|)|'(?P<literal>(?:[^']|'')*)'"
    r"|(?P<ref>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+)|(?P<other>\S+))"
)
# The properties of each context the workflows read. Anything else is unknown to the rehearsal.
GITHUB_PROPERTIES = frozenset({"sha", "ref", "ref_name", "repository", "token", "base_ref"})
RUNNER_PROPERTIES = frozenset({"temp"})
VARIABLES = frozenset({"AWS_ROLE_ARN", "AWS_REGION", "ATTESTATIONS"})  # docs/github-setup.md


@dataclass(frozen=True)
class Operand:
    kind: str  # "ref" (context.property) or "literal" (a single-quoted string)
    value: str


def parse_expression(
    text: str, *, inputs: frozenset[str] = frozenset(), matrix: frozenset[str] = frozenset()
) -> list[Operand]:
    """``a || b || 'literal'`` where each ref is ``context.property`` of a known context.

    That is the whole grammar the workflows use; any other form (functions, comparisons,
    ``secrets``, ``needs``, ``steps``, ``env``, the event payload…) raises RehearsalError.
    """
    operands: list[Operand] = []
    expect_operand = True
    for match in _TOKEN.finditer(text.strip()):
        if match.group("other") is not None or (match.group("or") is not None) == expect_operand:
            raise RehearsalError(f"unknown expression ${{{{ {text.strip()} }}}}: unsupported form")
        if match.group("or") is not None:
            expect_operand = True
            continue
        if match.group("literal") is not None:
            operands.append(Operand("literal", match.group("literal").replace("''", "'")))
        else:
            ref = match.group("ref")
            _check_ref(ref, text, inputs, matrix)
            operands.append(Operand("ref", ref))
        expect_operand = False
    if expect_operand:
        raise RehearsalError(f"unknown expression ${{{{ {text.strip()} }}}}: incomplete")
    return operands


def _check_ref(ref: str, text: str, inputs: frozenset[str], matrix: frozenset[str]) -> None:
    context, _, name = ref.partition(".")
    known: dict[str, frozenset[str]] = {
        "github": GITHUB_PROPERTIES,
        "runner": RUNNER_PROPERTIES,
        "vars": VARIABLES,
        "inputs": inputs,
        "matrix": matrix,
    }
    if context not in known or "." in name or name not in known[context]:
        raise RehearsalError(
            f"unknown expression ${{{{ {text.strip()} }}}}: the rehearsal does not know {ref!r}"
        )


def evaluate(text: str, contexts: Mapping[str, Mapping[str, str]], **names: frozenset[str]) -> str:
    """The value of ``text``: GitHub's ``||`` gives the first truthy operand, else the last."""
    value = ""
    for operand in parse_expression(text, **names):
        if operand.kind == "literal":
            value = operand.value
        else:
            context, _, name = operand.value.partition(".")
            value = str(contexts[context].get(name, "") or "")
        if value:
            return value
    return value


def substitute(value: Any, contexts: Mapping[str, Mapping[str, str]], **names: Any) -> Any:
    """``value`` with every ``${{ }}`` of its strings replaced (lists and mappings walked)."""
    if isinstance(value, str):
        return EXPRESSION.sub(lambda m: evaluate(m.group(1), contexts, **names), value)
    if isinstance(value, list):
        return [substitute(item, contexts, **names) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, contexts, **names) for key, item in value.items()}
    return value


def expressions_in(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(where, expression)`` for every ``${{ }}`` in the strings of ``value``."""
    if isinstance(value, str):
        for match in EXPRESSION.finditer(value):
            yield where, match.group(1).strip()
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from expressions_in(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from expressions_in(item, f"{where}.{key}" if where else str(key))


# -- workflow files -------------------------------------------------------------------------
WORKFLOW_KEYS = frozenset({"name", "on", "permissions", "concurrency", "jobs"})
JOB_KEYS = frozenset(
    {"name", "needs", "runs-on", "timeout-minutes", "environment", "concurrency", "permissions"}
    | {"strategy", "steps"}
)
STEP_KEYS = frozenset({"name", "uses", "with", "run", "env", "id", "if", "continue-on-error"})
# The step `if:` forms rehearsed: an earlier step's outcome, a variable compared to a literal.
STEP_IF = re.compile(
    r"^(?:steps\.(?P<step>[\w-]+)\.outcome|vars\.(?P<var>\w+))\s*(?P<op>==|!=)\s*'(?P<value>[^']*)'$"
)
TRIGGERS = {
    "push": frozenset({"branches", "tags"}),
    "workflow_dispatch": frozenset({"inputs"}),
    "schedule": None,  # a list of crons
    "pull_request": frozenset(),
}
INPUT_KEYS = frozenset({"description", "type", "options", "required", "default"})


@dataclass(frozen=True)
class Workflow:
    name: str  # the file's stem: main, release…
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Workflow:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise RehearsalError(f"{path.name}: not a mapping")
        if True in data:  # YAML 1.1 reads the key `on` as True
            data["on"] = data.pop(True)
        workflow = cls(path.stem, data)
        workflow.check()
        return workflow

    @property
    def triggers(self) -> dict[str, Any]:
        return self.data["on"]

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        return (self.triggers.get("workflow_dispatch") or {}).get("inputs") or {}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return self.data["jobs"]

    def names(self, job: dict[str, Any] | None = None) -> dict[str, frozenset[str]]:
        """What ``inputs.*`` and ``matrix.*`` may name (for the expression parser)."""
        matrix = ((job or {}).get("strategy") or {}).get("matrix") or {}
        return {"inputs": frozenset(self.inputs), "matrix": frozenset(matrix)}

    def check(self) -> list[tuple[str, str]]:
        """Refuse what the rehearsal does not know; return every expression (where, text)."""
        self._keys(self.data, WORKFLOW_KEYS, self.name)
        for trigger, value in self.triggers.items():
            if trigger not in TRIGGERS:
                raise RehearsalError(f"{self.name}: trigger {trigger!r} is not rehearsed")
            allowed = TRIGGERS[trigger]
            if allowed is not None and value:
                self._keys(value, allowed, f"{self.name}: on.{trigger}")
        for name, spec in self.inputs.items():
            self._keys(spec, INPUT_KEYS, f"{self.name}: input {name}")
            if spec.get("type", "string") not in ("string", "choice"):
                raise RehearsalError(f"{self.name}: input {name}: type {spec['type']!r}")
        found = list(expressions_in(self.data.get("concurrency"), "concurrency"))
        for _, text in found:
            parse_expression(text, **self.names())
        for job_id, job in self.jobs.items():
            found += self._check_job(job_id, job)
        self.order()
        return found

    def _check_job(self, job_id: str, job: dict[str, Any]) -> list[tuple[str, str]]:
        where = f"{self.name}: jobs.{job_id}"
        self._keys(job, JOB_KEYS, where)
        if not str(job.get("runs-on", "")).startswith("ubuntu-"):
            raise RehearsalError(f"{where}: runs-on {job.get('runs-on')!r} (bash on Linux only)")
        if not isinstance(job.get("permissions", self.data.get("permissions", {})), dict):
            raise RehearsalError(f"{where}: permissions must be a mapping of scopes")
        strategy = job.get("strategy") or {}
        self._keys(strategy, frozenset({"matrix", "fail-fast"}), f"{where}.strategy")
        for key, values in (strategy.get("matrix") or {}).items():
            if key in ("include", "exclude") or not isinstance(values, list):
                raise RehearsalError(f"{where}.strategy.matrix.{key}: only lists of values")
        for index, step in enumerate(job.get("steps") or []):
            label = f"{where}.steps[{index}]"
            self._keys(step, STEP_KEYS, label)
            if "if" in step:
                match = STEP_IF.match(str(step["if"]).strip())
                if not match or (match["var"] and match["var"] not in VARIABLES):
                    raise RehearsalError(f"{label}: if: {step['if']!r} is not a rehearsed form")
            if ("uses" in step) == ("run" in step):
                raise RehearsalError(f"{label}: exactly one of uses/run")
            if "uses" in step:
                action = action_name(step["uses"])
                if action not in ACTIONS:
                    raise RehearsalError(
                        f"{label}: action {step['uses']!r} — the rehearsal does not know how to "
                        "replace or skip it"
                    )
                self._keys(step.get("with") or {}, ACTIONS[action].inputs, f"{label}.with")
            elif EXPRESSION.search(step["run"]):
                raise RehearsalError(
                    f"{label}: an expression inside run: is not rehearsed (and is a script "
                    "injection risk); pass it through env:"
                )
        found = list(expressions_in(job, f"jobs.{job_id}"))
        for _, text in found:
            parse_expression(text, **self.names(job))
        return found

    @staticmethod
    def _keys(mapping: Any, allowed: frozenset[str], where: str) -> None:
        if not isinstance(mapping, dict):
            raise RehearsalError(f"{where}: expected a mapping")
        unknown = sorted(str(k) for k in mapping if k not in allowed)
        if "if" in unknown:
            raise RehearsalError(
                f"{where}: if: {mapping['if']!r} — no if: form is rehearsed yet (none is used)"
            )
        if unknown:
            raise RehearsalError(f"{where}: the rehearsal does not handle {', '.join(unknown)}")

    def order(self) -> list[str]:
        """Job ids in `needs` order (file order among independent jobs)."""
        needs = {job_id: _as_list(job.get("needs")) for job_id, job in self.jobs.items()}
        for job_id, required in needs.items():
            for need in required:
                if need not in needs:
                    raise RehearsalError(f"{self.name}: jobs.{job_id} needs unknown job {need!r}")
        ordered: list[str] = []
        while len(ordered) < len(needs):
            ready = [j for j in needs if j not in ordered and set(needs[j]) <= set(ordered)]
            if not ready:
                raise RehearsalError(f"{self.name}: a cycle in needs")
            ordered.append(ready[0])
        return ordered


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def action_name(uses: str) -> str:
    """``owner/repo`` of ``owner/repo@ref`` (local and docker actions are not rehearsed)."""
    if "@" not in uses or uses.startswith(("./", "docker://")):
        raise RehearsalError(f"action {uses!r}: only owner/repo@ref actions are rehearsed")
    return uses.split("@", 1)[0]


def _filter_matches(pattern: str, name: str) -> bool:
    """GitHub's branch/tag filter: ``*`` matches anything but ``/``, ``**`` anything."""
    if re.search(r"[?\[\]!+]", pattern):
        raise RehearsalError(f"filter pattern {pattern!r}: only * and ** are rehearsed")
    regex = "".join(
        ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
        for part in re.split(r"(\*\*|\*)", pattern)
    )
    return re.fullmatch(regex, name) is not None


# -- results ----------------------------------------------------------------------------------
@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    seconds: float = 0.0
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    summary: str = ""  # what the step appended to $GITHUB_STEP_SUMMARY
    replaced_by: str | None = None  # how an action (or a replaced run:) was rehearsed
    run: str | None = None

    def log(self) -> str:
        text = f"--- step {self.name!r}: {self.outcome} (exit {self.returncode})\n"
        return text + (self.stdout[-3000:] + self.stderr[-3000:]).rstrip() + "\n"


@dataclass
class JobResult:
    key: str  # job id, with matrix values: drift[stage]
    job_id: str
    name: str
    environment: str | None
    concurrency: dict[str, Any] | None
    permissions: dict[str, str]
    workspace: Path
    outcome: str = "success"  # success | failure | skipped | cancelled
    steps: list[StepResult] = field(default_factory=list)
    assumed_role: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # the job's environment variables

    @property
    def summary(self) -> str:
        """The job summary: every step's summary, in order (as GitHub shows it)."""
        return "".join(step.summary for step in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return f"=== job {self.key}: {self.outcome}\n" + "".join(s.log() for s in self.steps)


@dataclass
class WorkflowRun:
    workflow: str
    event: str
    github: dict[str, str]
    jobs: dict[str, JobResult] = field(default_factory=dict)
    substitutions: list[str] = field(default_factory=list)  # "job: what → how"

    @property
    def ok(self) -> bool:
        return all(job.outcome == "success" for job in self.jobs.values())

    def job(self, key: str) -> JobResult:
        return self.jobs[key]

    def log(self) -> str:
        return f"##### {self.workflow} ({self.event} {self.github['ref']})\n" + "".join(
            job.log() for job in self.jobs.values()
        )


# -- actions: their local equivalents -----------------------------------------------------------
@dataclass
class StepContext:
    rehearsal: Rehearsal
    run: WorkflowRun
    job: JobResult
    with_: dict[str, Any]
    artifacts: Path  # this run's actions artifacts (upload-artifact / download-artifact)


@dataclass(frozen=True)
class Action:
    inputs: frozenset[str]  # the `with:` keys the replacement understands
    replace: Callable[[StepContext], str]  # does the local equivalent; returns how


def _git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StepFailed(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def _checkout(ctx: StepContext) -> str:
    """A fresh clone of the origin at github.sha, as actions/checkout does (depth honoured)."""
    depth = int(ctx.with_.get("fetch-depth", 1))
    ws, sha, ref = ctx.job.workspace, ctx.run.github["sha"], ctx.run.github["ref"]
    ws.mkdir(parents=True, exist_ok=True)
    _git(ws, "init", "-q")
    _git(ws, "remote", "add", "origin", ctx.rehearsal.origin.resolve().as_uri())
    if ref.startswith("refs/heads/"):
        dest = "refs/remotes/origin/" + ref.removeprefix("refs/heads/")
    elif ref.startswith("refs/tags/"):
        dest = ref
    else:
        raise RehearsalError(f"checkout of {ref!r} is not rehearsed")
    if depth == 0:  # all branches and tags, then make sure the ref is the event's commit
        _git(ws, "fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*",
             "+refs/tags/*:refs/tags/*")  # fmt: skip
        if ref.startswith("refs/heads/"):
            _git(ws, "fetch", "-q", "origin", f"+{sha}:{dest}")
    else:
        _git(ws, "fetch", "-q", "--no-tags", f"--depth={depth}", "origin", f"+{sha}:{dest}")
    if ref.startswith("refs/heads/"):
        _git(ws, "checkout", "-q", "--force", "-B", ref.removeprefix("refs/heads/"), sha)
    else:
        _git(ws, "checkout", "-q", "--force", ref)
    head = _git(ws, "rev-parse", "HEAD")
    if head != sha:
        raise StepFailed(f"checkout: {ref} is {head}, the event's commit is {sha}")
    return f"local clone (fetch-depth {depth})"


def _setup_python(ctx: StepContext) -> str:
    if not ctx.with_.get("python-version"):
        raise StepFailed("setup-python: no python-version")
    return "the .venv's Python on PATH"


def _aws_credentials(ctx: StepContext) -> str:
    """OIDC → the embedded AWS's credentials, once the job could really assume the role."""
    job, role = ctx.job, str(ctx.with_.get("role-to-assume", ""))
    region = str(ctx.with_.get("aws-region", ""))
    if job.permissions.get("id-token") != "write":
        raise StepFailed("Could not get ID token: the job lacks permissions id-token: write")
    if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", role):
        raise StepFailed(f"role-to-assume {role!r} is not a role ARN (vars.AWS_ROLE_ARN unset?)")
    if not region:
        raise StepFailed("aws-region is empty")
    policy = ctx.rehearsal.trust_policies.get(role)
    if policy is None:
        raise StepFailed(f"{role}: no such role in the rehearsal's account")
    subject = (
        f"repo:{ctx.run.github['repository']}:environment:{job.environment}"
        if job.environment
        else f"repo:{ctx.run.github['repository']}:ref:{ctx.run.github['ref']}"
    )
    if not trust_allows(policy, subject):
        raise StepFailed(
            f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {role} (sub {subject})"
        )
    job.assumed_role = role
    job.env.update(CREDENTIALS)  # what the real action exports, from the embedded AWS
    job.env.update(AWS_ENDPOINT_URL=ctx.rehearsal.aws_endpoint, AWS_REGION=region)
    if ctx.rehearsal.bedrock_endpoint:  # moto serves no model: the functions reach the stand-in
        job.env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = ctx.rehearsal.bedrock_endpoint
    job.env["AWS_DEFAULT_REGION"] = region
    return "embedded AWS credentials, trust policy checked"


def trust_allows(policy: dict[str, Any], subject: str) -> bool:
    """Does a role trust policy let a GitHub OIDC token with ``subject`` assume the role?"""
    provider = "token.actions.githubusercontent.com"
    claims = {f"{provider}:sub": subject, f"{provider}:aud": "sts.amazonaws.com"}
    for statement in policy.get("Statement", []):
        federated = str(statement.get("Principal", {}).get("Federated", ""))
        if statement.get("Effect") != "Allow" or not federated.endswith(f"/{provider}"):
            continue
        if statement.get("Action") != "sts:AssumeRoleWithWebIdentity":
            continue
        conditions = statement.get("Condition", {})
        if set(conditions) - {"StringEquals"}:
            raise RehearsalError(f"trust condition {sorted(conditions)}: only StringEquals")
        wanted = conditions.get("StringEquals", {})
        if all(claims.get(key) in _as_list(value) for key, value in wanted.items()):
            return True
    return False


def _attest(ctx: StepContext) -> str:
    if not {"id-token", "attestations"} <= {
        k for k, v in ctx.job.permissions.items() if v == "write"
    }:
        raise StepFailed("attest-build-provenance needs id-token: write and attestations: write")
    if not ctx.rehearsal.attestations:
        raise StepFailed(
            "Feature not available for user-owned private repositories (attestations need a "
            "public repository or GitHub Enterprise Cloud)"
        )
    pattern = str(ctx.with_.get("subject-path", ""))
    if not glob.glob(pattern, root_dir=ctx.job.workspace):
        raise StepFailed(f"attest-build-provenance: no file matches {pattern!r}")
    return "subjects checked, not signed"


def _upload(ctx: StepContext) -> str:
    name, path = str(ctx.with_.get("name", "")), str(ctx.with_.get("path", ""))
    if not name or not path or "\n" in path or "*" in path:
        raise RehearsalError(f"upload-artifact name={name!r} path={path!r}: one file or folder")
    source, store = ctx.job.workspace / path, ctx.artifacts / name
    if store.exists():
        raise StepFailed(f"upload-artifact: an artifact named {name!r} already exists")
    if not source.exists():
        if ctx.with_.get("if-no-files-found", "warn") == "error":
            raise StepFailed(f"upload-artifact: no files were found with path {path}")
        return "copied to the rehearsal's artifact store"
    if source.is_dir():
        shutil.copytree(source, store)
    else:  # a single file lands at the artifact's root
        store.mkdir(parents=True)
        shutil.copy2(source, store / source.name)
    return "copied to the rehearsal's artifact store"


def _download(ctx: StepContext) -> str:
    name = str(ctx.with_.get("name", ""))
    store = ctx.artifacts / name
    if not name or not store.is_dir():
        raise StepFailed(f"download-artifact: artifact {name!r} not found")
    shutil.copytree(store, ctx.job.workspace / str(ctx.with_.get("path", ".")), dirs_exist_ok=True)
    return "copied from the rehearsal's artifact store"


ACTIONS: dict[str, Action] = {
    "actions/checkout": Action(frozenset({"fetch-depth", "persist-credentials"}), _checkout),
    "actions/setup-python": Action(frozenset({"python-version"}), _setup_python),
    "aws-actions/configure-aws-credentials": Action(
        frozenset({"role-to-assume", "aws-region"}), _aws_credentials
    ),
    "actions/attest-build-provenance": Action(frozenset({"subject-path"}), _attest),
    "actions/upload-artifact": Action(
        frozenset({"name", "path", "if-no-files-found", "retention-days"}), _upload
    ),
    "actions/download-artifact": Action(frozenset({"name", "path"}), _download),
}
# run: scripts replaced because the rehearsal already has what they set up.
RUN_REPLACEMENTS = {
    "python -m pip install .": "skipped: vectora-release is installed in .venv",
    "python -m pip install --require-hashes --no-deps -r requirements/release-tool.txt": (
        "skipped: the pinned dependencies are installed in .venv"
    ),
    "python -m pip install --no-deps --no-build-isolation .": (
        "skipped: vectora-release is installed in .venv"
    ),
    "python -m pip install -e '.[dev]'": "skipped: vectora-release is installed in .venv",
}
GH_SHIM_HOW = "local gh shim: tag, notes and assets checked, release recorded"

# The `gh` the `run:` steps find on PATH: `gh release create` only, checked and recorded.
GH_SHIM = '''#!{python}
"""gh shim of the rehearsal: `gh release create TAG [--verify-tag] [--title T] [--notes-file F]
[ASSETS…]`; checks what GitHub would check and records the release under {releases}."""
import json, os, shutil, subprocess, sys
from pathlib import Path

releases = Path({releases!r})
args = sys.argv[1:]
with open(releases / "calls.log", "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
def fail(message):
    sys.stderr.write(f"gh (rehearsal shim): {{message}}\\n")
    sys.exit(1)
if args[:2] != ["release", "create"] or len(args) < 3:
    fail(f"unsupported command {{args!r}}")
tag, rest, opts, assets = args[2], args[3:], {{}}, []
while rest:
    arg = rest.pop(0)
    if arg == "--verify-tag":
        opts[arg] = True
    elif arg in ("--title", "--notes-file"):
        opts[arg] = rest.pop(0)
    elif arg.startswith("-"):
        fail(f"unsupported option {{arg}}")
    else:
        assets.append(arg)
if not os.environ.get("GH_TOKEN"):
    fail("GH_TOKEN is not set")
if os.environ.get("GH_REPO") != {repository!r}:
    fail(f"GH_REPO is {{os.environ.get('GH_REPO')!r}}")
if opts.get("--verify-tag"):
    out = subprocess.run(["git", "ls-remote", "--tags", "origin", f"refs/tags/{{tag}}"],
                         capture_output=True, text=True, check=True).stdout
    if not out.strip():
        fail(f"tag {{tag}} does not exist in the repository")
notes = Path(opts.get("--notes-file", ""))
if not notes.is_file() or not notes.read_text(encoding="utf-8").strip():
    fail(f"notes file {{notes}} is missing or empty")
dest = releases / tag
if dest.exists():
    fail(f"a release with the same tag name already exists: {{tag}}")
for asset in assets:
    if not Path(asset).is_file():
        fail(f"asset {{asset}} does not exist")
dest.mkdir(parents=True)
for asset in assets:
    shutil.copy2(asset, dest / Path(asset).name)
record = {{"tag": tag, "title": opts.get("--title", tag), "assets": [Path(a).name for a in assets],
          "notes": notes.read_text(encoding="utf-8")}}
(dest / "release.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
print(f"https://github.com/{repository}/releases/tag/{{tag}}")
'''


# -- the runner -----------------------------------------------------------------------------------
@dataclass
class Rehearsal:
    """Runs workflows of ``workflows`` against ``origin`` (the repository GitHub would hold)."""

    workflows: Path
    origin: Path
    root: Path  # the runners' disks: workspaces, temp dirs, artifacts, the gh shim's releases
    aws_endpoint: str
    venv_bin: Path
    variables: dict[str, dict[str, str]]  # "" → repository variables; name → environment's
    trust_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # role ARN → policy
    repository: str = "vectora/vectora-inbox"
    actor: str = "release-manager"
    verbose: bool = True
    bedrock_endpoint: str | None = None  # the Bedrock-runtime stand-in beside the embedded AWS
    run_id: int = 7000
    attestations: bool = True  # False: a private repository without GitHub Enterprise Cloud

    def __post_init__(self) -> None:
        self.bin = self.root / "bin"
        self.releases = self.root / "github-releases"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.releases.mkdir(parents=True, exist_ok=True)
        shim = self.bin / "gh"
        shim.write_text(
            GH_SHIM.format(
                python=sys.executable, releases=str(self.releases), repository=self.repository
            ),
            encoding="utf-8",
        )
        shim.chmod(0o755)

    def gh_calls(self) -> int:
        log = self.releases / "calls.log"
        return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0

    # -- one workflow run -----------------------------------------------------------------------
    def run(
        self,
        workflow: str,
        *,
        event: str,
        ref: str = "refs/heads/main",
        sha: str | None = None,
        inputs: dict[str, str] | None = None,
        jobs: tuple[str, ...] | None = None,
    ) -> WorkflowRun:
        """One run of ``workflow`` for ``event`` on ``ref`` (at ``sha``, default its tip).

        ``jobs`` rehearses only those jobs (a job whose needs were left out runs anyway).
        """
        wf = Workflow.load(self.workflows / f"{workflow}.yml")
        unknown_jobs = set(jobs or ()) - set(wf.jobs)
        if unknown_jobs:
            raise RehearsalError(f"{workflow}: no job {sorted(unknown_jobs)}")
        given_inputs = self._trigger(wf, event, ref, inputs or {})
        self.run_id += 1
        sha = sha or _git(self.origin, "rev-parse", f"{ref}^{{commit}}")
        github = {
            "sha": sha,
            "ref": ref,
            "ref_name": ref.split("/", 2)[2] if ref.startswith("refs/") else ref,
            "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
            "repository": self.repository,
            "token": "ghs_rehearsalTokenNotARealOne",
            "base_ref": "",
            "event_name": event,
            "actor": self.actor,
            "run_id": str(self.run_id),
            "server_url": "https://github.com",
        }
        run = WorkflowRun(workflow, event, github)
        self._say(f"##### {workflow}.yml on {event} {ref} @ {sha[:7]} (run {self.run_id})")
        for job_id in wf.order():
            if jobs is not None and job_id not in jobs:
                continue
            job = wf.jobs[job_id]
            needs = _as_list(job.get("needs"))
            failed_needs = [
                r for r in run.jobs.values() if r.job_id in needs and r.outcome != "success"
            ]
            strategy = job.get("strategy") or {}
            matrix = strategy.get("matrix") or {}
            combos = [dict(zip(matrix, values, strict=True)) for values in
                      itertools.product(*matrix.values())] or [{}]  # fmt: skip
            cancelled = False
            for values in combos:
                key = job_id + (f"[{','.join(map(str, values.values()))}]" if values else "")
                job_run = self._job(wf, run, key, job_id, values, given_inputs)
                result = job_run.result
                if failed_needs or cancelled:
                    result.outcome = "skipped" if failed_needs else "cancelled"
                    self._say(f"  [{key}] {result.outcome}")
                else:
                    job_run.execute(self)
                    if result.outcome == "failure" and strategy.get("fail-fast", True):
                        cancelled = True
                run.jobs[key] = result
        return run

    def _trigger(
        self, wf: Workflow, event: str, ref: str, inputs: dict[str, str]
    ) -> dict[str, str]:
        """Check that ``event`` on ``ref`` triggers ``wf``; the resolved dispatch inputs."""
        if event not in wf.triggers or event == "pull_request":
            raise RehearsalError(f"{wf.name}: not rehearsed on {event!r}")
        spec = wf.triggers[event] or {}
        if event == "push":
            kind, name = (
                ("tags", ref[10:]) if ref.startswith("refs/tags/") else ("branches", ref[11:])
            )
            filters = spec.get(kind)
            if filters is None and (spec.get("branches") or spec.get("tags")):
                raise RehearsalError(f"{wf.name}: a push of {ref} does not trigger it")
            if filters is not None and not any(_filter_matches(p, name) for p in filters):
                raise RehearsalError(f"{wf.name}: a push of {ref} does not match {filters}")
        if event != "workflow_dispatch":
            if inputs:
                raise RehearsalError(f"{wf.name}: inputs only with workflow_dispatch")
            return {}
        unknown = set(inputs) - set(wf.inputs)
        if unknown:
            raise RehearsalError(f"{wf.name}: unknown inputs {sorted(unknown)}")
        resolved = {}
        for name, declared in wf.inputs.items():
            value = str(inputs.get(name, declared.get("default", "")))
            if declared.get("required") and not value:
                raise RehearsalError(f"{wf.name}: input {name} is required")
            if declared.get("type") == "choice" and value not in declared.get("options", []):
                raise RehearsalError(f"{wf.name}: input {name}={value!r} is not an option")
            resolved[name] = value
        return resolved

    def _job(
        self,
        wf: Workflow,
        run: WorkflowRun,
        key: str,
        job_id: str,
        matrix: dict[str, Any],
        inputs: dict[str, str],
    ) -> _JobRun:
        """The job's resolved settings (name, environment, concurrency, variables, env)."""
        job = wf.jobs[job_id]
        disk = self.root / f"run-{run.github['run_id']}" / key
        contexts: dict[str, dict[str, str]] = {
            "github": run.github,
            "runner": {"temp": str(disk / "temp")},
            "inputs": inputs,
            "matrix": {k: str(v) for k, v in matrix.items()},
            "vars": dict(self.variables.get("", {})),
        }
        names = wf.names(job)
        environment = substitute(job.get("environment"), contexts, **names)
        if isinstance(environment, dict):
            environment = environment.get("name")
        if environment:
            contexts["vars"].update(self.variables.get(environment, {}))
        result = JobResult(
            key=key,
            job_id=job_id,
            name=substitute(job.get("name", job_id), contexts, **names),
            environment=environment or None,
            concurrency=substitute(job.get("concurrency"), contexts, **names),
            permissions=dict(job.get("permissions", wf.data.get("permissions")) or {}),
            workspace=disk / "workspace",
        )
        result.env = self._base_env(run, result, disk)
        timeout = float(job.get("timeout-minutes", 360)) * 60
        return _JobRun(run, result, job.get("steps") or [], contexts, names, disk, timeout)

    def _base_env(self, run: WorkflowRun, job: JobResult, disk: Path) -> dict[str, str]:
        """A runner's environment: no AWS credentials, no GITHUB_* but the event's."""
        dropped = ("AWS_", "GITHUB_", "RUNNER_", "ACTIONS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k != "CI"}
        (disk / "temp").mkdir(parents=True, exist_ok=True)
        g = run.github
        env.update(
            PATH=os.pathsep.join([str(self.venv_bin), str(self.bin), env.get("PATH", "")]),
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_SHA=g["sha"],
            GITHUB_REF=g["ref"],
            GITHUB_REF_NAME=g["ref_name"],
            GITHUB_REF_TYPE=g["ref_type"],
            GITHUB_REPOSITORY=g["repository"],
            GITHUB_ACTOR=g["actor"],
            GITHUB_RUN_ID=g["run_id"],
            GITHUB_RUN_ATTEMPT="1",
            GITHUB_SERVER_URL=g["server_url"],
            GITHUB_EVENT_NAME=g["event_name"],
            GITHUB_WORKFLOW=run.workflow,
            GITHUB_JOB=job.job_id,
            GITHUB_WORKSPACE=str(job.workspace),
            RUNNER_TEMP=str(disk / "temp"),
            RUNNER_OS="Linux",
        )
        return env

    def _say(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)


@dataclass
class _JobRun:
    """One job being run: its steps in order, a failed step skipping the rest."""

    run: WorkflowRun
    result: JobResult
    steps: list[dict[str, Any]]
    contexts: dict[str, dict[str, str]]
    names: dict[str, frozenset[str]]
    disk: Path
    timeout: float

    def execute(self, rehearsal: Rehearsal) -> None:
        result = self.result
        where = f" (environment {result.environment})" if result.environment else ""
        rehearsal._say(f"  [{result.key}] {result.name}{where}")
        deadline = time.monotonic() + self.timeout
        outcomes: dict[str, str] = {}  # step id → outcome (before continue-on-error)
        for step in self.steps:
            label = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            if result.outcome != "success" or not self.wanted(step, outcomes):
                result.steps.append(StepResult(label, "skipped"))
                outcomes[step.get("id", "")] = "skipped"
                continue
            started = time.monotonic()
            if "uses" in step:
                outcome = self.action(rehearsal, step, label)
            else:
                outcome = self.script(rehearsal, step, label, deadline)
            outcome.seconds = time.monotonic() - started
            result.steps.append(outcome)
            outcomes[step.get("id", "")] = outcome.outcome
            if outcome.outcome != "success" and not step.get("continue-on-error"):
                result.outcome = "failure"
            mark = "ok  " if outcome.outcome == "success" else "FAIL"
            how = f" [{outcome.replaced_by}]" if outcome.replaced_by else ""
            rehearsal._say(f"    {mark} {outcome.seconds:6.1f}s {label}{how}")
            if outcome.outcome != "success":
                rehearsal._say(outcome.log())

    def substitute(self, value: Any) -> Any:
        return substitute(value, self.contexts, **self.names)

    def wanted(self, step: dict[str, Any], outcomes: dict[str, str]) -> bool:
        """A step's ``if:`` (implicitly ``success() && …``, which the caller checks)."""
        if "if" not in step:
            return True
        match = STEP_IF.match(str(step["if"]).strip())
        assert match is not None  # Workflow.check refused any other form
        if match["step"]:
            actual = outcomes.get(match["step"], "")
        else:
            actual = self.contexts["vars"].get(match["var"], "")
        return (actual == match["value"]) == (match["op"] == "==")

    def action(self, rehearsal: Rehearsal, step: dict[str, Any], label: str) -> StepResult:
        action = action_name(step["uses"])
        artifacts = self.disk.parent / "artifacts"
        ctx = StepContext(
            rehearsal, self.run, self.result, self.substitute(step.get("with") or {}), artifacts
        )
        try:
            how = ACTIONS[action].replace(ctx)
        except StepFailed as exc:
            self.run.substitutions.append(f"{self.result.key}: {action} → FAILED")
            return StepResult(label, "failure", stderr=str(exc), replaced_by="failed")
        self.run.substitutions.append(f"{self.result.key}: {action} → {how}")
        return StepResult(label, "success", replaced_by=how)

    def script(
        self, rehearsal: Rehearsal, step: dict[str, Any], label: str, deadline: float
    ) -> StepResult:
        script, key = step["run"], self.result.key
        if script.strip() in RUN_REPLACEMENTS:
            how = RUN_REPLACEMENTS[script.strip()]
            self.run.substitutions.append(f"{key}: run {script.strip()!r} → {how}")
            return StepResult(label, "success", replaced_by=how, run=script)
        number = len(self.result.steps)
        files = {}
        for var in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            files[var] = self.disk / "files" / f"{number}-{var.lower()}"
            files[var].parent.mkdir(parents=True, exist_ok=True)
            files[var].write_text("", encoding="utf-8")
        script_file = self.disk / "files" / f"{number}-step.sh"
        script_file.write_text(script, encoding="utf-8")
        step_env = {k: str(v) for k, v in self.substitute(step.get("env") or {}).items()}
        env = {**self.result.env, **step_env, **{var: str(p) for var, p in files.items()}}
        calls = rehearsal.gh_calls()
        try:
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
                cwd=self.result.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
            code, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            code, out, err = -1, str(exc.stdout or ""), f"timed out (timeout-minutes) {exc.stderr}"
        for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            if files[var].read_text(encoding="utf-8").strip():
                raise RehearsalError(
                    f"{key}: step {label!r} wrote ${var}: the rehearsal does not apply it yet"
                )
        replaced_by = None
        if rehearsal.gh_calls() > calls:
            replaced_by = GH_SHIM_HOW
            self.run.substitutions.append(f"{key}: run 'gh release create …' → {GH_SHIM_HOW}")
        return StepResult(
            label,
            "success" if code == 0 else "failure",
            returncode=code,
            stdout=out,
            stderr=err,
            summary=files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
            replaced_by=replaced_by,
            run=script,
        )
