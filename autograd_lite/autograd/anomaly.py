"""Anomaly detection: backward stops at the first node whose gradient contains NaN."""

from __future__ import annotations

import contextlib
import warnings

from .._engine import AnomalyMode, set_anomaly_mode

ENABLED_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
    "enabled for debugging."
)


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    set_anomaly_mode(mode, check_nan)


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
        set_anomaly_mode(*previous)
