"""Operations built on the deploy pipeline and the checks: promote, rollback, gc, bootstrap,
status. Each takes :class:`~vectora_release.deploy.Target` objects and returns a report; the
functions named like their modules are imported from them (``ops.promote.promote``…).
"""

from __future__ import annotations

from ..common.lazy import exports

__all__ = [
    "BootstrapReport",
    "GcReport",
    "choose_target",
    "history_table",
    "status_row",
    "status_table",
]

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "BootstrapReport": "bootstrap",
        "GcReport": "gc",
        "choose_target": "rollback",
        "history_table": "status",
        "status_row": "status",
        "status_table": "status",
    },
)
