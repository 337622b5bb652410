"""JSON documents as the project writes them: sorted keys, indent 2, trailing newline."""

from __future__ import annotations

import json
from typing import Any


def dumps_json(data: Any) -> bytes:
    """Manifests, ledger records and locks are written with this (their bytes are digested)."""
    return (json.dumps(data, sort_keys=True, indent=2) + "\n").encode("utf-8")
