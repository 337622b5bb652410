"""Fixtures of the deploy unit tests (plain data, see ``plans.py``)."""

from __future__ import annotations

import pytest
from plans import desired_state
from vectora_release.deploy.desired import DesiredState


@pytest.fixture
def desired() -> DesiredState:
    return desired_state()
