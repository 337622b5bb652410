"""A brown-field environment on the embedded AWS, as the operators' hand-made dev and stage are.

What :func:`build_brownfield` makes (see ``docs/operations.md``, "Taking over an existing
environment"), none of it tagged ``ManagedBy``:

- the declared functions ``<project>-<fn>-<env>``, made by hand: code of their own, env vars
  without ``LOG_LEVEL``, one secret-looking variable, the legacy layers;
- legacy layers ``<project>-vectora-core-<env>`` (several versions),
  ``…-vectora-core-approche-b-<env>``, ``…-yaml-fix-<env>``, ``…-yaml-minimal-<env>`` and
  ``<project>-dependencies`` (no environment suffix);
- bucket ``<project>-lambda-code-<env>`` holding ``layers/vectora-core-v42.zip``;
- canonical files at the config bucket's root (the legacy
  ``canonical/prompts/normalization/lai_prompt.yaml`` among them) and ``clients/lai_weekly_v4``
  to ``v7``;
- client data: ``curated/<client>/<yyyy>/<mm>/<dd>/items.json`` and newsletters.

The demo's takeover chapter and the tests use it; it is for the embedded AWS only.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ..aws.clients import ClientError, error_code
from ..deploy.target import Target

CORE_VERSIONS = 3  # the operators' went up to v42; three show the same thing
LEGACY_LAYERS = ("vectora-core-approche-b", "yaml-fix", "yaml-minimal")
LEGACY_SECRET = ("LEGACY_API_KEY", "placeholder-not-a-real-key")
CLIENT = "lai_weekly"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            archive.writestr(info, text)
    return buffer.getvalue()


@dataclass
class Brownfield:
    """Names of what was made, for the tests and the demo."""

    env: str
    functions: list[str] = field(default_factory=list)
    layers: dict[str, list[str]] = field(default_factory=dict)  # layer → version ARNs
    config_objects: list[str] = field(default_factory=list)
    stale_zips: list[str] = field(default_factory=list)
    data_objects: list[tuple[str, str]] = field(default_factory=list)  # (bucket, key)

    @property
    def legacy_layers(self) -> list[str]:
        return sorted(self.layers)


def _bucket(target: Target, bucket: str, versioned: bool = False) -> None:
    s3 = target.s3
    try:
        s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"LocationConstraint": target.spec.region},
        )
    except ClientError as exc:
        if error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def _role(target: Target) -> str:
    iam = target.aws.iam()
    name = f"{target.config.project}-lambda-exec-{target.name}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]


def _layers(target: Target, made: Brownfield, small: bool) -> dict[str, str]:
    """Publish the legacy layers; returns layer → its last version ARN."""
    project, env, lam = target.config.project, target.name, target.lam
    names = {f"{project}-vectora-core-{env}": 2 if small else CORE_VERSIONS}
    legacy_layers = LEGACY_LAYERS[-1:] if small else LEGACY_LAYERS
    names.update({f"{project}-{legacy}-{env}": 1 for legacy in legacy_layers})
    names[f"{project}-dependencies"] = 1
    last = {}
    for name, count in names.items():
        for number in range(1, count + 1):
            content = _zip({f"python/{name.replace('-', '_')}.py": f"LEGACY = {number}\n"})
            arn = lam.publish_layer_version(
                LayerName=name,
                Description=f"hand-made {name} v{number}",
                Content={"ZipFile": content},
                CompatibleRuntimes=["python3.11", "python3.12"],
            )["LayerVersionArn"]
            made.layers.setdefault(name, []).append(arn)
            last[name] = arn
    return last


def _functions(target: Target, made: Brownfield, layers: dict[str, str]) -> None:
    config, env, lam = target.config, target.name, target.lam
    role = _role(target)
    core, deps = (
        layers[f"{config.project}-vectora-core-{env}"],
        layers[f"{config.project}-dependencies"],
    )
    for function in sorted(config.functions):
        resource = config.function_resource(function, env)
        code = _zip(
            {
                "handler.py": (
                    f"# hand-made {resource}\n"
                    "def lambda_handler(event, context):\n"
                    f"    return {{'function': '{function}', 'hand_made': True}}\n"
                )
            }
        )
        variables = {
            "ENV": env,
            "PROJECT_NAME": config.project,
            "CONFIG_BUCKET": target.spec.buckets["config"],
            "DATA_BUCKET": target.spec.buckets["data"],
            LEGACY_SECRET[0]: LEGACY_SECRET[1],
        }
        lam.create_function(
            FunctionName=resource,
            Runtime="python3.11" if function == "ingest-v2" else config.runtime,
            Role=role,
            Handler="handler.lambda_handler",
            Code={"ZipFile": code},
            MemorySize=256,
            Timeout=120,
            Layers=[core, deps],
            Environment={"Variables": variables},
            Tags={"Owner": "operators"},
        )
        made.functions.append(resource)


def _objects(target: Target, made: Brownfield, small: bool) -> None:
    s3, buckets, env = target.s3, target.spec.buckets, target.name
    config_files = {
        "canonical/prompts/normalization/lai_prompt.yaml": "prompt: legacy normalization\n",
        "canonical/scopes/company_scopes.yaml": "companies: [legacy]\n",
        **{
            f"clients/{CLIENT}_v{n}.yaml": f"client_id: {CLIENT}\nversion: {n}\n"
            for n in range(4, 8)
        },
    }
    if small:
        config_files = dict(list(config_files.items())[:1] + list(config_files.items())[-1:])
    for key, text in config_files.items():
        s3.put_object(Bucket=buckets["config"], Key=key, Body=text.encode())
        made.config_objects.append(key)
    code_bucket = f"{target.config.project}-lambda-code-{env}"
    _bucket(target, code_bucket)
    stale = "layers/vectora-core-v42.zip"
    s3.put_object(Bucket=code_bucket, Key=stale, Body=_zip({"python/v42.py": "V = 42\n"}))
    made.stale_zips.append(stale)
    day = "2026/01/30"  # not the e2e validation's run date, which that run writes
    data = {
        (buckets["data"], f"curated/{CLIENT}/{day}/items.json"): json.dumps(
            [{"title": "hand-made item", "score": 0.9}]
        ),
        (buckets["newsletters"], f"{CLIENT}/{day}/newsletter.md"): "# Newsletter\n",
    }
    for (bucket, key), text in data.items():
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode())
        made.data_objects.append((bucket, key))


def build_brownfield(target: Target, small: bool = False) -> Brownfield:
    """Make ``target``'s environment look like the operators' hand-made one (see above).

    ``small``: fewer legacy items of each kind (the fault matrix runs once per call).
    """
    made = Brownfield(target.name)
    buckets = target.spec.buckets
    _bucket(target, buckets["config"], versioned=True)
    _bucket(target, buckets["data"])
    _bucket(target, buckets["newsletters"])
    layers = _layers(target, made, small)
    _functions(target, made, layers)
    _objects(target, made, small)
    return made


def data_digests(target: Target, made: Brownfield) -> dict[tuple[str, str], Any]:
    """(bucket, key) → ETag of every client-data object, to show it never changes."""
    return {
        (bucket, key): target.s3.head_object(Bucket=bucket, Key=key)["ETag"]
        for bucket, key in made.data_objects
    }
