"""``python -m vectora_release``: the console script, for environments without it."""

from __future__ import annotations

import sys

from .cli import console

sys.exit(console())
