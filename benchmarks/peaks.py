"""Peak memory of the elementwise workload: autograd_lite against torch and two NumPy floors.

Each implementation runs ``elementwise_big`` once (forward and backward, as ``run.py`` times it)
in a fresh process, so that nothing an earlier run freed is still held by the allocator: the
peak resident memory above what the process held with its inputs ready (Linux's VmHWM, reset
through /proc/self/clear_refs) is what the pass itself needed. torch allocates outside Python,
so tracemalloc cannot see it; RSS sees every implementation alike.

    python benchmarks/peaks.py            # the table
    python benchmarks/peaks.py --child autograd_lite   # one measurement, as JSON

The target is autograd_lite's peak <= torch's: the graph keeps no more than torch's does (what
backward needs) and the backward pass frees what it no longer needs as soon as torch does. The
careful NumPy version (``elementwise_careful_numpy``: intermediates freed as soon as neither
pass needs them) is a floor no tape reaches; the plain one holds every intermediate, as the
autograd code does.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
for _root in (REPO, BENCH_DIR):
    if str(_root) not in sys.path:
        sys.path.insert(0, str(_root))

import workloads  # noqa: E402

IMPLS = ("autograd_lite", "torch", "numpy", "numpy_careful")
MAX_VS_TORCH = 1.0  # target: autograd_lite peak / torch peak
MIB = 1 << 20


def rss_status() -> dict[str, int]:
    """This process's resident memory now (VmRSS) and at its peak (VmHWM), in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_rss_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:  # "5": reset the peak RSS (VmHWM)
        f.write("5")


def _runner(impl: str) -> Callable[[], dict]:
    """The workload, its inputs made (outside the measurement)."""
    inputs = workloads.elementwise_inputs(np.random.default_rng(0))
    if impl in ("numpy", "numpy_careful"):
        state = {k: v.copy() for k, v in inputs.items()}
        run = workloads.elementwise_big_numpy
        if impl == "numpy_careful":
            run = workloads.elementwise_careful_numpy
        return lambda: run(state)
    T = importlib.import_module(impl)
    if impl == "torch":
        T.set_num_threads(1)
    state = {k: T.tensor(v, requires_grad=True) for k, v in inputs.items()}
    return lambda: workloads.elementwise_big_autograd(T, state)


def peak_child(impl: str) -> dict:
    """Runs in the fresh process: the peak above the inputs, and the gradient's first value
    (so that a broken run cannot pass for a lean one)."""
    run = _runner(impl)
    gc.collect()
    reset_rss_peak()
    before = rss_status()["VmRSS"]
    out = run()
    peak = rss_status()["VmHWM"] - before
    grad = out["a.grad"]
    first = float(grad[0]) if isinstance(grad, np.ndarray) else float(grad.detach()[0])
    return {"impl": impl, "peak_bytes": peak, "a_grad_0": first}


def measure_peaks(impls: list[str], log: Callable[[str], None]) -> dict:
    """One fresh process per implementation; both NumPy floors are always measured."""
    out: dict = {"target_vs_torch": MAX_VS_TORCH}
    wanted = [i for i in IMPLS if i in impls or i.startswith("numpy")]
    for impl in wanted:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", impl]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
            out[impl] = {"error": lines[-1][:300]}
        else:
            out[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"  peak memory: {len(wanted)} subprocesses")
    out["status"] = _status_of(out)
    return out


def _status_of(out: dict) -> str:
    lite, torch = out.get("autograd_lite"), out.get("torch")
    if lite is None or torch is None:
        return "N/A"
    if "error" in lite:
        return "ERROR"
    if "error" in torch:
        return "N/A"
    reference = out.get("numpy", {}).get("a_grad_0")
    if reference is not None and not np.isclose(lite["a_grad_0"], reference, rtol=1e-7):
        return "WRONG"
    return "PASS" if ratio(out, "torch") <= MAX_VS_TORCH else "MISS"


def ratio(out: dict, reference: str) -> float | None:
    lite, ref = out.get("autograd_lite", {}), out.get(reference, {})
    if "peak_bytes" not in lite or not ref.get("peak_bytes"):
        return None
    return lite["peak_bytes"] / ref["peak_bytes"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=IMPLS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(peak_child(args.child)))
        return 0
    out = measure_peaks(list(IMPLS), lambda msg: print(msg, file=sys.stderr))
    for impl in IMPLS:
        run = out.get(impl, {})
        shown = f"{run['peak_bytes'] / MIB:.0f} MiB" if "peak_bytes" in run else run.get("error")
        print(f"{impl:14s} {shown}")
    r = ratio(out, "torch")
    print(f"{out['status']}  autograd_lite / torch = {r:.2f} (target ≤ {MAX_VS_TORCH:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
