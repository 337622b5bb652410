"""One row of a validation: which check, on what, passed or not, and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CheckResult:
    check: str
    subject: str
    passed: bool
    detail: str = ""

    def row(self) -> tuple[str, str, str, str]:
        return (self.check, self.subject, "pass" if self.passed else "FAIL", self.detail)
