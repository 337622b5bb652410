"""``release.yaml`` as a typed, validated model, and the checks of the repository's inputs.

The model is exported here, imported on first use (it loads PyYAML, which commands such as
``version show`` do not need). ``check`` (canonical/ and client configs), ``changelog``,
``versioning`` and ``gitinfo`` (git facts) are imported by module where they are needed.
"""

from __future__ import annotations

from ..common.lazy import exports

__all__ = [
    "CONFIG_PREFIX_VAR",
    "MASK",
    "SSM_PREFIX",
    "E2eSpec",
    "EnvironmentSpec",
    "FunctionSpec",
    "LayerSpec",
    "ReleaseConfig",
    "is_secret_key",
    "load_config",
    "parse_config",
]


# The names of ``model`` (and of ``variables``), imported when first read (``common.lazy``).
__getattr__ = exports(
    __name__,
    {
        **dict.fromkeys(__all__, "model"),
        **dict.fromkeys(("MASK", "SSM_PREFIX", "is_secret_key"), "variables"),
    },
)
