"""Shared fixtures: run backend-independent tests on every available backend."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ferronet

AVAILABLE_BACKENDS = ["numpy"] + (["native"] if ferronet.native_available() else [])

if os.environ.get("FERRONET_REQUIRE_NATIVE") == "1" and not ferronet.native_available():
    raise RuntimeError("FERRONET_REQUIRE_NATIVE=1 but ferronet._native did not load")

requires_native = pytest.mark.skipif(not ferronet.native_available(), reason="native core not built")


@pytest.fixture(params=AVAILABLE_BACKENDS)
def backend(request: pytest.FixtureRequest):
    """Run the test once per available backend, with that backend active."""
    with ferronet.use_backend(request.param):
        yield request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
