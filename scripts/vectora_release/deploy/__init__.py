"""Deploy: desired state, live state, plan steps, planner, executors, recovery, the pipeline.

Where things happen:

- the plan is made in ``planner.make_plan`` (pure data, from ``desired`` and ``live``);
- AWS is written only by ``executor.AwsExecutor`` (``DisplayOnlyExecutor`` is the dry run);
- alias ``live`` moves only through ``aws.lambda_.move_alias`` (called by the executor and
  ``recovery``);
- ``pipeline.execute`` strings them together under the environment's lock, with the ledger.
"""

from __future__ import annotations

from ..common.lazy import exports

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

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "MANAGED_BY": "desired",
        "ApplyError": "executor",
        "ApplyResult": "executor",
        "AwsExecutor": "executor",
        "DeployReport": "pipeline",
        "DesiredState": "desired",
        "DisplayOnlyExecutor": "executor",
        "Executor": "executor",
        "FunctionLive": "live",
        "FunctionRunner": "target",
        "FunctionSpecD": "desired",
        "LayerSpecD": "desired",
        "Plan": "steps",
        "Planner": "release",
        "Step": "steps",
        "Target": "target",
        "UpdateAlias": "steps",
        "Validator": "pipeline",
        "VersionState": "live",
        "check_upstream": "release",
        "deploy_release": "pipeline",
        "execute": "pipeline",
        "executor_for": "pipeline",
        "make_plan": "planner",
        "read_function": "live",
        "recorded_sha256": "desired",
        "recovery": "recovery",
        "release_planner": "release",
        "resolve_release": "release",
    },
)
