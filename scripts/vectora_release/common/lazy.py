"""Package exports imported on first use (PEP 562).

A package's ``__init__`` names what other packages may use. Importing those names eagerly
would make ``import vectora_release.local.server`` also import the local runner, the checks
and the deploy pipeline; a command would pay for every sibling of each module it needs. So a
package declares where each export lives, and the module is imported when the name is first
read (``docs/architecture.md``, start-up)::

    __all__ = ["EmbeddedAws", "embedded_aws"]
    __getattr__ = exports(__name__, {"EmbeddedAws": "server", "embedded_aws": "server"})

A name that is also a module (``deploy.recovery``) maps to itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def exports(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: each name of ``where`` from the module it names."""
    table = dict(where)

    def __getattr__(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(f"{package}.{module}")
        return loaded if module == name else getattr(loaded, name)

    return __getattr__
