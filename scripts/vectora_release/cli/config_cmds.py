"""Commands that check the repository's own inputs: ``config check``, ``config changelog``."""

from __future__ import annotations

from pathlib import Path

import click

from ..common.errors import VersionError
from ..common.output import emit_json
from ..config import versioning
from ..config.changelog import CHANGELOG, check_changelog
from ..config.check import check_config
from .app import App, global_options, pass_app


@click.group()
def config() -> None:
    """Check release.yaml, canonical/, client configs and the CHANGELOG (pull-request checks).

    \b
      vectora-release config check                        # every config file parses and fits
      vectora-release config changelog --base origin/main # a change needs an Unreleased entry
      vectora-release config changelog --notes v1.2.3     # print that release's notes
    """


@config.command("check")
@global_options
@pass_app
def config_check(app: App) -> None:
    """Parse release.yaml, canonical/ and the client configs strictly and check their schemas.

    Duplicate keys and invalid YAML are errors; client configs must have a slug client_id equal
    to their file name, a semver version, and name only scopes, source sets, ingestion
    profiles and prompts that exist in canonical/. The first problem exits 2 naming the file
    and the key.
    """
    report = check_config(app.config_path)
    app.output(report.to_dict(), report.summary())


@config.command("changelog")
@click.option("--base", help="Git ref the change is compared with, e.g. origin/main.")
@click.option(
    "--notes",
    "notes_for",
    metavar="VERSION",
    help="Instead of checking, print the CHANGELOG section of VERSION (v1.2.3 or 1.2.3).",
)
@global_options
@pass_app
def config_changelog(app: App, base: str | None, notes_for: str | None) -> None:
    """Exit 2 when src_v2/, canonical/, client-config-examples/ or scripts/ changed since the
    merge-base with --base but CHANGELOG.md's Unreleased section has no new entry.

    With --notes, print a released version's section (the GitHub Release notes) instead.
    """
    if (base is None) == (notes_for is None):
        raise click.UsageError("give exactly one of --base REF or --notes VERSION")
    if notes_for is not None:
        _print_notes(app, notes_for)
        return
    report = check_changelog(app.root, base)
    error = report.error()
    if error is not None:
        raise error
    app.output(report.to_dict(), report.summary())


def _print_notes(app: App, version: str) -> None:
    number = version[1:] if version.startswith("v") else version
    versioning.parse(number, "--notes")
    path = Path(app.root) / CHANGELOG
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    notes = versioning.changelog_section(text, number)
    if not notes:
        raise VersionError(
            f"{CHANGELOG} has no notes for {number}",
            f"run `vectora-release version bump …` so that '## [{number}]' holds the entries",
        )
    if app.as_json:
        emit_json({"version": number, "notes": notes})
    else:
        click.echo(notes)
