"""Shared test set-up: a non-interactive matplotlib backend and figures closed after each test."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["Q7X2_PROGRESS"] = "0"

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
