"""The ``vectora-release`` command line: parse, call the core, render. Nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__, github, gitinfo, versioning
from .cli_app import App, pass_app, render_deploy
from .errors import InternalError, ReleaseError, VersionError
from .report import emit_json, say, table


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    default="release.yaml",
    show_default=True,
    envvar="VECTORA_RELEASE_CONFIG",
    help="Path to release.yaml.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks.")
@click.version_option(__version__, prog_name="vectora-release")
@click.pass_context
def cli(ctx: click.Context, config_path: str, as_json: bool, verbose: int) -> None:
    """Build, publish, deploy, validate, promote and roll back Vectora Inbox releases.

    \b
    Typical flow:
      vectora-release build                  # dist/manifest.json + zips
      vectora-release publish                # to the artifact store (immutable)
      vectora-release deploy --env dev --commit HEAD --validate
      vectora-release promote --from dev --to stage
      vectora-release rollback --env stage
    With no AWS at hand, `vectora-release demo` tells the whole story on an embedded AWS.

    \b
    Exit codes: 0 success; 1 a check failed, drift, lock held, or a deploy failed and was
    rolled back; 2 bad input or unmet precondition; 3 unexpected internal error.
    """
    ctx.obj = App(config_path, as_json, verbose)


# -- build ----------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder for the zips and manifest.json.",
)
@click.option("--version", "version", help="Override VERSION (semver) for this build.")
@pass_app
def build(app: App, out: Path, version: str | None) -> None:
    """Build reproducible, semver-named zips and manifest.json from the current commit.

    Same commit ⇒ same bytes: entries are sorted, timestamps come from SOURCE_DATE_EPOCH
    (else the commit time), modes are fixed. common-deps is pip-installed for the Lambda
    platform and cached by the hash of its inputs. A dirty tree builds with "dirty": true
    and can never be published.
    """
    from .build import build_release

    manifest = build_release(app.config, out, version, progress=lambda m: say(f"  building {m}"))
    rows = [(a.name, a.kind, a.file, f"{a.size:,}", a.sha256[:16]) for a in manifest.artifacts]
    dirty = " (dirty tree: cannot be published)" if manifest.dirty else ""
    human = (
        f"built {manifest.release_id} from {manifest.commit}{dirty}\n"
        + table(("artifact", "kind", "file", "bytes", "sha256"), rows)
        + f"\nmanifest: {out / 'manifest.json'}"
    )
    app.output(manifest.to_dict(), human)


# -- version --------------------------------------------------------------------------------
@cli.group()
def version() -> None:
    """Show, check or bump VERSION (semver) and the CHANGELOG."""


@version.command("show")
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
@pass_app
def version_check(app: App, tag: str, branch: str | None) -> None:
    """Exit 2 unless TAG is exactly 'v' + VERSION (of the checkout, or of the tagged commit)."""
    if branch is None:
        current = versioning.read_version(app.root)
        versioning.check_tag(tag, current)
        app.output({"tag": tag, "version": str(current), "ok": True}, f"{tag} matches VERSION")
        return
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
@pass_app
def version_bump(app: App, part: str) -> None:
    """Bump VERSION and turn CHANGELOG's Unreleased into the new release's section."""
    new = versioning.bump_files(app.root, part)
    app.output({"version": str(new)}, f"VERSION is now {new}; CHANGELOG has [{new}]")


def _register() -> None:
    from . import cli_config, cli_env, cli_ops

    for command in (*cli_env.COMMANDS, *cli_ops.COMMANDS, *cli_config.COMMANDS):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one place errors become exit codes."""
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "-vv", "--verbose") for a in args)
    try:
        code = cli.main(args=argv, prog_name="vectora-release", standalone_mode=False)
    except click.exceptions.Abort:
        say("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except ReleaseError as exc:
        if exc.report is not None:  # what a failed deploy, promote or rollback did
            if "--json" in args:
                emit_json(exc.report)
            else:
                say(render_deploy(exc.report))
            github.add_summary(github.deploy_summary(exc.report, [], error=exc.one_line()))
        if verbose:
            raise
        say(f"error: {exc.one_line()}")
        github.annotate_error(exc.one_line())
        sys.exit(exc.exit_code)
    except Exception as exc:
        if verbose:
            raise
        say(f"internal error: {type(exc).__name__}: {exc} (re-run with -v for the traceback)")
        github.annotate_error(f"internal error: {type(exc).__name__}: {exc}")
        sys.exit(InternalError.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
