"""Checks of what an environment runs: findings shared by validate and drift, invoke.

The functions named like their modules (``drift.drift``, ``validate.validate``…) are imported
from those modules.

``findings`` compares live state with a ledger record and its manifest; ``validate`` adds the
smoke and e2e runs (through ``invoke``) and the comparison with another environment;
``drift`` reports findings, and ``diff`` two environments side by side.
"""

from __future__ import annotations

from ..common.lazy import exports

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

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "HEADERS": "validate",
        "CheckResult": "validate",
        "DiffReport": "drift",
        "DriftReport": "drift",
        "Finding": "findings",
        "FunctionView": "findings",
        "Invocation": "invoke",
        "ValidationReport": "validate",
        "all_findings": "findings",
        "make_validator": "validate",
        "manifest_of": "findings",
        "validate_current": "validate",
        "view_function": "findings",
    },
)
