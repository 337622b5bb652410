"""Peer benchmark: the same src_v2/ built and released by AWS SAM CLI and by vectora-release.

    .venv/bin/python bench/peer_sam.py [--runs 5] [--skip-release]      (make bench)

AWS SAM CLI 1.170.0 is installed from PyPI into its own virtualenv (``.cache/peer-sam/``,
Python 3.12, which ``sam build`` needs for python3.12 functions). A SAM template is generated
for the same inputs: two layers (``vectora-core``: the package; ``common-deps``: the pinned
requirements) and three python3.12 functions. Both tools run as the console scripts operators
type, alternately (SAM, ours, SAM, ours…) so that the machine's load falls on both alike:

- cold build: a fresh output folder and an emptied dependency cache (pip's and uv's own
  download caches stay warm): ``sam build`` vs ``vectora-release build`` with a new
  ``VECTORA_RELEASE_CACHE``;
- unchanged rebuild: ``sam build --cached`` vs ``vectora-release build``, both warm;
- no-change release on an embedded AWS (moto on 127.0.0.1, started here): ``sam build
  --cached`` + ``sam package`` + ``sam deploy`` vs ``vectora-release build`` + ``publish`` +
  ``deploy``, each after a first release of the same commit. SAM deploys either its template's
  CloudFormation translation (made once by SAM's translator, as CloudFormation would: moto then
  creates and compares the layers, functions and role) or the template as is (moto creates no
  Lambda resource from ``AWS::Serverless::*``, so SAM's deploy does less).

Prints the medians, ours/SAM, the targets, each tool's peak RSS (the largest resident set of
any process of any of its commands: the command's own or one it waited for, such as pip or uv)
and the load average. It asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAM_VERSION = "1.170.0"
SAM_HOME = ROOT / ".cache" / "peer-sam"
PYTHON312 = ("python3.12", "/root/.pyenv/versions/3.12.1/bin/python3.12")
TARGETS = {
    "cold build": 0.4,
    "unchanged rebuild": None,
    "no-change release, translated": 0.3,
    "no-change release, as is": 0.5,
}
STACK = "vectora-sam"
# sam package's output, translated to plain CloudFormation with SAM's own translator (what
# CloudFormation does server-side): moto creates no function from AWS::Serverless::* types.
TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

with open(sys.argv[1]) as handle:
    template = yaml_parse(handle.read())
with open(sys.argv[2], "w") as handle:
    json.dump(transform(template, {}, NoManagedPolicies()), handle, indent=1)
"""
sys.path.insert(0, str(ROOT / "scripts"))

from startup import compile_package  # noqa: E402  (bench/, this script's folder)
from vectora_release.config.model import load_config  # noqa: E402
from vectora_release.local.server import embedded_aws  # noqa: E402


def _test_helpers() -> Any:
    """``tests/conftest.py``: ``make_project``, the committed copy of the release inputs."""
    spec = importlib.util.spec_from_file_location(
        "vectora_bench_conftest", ROOT / "tests" / "conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- SAM CLI ------------------------------------------------------------------------------------
def sam_venv() -> Path:
    """The virtualenv holding aws-sam-cli==SAM_VERSION, made on first use."""
    venv = SAM_HOME / "venv"
    sam = venv / "bin" / "sam"
    if sam.exists():
        done = subprocess.run([str(sam), "--version"], capture_output=True, text=True, check=False)
        if SAM_VERSION in done.stdout:
            return venv
    python = next((p for p in PYTHON312 if _works(p)), None)
    if python is None:
        sys.exit("python3.12 is needed for SAM's python3.12 builds; put it on PATH")
    shutil.rmtree(venv, ignore_errors=True)
    print(f"installing aws-sam-cli=={SAM_VERSION} into {venv} …", flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"aws-sam-cli=={SAM_VERSION}"], check=True)
    return venv


def _works(python: str) -> bool:
    try:
        done = subprocess.run([python, "--version"], capture_output=True, check=False)
    except OSError:
        return False
    return done.returncode == 0


def sam_tree(project: Path, dest: Path) -> Path:
    """A SAM project of the same inputs: template.yaml, the layers' and functions' folders."""
    config = load_config(project / "release.yaml")
    dest.mkdir(parents=True)
    resources: list[str] = []
    layer_ids = {}
    for layer in config.layers.values():
        rid = "".join(part.title() for part in layer.name.split("-")) + "Layer"
        layer_ids[layer.name] = rid
        folder = dest / "layers" / layer.name
        folder.mkdir(parents=True)
        if layer.package is not None:  # SAM puts ContentUri's content under python/
            shutil.copytree(project / layer.package, folder / Path(layer.package).name)
        else:
            shutil.copy(project / str(layer.requirements), folder / "requirements.txt")
        resources.append(
            f"  {rid}:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n"
            f"      LayerName: {layer.name}\n      ContentUri: layers/{layer.name}\n"
            f"      CompatibleRuntimes: [{config.runtime}]\n"
            f"    Metadata:\n      BuildMethod: {config.runtime}\n"
        )
    for function in config.functions.values():
        rid = "".join(part.title() for part in function.name.split("-")) + "Function"
        folder = dest / "functions" / function.name
        shutil.copytree(project / function.source, folder)
        refs = ", ".join(f"!Ref {layer_ids[name]}" for name in function.layers)
        resources.append(
            f"  {rid}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f"      FunctionName: {function.name}\n      CodeUri: functions/{function.name}\n"
            f"      Handler: {function.handler}\n      Runtime: {config.runtime}\n"
            f"      MemorySize: {function.memory}\n      Timeout: {function.timeout}\n"
            f"      Layers: [{refs}]\n"
        )
    template = (
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
        "Description: Vectora Inbox, for the peer benchmark\nResources:\n" + "".join(resources)
    )
    (dest / "template.yaml").write_text(template, encoding="utf-8")
    return dest


# -- running ------------------------------------------------------------------------------------
# Per tool, the largest resident set of a command's process tree (KB: wait4's ru_maxrss).
PEAK_RSS: dict[str, int] = {}
# Runs argv[2:] and writes its ru_maxrss to argv[1]. A forked child's ru_maxrss counts its
# parent's pages until exec, so the command is started from this small process rather than
# from the benchmark (which holds the embedded AWS): its floor is ~10 MB, not ~250 MB.
MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as handle:
    handle.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    with tempfile.NamedTemporaryFile("r") as rss:
        start = time.monotonic()
        measured = [sys.executable, "-c", MEASURE, rss.name, *argv]
        done = subprocess.run(measured, cwd=cwd, env=env, capture_output=True, check=False)
        elapsed = time.monotonic() - start
        if done.returncode != 0:
            text = (done.stderr or done.stdout).decode(errors="replace")
            tail = text.strip().splitlines()[-5:]
            raise SystemExit(
                f"{' '.join(argv[:3])} … failed ({done.returncode}):\n" + "\n".join(tail)
            )
        tool = Path(argv[0]).name
        PEAK_RSS[tool] = max(PEAK_RSS.get(tool, 0), int(rss.read() or 0))
    return elapsed


class Tools:
    """The two tools' commands for one scenario each, in their folders and environments."""

    def __init__(self, project: Path, sam_dir: Path, venv: Path, work: Path) -> None:
        self.project, self.sam_dir, self.work = project, sam_dir, work
        self.ours = [str(Path(sys.executable).with_name("vectora-release")), "--config"]
        self.ours.append(str(project / "release.yaml"))
        self.sam = [str(venv / "bin" / "sam")]
        path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        self.env = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"}
        self.count = 0

    def fresh(self, name: str) -> Path:
        self.count += 1
        return self.work / f"{name}-{self.count}"

    def sam_cold(self) -> float:
        build_dir = self.fresh("sam-build")
        argv = [*self.sam, "build", "--build-dir", str(build_dir)]
        return run(argv, self.sam_dir, self.env)

    def ours_cold(self) -> float:
        env = {**self.env, "VECTORA_RELEASE_CACHE": str(self.fresh("our-cache"))}
        return run([*self.ours, "build", "--out", str(self.fresh("our-dist"))], self.project, env)

    def sam_rebuild(self) -> float:
        return run([*self.sam, "build", "--cached"], self.sam_dir, self.env)

    def ours_rebuild(self) -> float:
        env = {**self.env, "VECTORA_RELEASE_CACHE": str(self.work / "our-warm-cache")}
        return run([*self.ours, "build", "--out", str(self.project / "dist")], self.project, env)

    def sam_release(self, translated: bool = False) -> float:
        """``sam build --cached`` + ``package`` + ``deploy``, of the template as is or of
        its CloudFormation translation (made once, outside the timing)."""
        bucket = ["--s3-bucket", "vectora-sam-artifacts"]
        seconds = self.sam_rebuild()
        packaged = self.sam_dir / "packaged.yaml"
        argv = [*self.sam, "package", *bucket, "--output-template-file", str(packaged)]
        seconds += run(argv, self.sam_dir, self.env)
        template, stack = packaged, STACK
        if translated:
            template, stack = self.sam_dir / "translated.json", f"{STACK}-cfn"
            if not template.exists():
                python = str(Path(self.sam[0]).with_name("python"))
                run([python, "-c", TRANSLATE, str(packaged), str(template)], self.sam_dir, self.env)
        argv = [
            *self.sam,
            "deploy",
            "--template-file",
            str(template),
            "--stack-name",
            stack,
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-fail-on-empty-changeset",
            "--no-confirm-changeset",  # the template goes inline: packaged, it is small
        ]
        return seconds + run(argv, self.sam_dir, self.env)

    def sam_release_translated(self) -> float:
        return self.sam_release(translated=True)

    def ours_release(self) -> float:
        seconds = self.ours_rebuild()
        seconds += run([*self.ours, "publish"], self.project, self._warm())
        argv = [*self.ours, "deploy", "--env", "dev", "--version", self.version()]
        return seconds + run(argv, self.project, self._warm())

    def _warm(self) -> dict[str, str]:
        return {**self.env, "VECTORA_RELEASE_CACHE": str(self.work / "our-warm-cache")}

    def version(self) -> str:
        return (self.project / "VERSION").read_text(encoding="utf-8").strip()


def alternate(runs: int, sam: Callable[[], float], ours: Callable[[], float]) -> tuple[list, list]:
    sams, ourss = [], []
    for _ in range(runs):
        sams.append(sam())
        ourss.append(ours())
    return sams, ourss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-release", action="store_true", help="builds only")
    args = parser.parse_args()
    venv = sam_venv()
    compile_package()  # SAM's packages were compiled by pip; ours are installed editable
    work = Path(tempfile.mkdtemp(prefix="vectora-peer-"))
    load_before = os.getloadavg()
    results: dict[str, tuple[list[float], list[float]]] = {}
    try:
        project = _test_helpers().make_project(work / "project")
        tools = Tools(project, sam_tree(project, work / "sam"), venv, work)
        print(f"peer benchmark: {args.runs} alternate runs each, in {work}", flush=True)
        results["cold build"] = alternate(args.runs, tools.sam_cold, tools.ours_cold)
        tools.sam_rebuild(), tools.ours_rebuild()  # the warm caches the next rows start from
        results["unchanged rebuild"] = alternate(args.runs, tools.sam_rebuild, tools.ours_rebuild)
        if not args.skip_release:
            results.update(release_rows(tools, args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, load_before, os.getloadavg())
    return 0


def release_rows(tools: Tools, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Both tools' no-change release on one embedded AWS, after a first release each."""
    with embedded_aws() as server:
        tools.env.update({k: os.environ[k] for k in os.environ if k.startswith("AWS_")})
        tools.env.pop("AWS_PROFILE", None)
        run([*tools.ours, "bootstrap", "--env", "dev"], tools.project, tools.env)
        import boto3  # the bench's own setup call, not a measured one

        boto3.client("s3", endpoint_url=server.endpoint).create_bucket(
            Bucket="vectora-sam-artifacts",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-3"},
        )
        tools.sam_release(), tools.sam_release_translated(), tools.ours_release()  # first ones
        return {
            "no-change release, translated": alternate(
                runs, tools.sam_release_translated, tools.ours_release
            ),
            "no-change release, as is": alternate(runs, tools.sam_release, tools.ours_release),
        }


def report(
    results: dict[str, tuple[list[float], list[float]]],
    before: tuple[float, float, float],
    after: tuple[float, float, float],
) -> None:
    print(f"\n{'scenario':<30} {'SAM':>8} {'ours':>8} {'ours/SAM':>9} {'target':>7}  met")
    for name, (sams, ours) in results.items():
        sam, mine = statistics.median(sams), statistics.median(ours)
        target = TARGETS.get(name)
        ratio = mine / sam
        goal = f"≤{target:.2f}" if target else "-"
        met = "-" if target is None else ("yes" if ratio <= target else "NO")
        print(f"{name:<30} {sam:>7.2f}s {mine:>7.2f}s {ratio:>9.2f} {goal:>7}  {met}")
    sam, ours = PEAK_RSS.get("sam"), PEAK_RSS.get("vectora-release")
    if sam and ours:
        print(
            f"{'peak RSS (largest process)':<30} {sam / 1024:>6.0f}MB {ours / 1024:>6.0f}MB"
            f" {ours / sam:>9.2f}       -  -"
        )
    print(
        f"load average (1 min) before/after: {before[0]:.2f}/{after[0]:.2f}"
        f" on {os.cpu_count()} CPUs; SAM CLI {SAM_VERSION}"
    )


if __name__ == "__main__":
    sys.exit(main())
