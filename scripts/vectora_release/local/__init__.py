"""The embedded AWS for laptops and tests: the moto server on 127.0.0.1 (``server``), the
local runner that runs deployed bytes where moto cannot (``runner``), scratch repositories
(``scratch``) and the demo. Imported only by ``cli`` and the tests.
"""

from __future__ import annotations

from .runner import LocalInvoker, LocalRunner, uses_local_runner
from .server import EmbeddedAws, embedded_aws
from .timewarp import SimulatedTime

__all__ = [
    "EmbeddedAws",
    "LocalInvoker",
    "LocalRunner",
    "SimulatedTime",
    "embedded_aws",
    "uses_local_runner",
]
