"""``release.yaml`` as a typed, validated model, and the checks of the repository's inputs.

The model is exported here. ``check`` (canonical/ and client configs), ``changelog``,
``versioning`` and ``gitinfo`` (git facts) are imported by module where they are needed.
"""

from __future__ import annotations

from .model import (
    CONFIG_PREFIX_VAR,
    MASK,
    SSM_PREFIX,
    E2eSpec,
    EnvironmentSpec,
    FunctionSpec,
    LayerSpec,
    ReleaseConfig,
    is_secret_key,
    load_config,
    parse_config,
)

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
