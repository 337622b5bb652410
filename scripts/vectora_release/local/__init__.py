"""The embedded AWS for laptops and tests: the moto server on 127.0.0.1 (``server``), the
local runner that runs deployed bytes where moto cannot (``runner``), scratch repositories
(``scratch``) and the demo. Imported only by ``cli`` and the tests.
"""

from __future__ import annotations

from ..common.lazy import exports

__all__ = [
    "EmbeddedAws",
    "LocalInvoker",
    "LocalRunner",
    "SimulatedTime",
    "embedded_aws",
    "uses_local_runner",
]

# Each name is imported from its module when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        "EmbeddedAws": "server",
        "LocalInvoker": "runner",
        "LocalRunner": "runner",
        "SimulatedTime": "timewarp",
        "embedded_aws": "server",
        "uses_local_runner": "runner",
    },
)
