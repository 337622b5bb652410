"""Checks of what an environment runs: findings shared by validate and drift, invoke.

The functions named like their modules (``drift.drift``, ``validate.validate``…) are imported
from those modules.

``findings`` compares live state with a ledger record and its manifest; ``validate`` adds the
smoke and e2e runs (through ``invoke``) and the comparison with another environment;
``drift`` reports findings, and ``diff`` two environments side by side.
"""

from __future__ import annotations

from .drift import DiffReport, DriftReport
from .findings import Finding, FunctionView, all_findings, manifest_of, view_function
from .invoke import Invocation
from .validate import HEADERS, CheckResult, ValidationReport, make_validator, validate_current

__all__ = [
    "HEADERS",
    "CheckResult",
    "DiffReport",
    "DriftReport",
    "Finding",
    "FunctionView",
    "Invocation",
    "ValidationReport",
    "all_findings",
    "make_validator",
    "manifest_of",
    "validate_current",
    "view_function",
]
