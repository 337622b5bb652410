"""``version show | check | bump``: VERSION, release tags and the CHANGELOG."""

from __future__ import annotations

import click

from ..common.errors import VersionError
from ..common.output import emit_json
from ..config import versioning
from .app import App, global_options, pass_app


@click.group()
def version() -> None:
    """Show, check or bump VERSION (semver) and the CHANGELOG."""


@version.command("show")
@global_options
@pass_app
def version_show(app: App) -> None:
    """Print VERSION."""
    current = versioning.read_version(app.root)
    if app.as_json:
        emit_json({"version": str(current)})
    else:
        click.echo(str(current))


@version.command("check")
@click.option("--tag", required=True, help="The release tag, e.g. v1.2.3.")
@click.option(
    "--on-branch",
    "branch",
    metavar="REF",
    help="Check the tagged commit instead: VERSION there must match the tag and the "
    "commit must be reachable from REF (e.g. origin/main).",
)
@global_options
@pass_app
def version_check(app: App, tag: str, branch: str | None) -> None:
    """Exit 2 unless TAG is exactly 'v' + VERSION (of the checkout, or of the tagged commit)."""
    if branch is None:
        current = versioning.read_version(app.root)
        versioning.check_tag(tag, current)
        app.output({"tag": tag, "version": str(current), "ok": True}, f"{tag} matches VERSION")
        return
    from ..config import gitinfo  # GitPython: only this form reads git

    commit = gitinfo.resolve_commit(app.root, tag)
    text = gitinfo.file_at(app.root, commit, "VERSION")
    if text is None:
        raise VersionError(f"VERSION is missing at {tag} ({commit[:7]})")
    current = versioning.parse(text, f"VERSION at {tag}")
    versioning.check_tag(tag, current)
    if not gitinfo.is_ancestor(app.root, commit, branch):
        raise VersionError(
            f"{tag} ({commit[:7]}) is not on {branch}",
            "release tags go on commits merged to main; fetch it with history",
        )
    data = {"tag": tag, "version": str(current), "commit": commit, "branch": branch, "ok": True}
    app.output(data, f"{tag} matches VERSION at {commit[:7]}, which is on {branch}")


@version.command("bump")
@click.argument("part", type=click.Choice(versioning.PARTS))
@global_options
@pass_app
def version_bump(app: App, part: str) -> None:
    """Bump VERSION and turn CHANGELOG's Unreleased into the new release's section."""
    new = versioning.bump_files(app.root, part)
    app.output({"version": str(new)}, f"VERSION is now {new}; CHANGELOG has [{new}]")
