"""Run selected upstream tests in this process, with ``torch`` bound to one library.

    python tests/conformance/runner.py LIB GENERATED_DIR RESULTS_FILE [ID ...]

LIB is ``torch`` or ``autograd_lite``; GENERATED_DIR holds the modules and ``manifest.json``
that select_tests.write() made; the IDs (default: all of the manifest) run in order.  Each
result is appended to RESULTS_FILE as one JSON line, preceded by a ``start`` line, so that the
parent (tests/test_conformance.py) can tell which test took the process down if one does.

A test runs as unittest would run it (``setUp``, the method, ``tearDown``), with its
``@parametrize`` values, on the CPU (``device="cpu"``) and once per ``@dtypes`` entry; global
state a test may leave behind (grad mode, default dtype, anomaly mode, warning filters) is
restored after it, and it is stopped after TIMEOUT seconds.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

TIMEOUT = 30  # seconds per test


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _timeout(signum, frame):
    raise TimeoutError(f"test took longer than {TIMEOUT} s")


def _calls(method, params: dict, namespace: dict) -> list:
    """The argument sets to call the test method with: its parameters, the device and dtypes."""
    kwargs = {arg: eval(source, namespace) for arg, source in params.items()}
    signature = inspect.signature(method).parameters
    if "device" in signature:
        kwargs["device"] = "cpu"
    for_dtypes = getattr(method, "_conformance_dtypes", None)
    if not for_dtypes:
        return [kwargs]
    key = "dtypes" if "dtypes" in signature else "dtype"
    return [{**kwargs, key: d} for d in for_dtypes]


def run_one(shim, entry: dict, modules: dict) -> dict:
    module = modules[entry["module"]]
    if isinstance(module, BaseException):
        return {"outcome": "failed", "message": f"import failed: {_first_line(module)}"}
    torch = shim.torch
    default_dtype = torch.get_default_dtype()
    cls = getattr(module, entry["cls"])
    try:
        with warnings.catch_warnings():
            method = getattr(cls, entry["method"])
            for kwargs in _calls(method, entry["params"], vars(module)):
                case = cls()  # methodName "runTest": the method is called below, with kwargs
                case.setUp()
                try:
                    getattr(case, entry["method"])(**kwargs)
                finally:
                    case.tearDown()
                    case.doCleanups()
        return {"outcome": "passed", "message": ""}
    except shim.unittest.SkipTest as exc:
        return {"outcome": "skipped", "message": str(exc)}
    except BaseException as exc:  # every failure is a result
        if isinstance(exc, KeyboardInterrupt):
            raise
        if os.environ.get("CONFORMANCE_TRACEBACK"):
            traceback.print_exc()
        tb = traceback.extract_tb(exc.__traceback__)
        # the line of the upstream test where it failed, rather than inside unittest
        frames = [f for f in tb if Path(f.filename).name.startswith("upstream_")] or tb
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        return {"outcome": "failed", "message": _first_line(exc), "where": where}
    finally:
        torch.set_grad_enabled(True)
        torch.set_default_dtype(default_dtype)
        torch.autograd.set_detect_anomaly(False)


def main(argv: list) -> None:
    lib, generated, results = argv[1], Path(argv[2]), Path(argv[3])
    sys.path[:0] = [str(Path(__file__).parent), str(generated)]
    import shim

    shim.bind(lib)
    manifest = json.loads((generated / "manifest.json").read_text())
    wanted = set(argv[4:]) or {e["id"] for e in manifest}
    modules = {}
    for name in {e["module"] for e in manifest}:
        try:
            modules[name] = importlib.import_module(name)
        except Exception as exc:  # reported per test
            modules[name] = exc
    alarm = getattr(signal, "alarm", lambda seconds: None)  # no SIGALRM on Windows: no limit
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _timeout)
    with results.open("a") as out:
        for entry in manifest:
            if entry["id"] not in wanted:
                continue
            out.write(json.dumps({"start": entry["id"]}) + "\n")
            out.flush()
            began = time.perf_counter()
            alarm(TIMEOUT)
            try:
                result = run_one(shim, entry, modules)
            finally:
                alarm(0)
            result.update(id=entry["id"], seconds=round(time.perf_counter() - began, 3))
            out.write(json.dumps(result) + "\n")
            out.flush()


if __name__ == "__main__":
    main(sys.argv)
