"""Typed errors. Each carries its exit code and a hint; the CLI turns them into exits."""

from __future__ import annotations

from typing import Any


class ReleaseError(Exception):
    """Base of every expected failure. ``exit_code`` is what the CLI exits with."""

    exit_code = 3

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # What the command had to report when it failed (a deploy's validation table…):
        # the CLI still prints it with --json and writes it to the GitHub job summary.
        self.report: dict[str, Any] | None = None

    def one_line(self) -> str:
        """Message and hint on one line (causes quoted from AWS may contain newlines)."""
        text = f"{self.message} ({self.hint})" if self.hint else self.message
        return " ".join(text.split())


# exit 2: bad input or unmet precondition -------------------------------------------------
class InputError(ReleaseError):
    """Bad input or an unmet precondition: nothing was changed."""

    exit_code = 2


class ConfigError(InputError):
    """release.yaml (or another config file) is invalid."""


class VersionError(InputError):
    """VERSION, a tag or the CHANGELOG is not what it must be."""


class BuildError(InputError):
    """The sources cannot be built into valid artifacts."""


class ManifestError(InputError):
    """A manifest is missing, unreadable or of an unknown schema."""


class IntegrityError(InputError):
    """Bytes do not match their recorded digest (missing or tampered artifact)."""


class StoreError(InputError):
    """The artifact store refuses the operation (immutable key, dirty build, not found)."""


class PromotionError(InputError):
    """The release has not been validated where the approval chain requires it."""


# exit 1: a check failed, drift, lock held, deploy failed and rolled back -------------------
class CheckFailedError(ReleaseError):
    """A check ran and failed."""

    exit_code = 1


class LockHeldError(CheckFailedError):
    """Another deployment holds the environment's lock."""


class DeployFailedError(CheckFailedError):
    """A deploy failed; the environment was restored to its previous release."""


class CancelledError(DeployFailedError):
    """The run was asked to stop (SIGINT, SIGTERM) and stopped at a step boundary.

    A deploy, promote or rollback has put every alias back on its previous version and closed
    its record ``interrupted``; the lock is released.
    """


class DriftError(CheckFailedError):
    """Live state differs from what the ledger says was deployed."""


# exit 3: unexpected ------------------------------------------------------------------------
class InternalError(ReleaseError):
    """Something that should not happen happened."""

    exit_code = 3
