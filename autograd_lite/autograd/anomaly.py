"""Anomaly detection: backward stops at the first node whose gradient contains NaN."""

from __future__ import annotations

import contextlib
import warnings

from .._engine import AnomalyMode

ENABLED_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
    "enabled for debugging."
)


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    AnomalyMode.enabled = bool(mode)
    AnomalyMode.check_nan = check_nan


def is_anomaly_enabled() -> bool:
    return AnomalyMode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return AnomalyMode.check_nan


@contextlib.contextmanager
def detect_anomaly(check_nan: bool = True):
    warnings.warn(ENABLED_WARNING, UserWarning, stacklevel=3)
    previous = (AnomalyMode.enabled, AnomalyMode.check_nan)
    set_detect_anomaly(True, check_nan)
    try:
        yield
    finally:
        AnomalyMode.enabled, AnomalyMode.check_nan = previous
