"""Operations built on the deploy pipeline and the checks: promote, rollback, gc, bootstrap,
status. Each takes :class:`~vectora_release.deploy.Target` objects and returns a report; the
functions named like their modules are imported from them (``ops.promote.promote``…).
"""

from __future__ import annotations

from .bootstrap import BootstrapReport
from .gc import GcReport
from .rollback import choose_target
from .status import history_table, status_row, status_table

__all__ = [
    "BootstrapReport",
    "GcReport",
    "choose_target",
    "history_table",
    "status_row",
    "status_table",
]
