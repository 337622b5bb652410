"""Commands that make and move releases: build, publish, fetch.

Each command imports the core it runs in its own body: ``build`` never loads boto3, and
``publish`` never loads the build machinery (start-up, ``docs/architecture.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..common.output import say, table
from .app import App, global_options, pass_app

if TYPE_CHECKING:
    from ..store.artifacts import ArtifactStore


# -- build ----------------------------------------------------------------------------------
@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder for the zips and manifest.json.",
)
@click.option("--version", "version", help="Override VERSION (semver) for this build.")
@global_options
@pass_app
def build(app: App, out: Path, version: str | None) -> None:
    """Build reproducible, semver-named zips and manifest.json from the current commit.

    Same commit ⇒ same bytes: entries are sorted, timestamps come from SOURCE_DATE_EPOCH
    (else the commit time), modes are fixed. common-deps is pip-installed for the Lambda
    platform and cached by the hash of its inputs. A dirty tree builds with "dirty": true
    and can never be published.
    """
    from ..build.builders import build_release

    manifest = build_release(app.config, out, version, progress=lambda m: say(f"  building {m}"))
    rows = [(a.name, a.kind, a.file, f"{a.size:,}", a.sha256[:16]) for a in manifest.artifacts]
    dirty = " (dirty tree: cannot be published)" if manifest.dirty else ""
    human = (
        f"built {manifest.release_id} from {manifest.commit}{dirty}\n"
        + table(("artifact", "kind", "file", "bytes", "sha256"), rows)
        + f"\nmanifest: {out / 'manifest.json'}"
    )
    app.output(manifest.to_dict(), human)


# -- publish / fetch ------------------------------------------------------------------------
@click.command()
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(path_type=Path),
    default=Path("dist/manifest.json"),
    show_default=True,
)
@click.option(
    "--env",
    "env",
    default=None,
    help="Publish to this environment's artifact store (default: the shared one).",
)
@global_options
@pass_app
def publish(app: App, manifest_path: Path, env: str | None) -> None:
    """Upload a built release to the artifact store: verified, immutable, idempotent.

    Keys live under releases/<version>/<commit>/. Re-publishing identical bytes does nothing;
    different bytes at an existing key are refused (exit 2); a dirty build is refused.
    """
    from ..build import manifest as manifest_io

    manifest = manifest_io.load(manifest_path)
    store = _store(app, env)
    report = store.publish(
        manifest, manifest_path.parent if manifest_path.suffix else manifest_path
    )
    human = (
        f"published {report.release_id} to s3://{report.bucket}/{report.prefix} "
        f"({len(report.uploaded)} uploaded, {len(report.unchanged)} already there)"
    )
    app.output(report.to_dict(), human)


@click.command()
@click.option("--commit", "commit", help="Commit (SHA or ≥7-char prefix) of the release.")
@click.option("--version", "version", help="Published version of the release.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("release"),
    show_default=True,
    help="Folder to write manifest.json (and the zips) to.",
)
@click.option("--manifest-only", is_flag=True, help="Only manifest.json, not the zips.")
@click.option("--env", "env", default=None, help="Use this environment's artifact store.")
@global_options
@pass_app
def fetch(
    app: App,
    commit: str | None,
    version: str | None,
    out: Path,
    manifest_only: bool,
    env: str | None,
) -> None:
    """Download a published release from the artifact store, every digest verified."""
    store = _store(app, env)
    manifest = store.find(version=version, commit=commit)
    written = store.download(manifest, out, manifest_only=manifest_only)
    app.output(
        {"release": manifest.release_id, "out": str(out), "files": written},
        f"fetched {manifest.release_id} into {out}/ ({len(written)} files, verified)",
    )


def _store(app: App, env: str | None) -> ArtifactStore:
    """``env``'s artifact store, or the shared one."""
    if env is not None:
        return app.target(env).store
    from ..store.artifacts import ArtifactStore

    return ArtifactStore(app.aws.s3(app.config.artifact_region), app.config.artifact_bucket)
