"""Anomaly detection: remember where each node was created, to report it on errors."""

from __future__ import annotations

import contextlib


class _Anomaly:
    enabled = False
    check_nan = True


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    _Anomaly.enabled = bool(mode)
    _Anomaly.check_nan = check_nan


def is_anomaly_enabled() -> bool:
    return _Anomaly.enabled


@contextlib.contextmanager
def detect_anomaly(check_nan: bool = True):
    previous = (_Anomaly.enabled, _Anomaly.check_nan)
    set_detect_anomaly(True, check_nan)
    try:
        yield
    finally:
        _Anomaly.enabled, _Anomaly.check_nan = previous
