"""Deploy: desired state, live state, plan steps, planner, executors, recovery, the pipeline.

Where things happen:

- the plan is made in ``planner.make_plan`` (pure data, from ``desired`` and ``live``);
- AWS is written only by ``executor.AwsExecutor`` (``DisplayOnlyExecutor`` is the dry run);
- alias ``live`` moves only through ``aws.lambda_.move_alias`` (called by the executor and
  ``recovery``);
- ``pipeline.execute`` strings them together under the environment's lock, with the ledger.
"""

from __future__ import annotations

from . import recovery
from .desired import MANAGED_BY, DesiredState, FunctionSpecD, LayerSpecD, recorded_sha256
from .executor import (
    ApplyError,
    ApplyResult,
    AwsExecutor,
    DisplayOnlyExecutor,
    Executor,
)
from .live import FunctionLive, VersionState, read_function
from .pipeline import DeployReport, Validator, deploy_release, execute, executor_for
from .planner import make_plan
from .release import Planner, check_upstream, release_planner, resolve_release
from .steps import Plan, Step, UpdateAlias
from .target import FunctionRunner, Target

__all__ = [
    "MANAGED_BY",
    "ApplyError",
    "ApplyResult",
    "AwsExecutor",
    "DeployReport",
    "DesiredState",
    "DisplayOnlyExecutor",
    "Executor",
    "FunctionLive",
    "FunctionRunner",
    "FunctionSpecD",
    "LayerSpecD",
    "Plan",
    "Planner",
    "Step",
    "Target",
    "UpdateAlias",
    "Validator",
    "VersionState",
    "check_upstream",
    "deploy_release",
    "execute",
    "executor_for",
    "make_plan",
    "read_function",
    "recorded_sha256",
    "recovery",
    "release_planner",
    "resolve_release",
]
