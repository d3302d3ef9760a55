#!/usr/bin/env python
"""Benchmark autograd_lite against PyTorch and against hand-written NumPy.

Every timed workload is implemented three ways:

* ``autograd_lite`` and ``torch`` run the *same* function, written once against the
  torch API and handed the module to use (``T``), so the two cannot drift apart;
* ``numpy`` is the same math in raw NumPy with a hand-written backward pass (or a
  closed-form derivative), the floor that any NumPy-based autograd pays at least.

Method (see benchmarks/README.md for how to read the output):

* one BLAS/OpenMP thread for everyone (set below, before NumPy or torch is imported);
* warm-up rounds first, then N repeats; within a repeat the implementations run one
  after the other, the order rotating from repeat to repeat, so slow drifts of a
  shared machine hit all of them alike;
* inputs are built before the clock starts (``prepare``); the clock covers forward +
  backward (+ optimizer update where there is one) and the teardown of the graph;
* ``gc.collect()`` before every timed call; the collector stays enabled while timing
  unless ``--no-gc`` (which then applies to all implementations);
* the result is the MEDIAN per implementation and the ratio of medians;
* before timing, the outputs (values and gradients) of every implementation are compared
  with the NumPy ones, so a benchmark never silently measures different math.

``import`` and ``memory`` run in fresh subprocesses so they do not disturb the timings.

Usage::

    python benchmarks/run.py                  # full run, about 1-2 minutes
    python benchmarks/run.py --quick          # smoke run, about 15 s
    python benchmarks/run.py --check          # only check that the implementations agree
    python benchmarks/run.py --write          # also update the table in benchmarks/README.md
    python benchmarks/run.py --json out.json  # also write the raw measurements
    python benchmarks/run.py --impl torch,numpy --workloads scalar_chain,mlp_step

The exit status is 0 for a measurement run whatever the numbers say (it is a report,
not a test); ``--check`` exits 1 if an implementation errors or disagrees.
"""

from __future__ import annotations

import os

# Before NumPy / torch are imported: thread pools are sized when the libraries load.
for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
README = BENCH_DIR / "README.md"
RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"

# Benchmark the working tree, not some other installed copy.
for _root in (REPO / "src", REPO):
    if (_root / "autograd_lite").is_dir() and str(_root) not in sys.path:
        sys.path.insert(0, str(_root))

IMPLS = ("autograd_lite", "torch", "numpy")
TENSOR_IMPLS = ("autograd_lite", "torch")
SEED = 0

# The workloads live beside this file (benchmarks/ is on sys.path when it runs as a script).
import peaks  # noqa: E402
from workloads import WORKLOADS, WORKLOADS_BY_NAME, Workload  # noqa: E402

EXTRA_NAMES = ["import", "memory", "peak_memory"]  # measured in subprocesses, after the timings

IMPORT_MAX_EXTRA_MS = 30.0  # target: import autograd_lite - import numpy
MEMORY_CHAIN_OPS = 100_000
MEMORY_MAX_RATIO = 2.0  # target: backward peak / forward peak


# ---------------------------------------------------------------------------------------
# Running one implementation of one workload
# ---------------------------------------------------------------------------------------
def prepare_tensor_state(T: Any, wl: Workload, inputs: dict[str, Any]) -> dict[str, Any]:
    """Fresh leaves for one run (outside the clock)."""
    state: dict[str, Any] = {}
    for name, value in inputs.items():
        if name in wl.row_lists:
            state[name] = [T.tensor(row) for row in value]
        else:
            state[name] = T.tensor(value, requires_grad=name in wl.grad_inputs)
    return state


def prepare_numpy_state(wl: Workload, inputs: dict[str, Any]) -> dict[str, Any]:
    return {name: np.array(value, copy=True) for name, value in inputs.items()}


def make_runner(
    wl: Workload, impl: str, modules: dict[str, Any], inputs: dict[str, Any]
) -> tuple[Callable[[], Any], Callable[[Any], dict[str, Any]]]:
    """(prepare, run) for one implementation: prepare() -> state; run(state) -> outputs."""
    if impl == "numpy":
        return (lambda: prepare_numpy_state(wl, inputs)), wl.run_numpy
    T = modules[impl]
    return (lambda: prepare_tensor_state(T, wl, inputs)), (lambda s: wl.run_autograd(T, s))


def timed_call(
    prepare: Callable[[], Any], run: Callable[[Any], dict[str, Any]], disable_gc: bool
) -> tuple[float, dict[str, Any]]:
    state = prepare()
    gc.collect()
    if disable_gc:
        gc.disable()
    try:
        t0 = time.perf_counter()
        out = run(state)
        t1 = time.perf_counter()
    finally:
        if disable_gc:
            gc.enable()
    return t1 - t0, out


def to_numpy(value: Any) -> np.ndarray:
    if value is None:
        raise ValueError("output is None (missing gradient?)")
    if isinstance(value, (list, tuple)):
        return np.asarray([float(to_numpy(v)) for v in value])
    if isinstance(value, (np.ndarray, np.generic, float, int)):
        return np.asarray(value)
    for getter in (lambda v: v.detach().numpy(), lambda v: v.numpy(), np.asarray):
        try:
            return np.asarray(getter(value))
        except Exception:
            continue
    raise TypeError(f"cannot convert {type(value).__name__} to a NumPy array")


def compare_outputs(
    got: dict[str, Any], want: dict[str, np.ndarray], rtol: float, atol: float
) -> str | None:
    """None if `got` matches the reference, else a one-line description of the first problem."""
    if set(got) != set(want):
        return f"output keys {sorted(got)} != {sorted(want)}"
    for key, ref in want.items():
        try:
            arr = to_numpy(got[key])
        except Exception as e:
            return f"{key}: {type(e).__name__}: {e}"
        if arr.shape != ref.shape:
            return f"{key}: shape {arr.shape} != {ref.shape}"
        if ref.dtype.kind == "f" and arr.dtype != ref.dtype:
            return f"{key}: dtype {arr.dtype} != {ref.dtype}"
        if not np.allclose(arr, ref, rtol=rtol, atol=atol):
            err = np.max(np.abs(arr - ref))
            return f"{key}: max abs diff {err:.3g} (rtol={rtol:g}, atol={atol:g})"
    return None


def error_line(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = ""
    for frame in reversed(tb):
        if "autograd_lite" in frame.filename or frame.filename == __file__:
            path = Path(frame.filename)
            shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path.name
            where = f" [{shown}:{frame.lineno}]"
            break
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {msg}{where}"[:300]


def reference_outputs(wl: Workload, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    out = wl.run_numpy(prepare_numpy_state(wl, inputs))
    return {k: to_numpy(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------
@dataclass
class Settings:
    warmup: int
    budget_s: float  # per workload, when --repeats is not given
    min_repeats: int
    max_repeats: int
    repeats: int | None
    disable_gc: bool
    import_repeats: int
    torch_import_repeats: int


@dataclass
class TimingResult:
    workload: Workload
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    mismatches: dict[str, str] = field(default_factory=dict)

    def median(self, impl: str) -> float | None:
        t = self.times.get(impl)
        return statistics.median(t) if t and impl not in self.errors else None

    def spread(self, impl: str) -> float | None:
        """Half the interquartile range, relative to the median."""
        t = self.times.get(impl)
        if not t or len(t) < 4:
            return None
        q1, _, q3 = statistics.quantiles(t, n=4)
        return (q3 - q1) / 2 / statistics.median(t)

    def ratio(self, num: str, den: str) -> float | None:
        a, b = self.median(num), self.median(den)
        return a / b if a is not None and b else None

    def paired_ratio(self, num: str, den: str) -> float | None:
        """Median of per-repeat ratios (same repeat = same machine conditions)."""
        a, b = self.times.get(num), self.times.get(den)
        if not a or not b or num in self.errors or den in self.errors:
            return None
        return statistics.median(x / y for x, y in zip(a, b, strict=False))

    def verdicts(self) -> list[tuple[str, float, float | None, str]]:
        """(label, target, value, PASS/MISS/ERROR/WRONG/N/A) for each target of the workload."""
        out = []
        for den, target in (
            ("torch", self.workload.max_vs_torch),
            ("numpy", self.workload.max_vs_numpy),
        ):
            if target is None:
                continue
            value = self.ratio("autograd_lite", den)
            if "autograd_lite" in self.errors:
                status = "ERROR"
            elif "autograd_lite" in self.mismatches or den in self.mismatches:
                status = "WRONG"
            elif value is None:
                status = "N/A"
            else:
                status = "PASS" if value <= target else "MISS"
            out.append((f"autograd_lite/{den}", target, value, status))
        return out


def rotated(seq: Sequence[str], k: int) -> list[str]:
    k %= max(len(seq), 1)
    return list(seq[k:]) + list(seq[:k])


def time_workload(
    wl: Workload, impls: list[str], modules: dict[str, Any], cfg: Settings, log: Callable
) -> TimingResult:
    res = TimingResult(wl)
    inputs = wl.make_inputs(np.random.default_rng(SEED))
    want = reference_outputs(wl, inputs)
    runners = {impl: make_runner(wl, impl, modules, inputs) for impl in impls}
    active = list(impls)

    def one_round(k: int, record: bool) -> None:
        for impl in rotated(list(active), k):
            if impl not in active:
                continue
            try:
                elapsed, out = timed_call(*runners[impl], cfg.disable_gc)
            except Exception as e:
                res.errors[impl] = error_line(e)
                active.remove(impl)
                log(f"  {wl.name}: {impl} failed: {res.errors[impl]}")
                continue
            if k == 0 and not record:  # first warm-up run: check the math
                problem = compare_outputs(out, want, wl.rtol, wl.atol)
                if problem:
                    res.mismatches[impl] = problem
                    log(f"  {wl.name}: {impl} DISAGREES with numpy: {problem}")
            del out
            if record:
                res.times.setdefault(impl, []).append(elapsed)

    t0 = time.perf_counter()
    for k in range(max(cfg.warmup, 1)):
        one_round(k, record=False)
    # Warm-up may have imported modules lazily (torch.autograd.functional, ...): freeze those
    # too, so automatic collections in the timed region only scan the run's own objects.
    gc.collect()
    gc.freeze()
    # The first timed round (overheads included) sizes the rest to fit the time budget.
    t_round = time.perf_counter()
    one_round(0, record=True)
    t_round = time.perf_counter() - t_round
    if cfg.repeats is not None:
        n = cfg.repeats
    else:
        n = int(cfg.budget_s / max(t_round, 1e-6))
        n = max(cfg.min_repeats, min(cfg.max_repeats, n))
    for k in range(1, n):
        one_round(k, record=True)
    log(f"  {wl.name}: {n} repeats in {time.perf_counter() - t0:.1f} s")
    return res


# ---------------------------------------------------------------------------------------
# import: fresh interpreters, interleaved
# ---------------------------------------------------------------------------------------
IMPORT_CHILD = (
    "import sys, time; t0 = time.perf_counter(); {stmt}; t1 = time.perf_counter(); "
    "print(t1 - t0, 'torch' in sys.modules)"
)
IMPORT_TARGETS = {
    "python": "pass",
    "numpy": "import numpy",
    "autograd_lite": "import autograd_lite",
}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    roots = [str(p) for p in (REPO / "src", REPO) if (p / "autograd_lite").is_dir()]
    if env.get("PYTHONPATH"):
        roots.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(roots)
    return env


def measure_imports(cfg: Settings, with_torch: bool, with_al: bool, log: Callable) -> dict:
    """Wall time of `python -c "import X"` per module (median), interleaved rounds."""
    targets = dict(IMPORT_TARGETS)
    if not with_al:
        targets.pop("autograd_lite")
    if with_torch:
        targets["torch"] = "import torch"
    wall: dict[str, list[float]] = {m: [] for m in targets}
    inproc: dict[str, list[float]] = {m: [] for m in targets}
    errors: dict[str, str] = {}
    pulls_torch = False
    env = child_env()
    # Measure imports as an installed user gets them, from bytecode: the warm-up run writes
    # .pyc files (into a private cache, even if PYTHONDONTWRITEBYTECODE is set here).
    pycache = tempfile.TemporaryDirectory(prefix="bench-pycache-")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache.name

    def run_child(mod: str) -> tuple[float, float, bool] | None:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", IMPORT_CHILD.format(stmt=targets[mod])],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
            errors[mod] = lines[-1][:300]
            return None
        dt, torch_loaded = proc.stdout.split()
        return elapsed, float(dt), torch_loaded == "True"

    t_start = time.perf_counter()
    mods = list(targets)
    for mod in mods:  # warm-up: file system caches, .pyc files (torch ships its own .pyc)
        if mod != "torch":
            run_child(mod)
    for k in range(cfg.import_repeats):
        for mod in rotated(mods, k):
            if mod in errors or (mod == "torch" and k >= cfg.torch_import_repeats):
                continue
            got = run_child(mod)
            if got is None:
                continue
            wall[mod].append(got[0])
            inproc[mod].append(got[1])
            if mod == "autograd_lite" and got[2]:
                pulls_torch = True
    pycache.cleanup()
    log(f"  import: {cfg.import_repeats} rounds in {time.perf_counter() - t_start:.1f} s")

    med = {m: statistics.median(v) for m, v in wall.items() if v}
    med_in = {m: statistics.median(v) for m, v in inproc.items() if v}
    extra_ms = None
    if "autograd_lite" in med and "numpy" in med:
        extra_ms = (med["autograd_lite"] - med["numpy"]) * 1e3
    status = "N/A"
    if "autograd_lite" in errors:
        status = "ERROR"
    elif extra_ms is not None:
        status = "PASS" if extra_ms <= IMPORT_MAX_EXTRA_MS else "MISS"
    return {
        "wall_s": wall,
        "in_process_s": inproc,
        "median_wall_s": med,
        "median_in_process_s": med_in,
        "extra_ms_vs_numpy": extra_ms,
        "target_ms": IMPORT_MAX_EXTRA_MS,
        "status": status,
        "errors": errors,
        "autograd_lite_imports_torch": pulls_torch,
    }


# ---------------------------------------------------------------------------------------
# memory: backward of a 100,000-op chain, in a fresh subprocess per measurement
# ---------------------------------------------------------------------------------------
MEMORY_VECTOR_SIZE = 16
# The chain cycles through 4 ops; d y / d x = (1.0001 * 0.99995) ** (ops / 4) per element.
MEMORY_MUL_1, MEMORY_MUL_2, MEMORY_SHIFT = 1.0001, 0.99995, 1e-3


def memory_chain(y: Any, ops: int) -> Any:
    for _ in range(ops // 4):
        y = y * MEMORY_MUL_1
        y = y + MEMORY_SHIFT
        y = y * MEMORY_MUL_2
        y = y - MEMORY_SHIFT
    return y


def memory_child(impl: str, mode: str, ops: int) -> dict:
    """Runs inside the subprocess: forward chain, then backward, measuring peaks."""
    T = importlib.import_module(impl)
    if impl == "torch":
        T.set_num_threads(1)
    x = T.tensor(np.linspace(0.5, 1.5, MEMORY_VECTOR_SIZE), requires_grad=True)
    gc.collect()
    result: dict[str, Any] = {"impl": impl, "mode": mode, "ops": ops}
    if mode == "tracemalloc":
        tracemalloc.start()
        t0 = time.perf_counter()
        loss = memory_chain(x, ops).sum()
        t1 = time.perf_counter()
        fwd_current, fwd_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        loss.backward()
        t2 = time.perf_counter()
        _, bwd_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result.update(forward_peak=fwd_peak, graph_bytes=fwd_current, backward_peak=bwd_peak)
    else:
        peaks.reset_rss_peak()
        base = peaks.rss_status()["VmRSS"]
        t0 = time.perf_counter()
        loss = memory_chain(x, ops).sum()
        t1 = time.perf_counter()
        after_fwd = peaks.rss_status()
        peaks.reset_rss_peak()
        loss.backward()
        t2 = time.perf_counter()
        after_bwd = peaks.rss_status()
        result.update(
            forward_peak=after_fwd["VmHWM"] - base,
            graph_bytes=after_fwd["VmRSS"] - base,
            backward_peak=after_bwd["VmHWM"] - base,
        )
    result["forward_s"], result["backward_s"] = t1 - t0, t2 - t1
    result["ratio"] = result["backward_peak"] / max(result["forward_peak"], 1)
    expected = (MEMORY_MUL_1 * MEMORY_MUL_2) ** (ops // 4)
    grad = to_numpy(x.grad)
    result["grad_ok"] = bool(np.allclose(grad, expected, rtol=1e-8))
    return result


def measure_memory(impls: list[str], ops: int, log: Callable, references: bool = True) -> dict:
    """The target uses autograd_lite under tracemalloc; the RSS runs are references."""
    runs = []
    if "autograd_lite" in impls:
        runs.append(("autograd_lite", "tracemalloc"))
    if references and "autograd_lite" in impls:
        runs.append(("autograd_lite", "rss"))
    if references and "torch" in impls:
        runs.append(("torch", "rss"))
    out: dict[str, Any] = {"ops": ops, "target_ratio": MEMORY_MAX_RATIO}
    t_start = time.perf_counter()
    for impl, mode in runs:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", impl]
        cmd += ["--memory-mode", mode, "--chain-ops", str(ops)]
        try:
            proc = subprocess.run(
                cmd, env=child_env(), cwd=REPO, capture_output=True, text=True, timeout=600
            )
        except subprocess.TimeoutExpired:
            out[f"{impl}/{mode}"] = {"error": "timed out after 600 s"}
            continue
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
            out[f"{impl}/{mode}"] = {"error": f"{lines[-1][:300]} (exit {proc.returncode})"}
        else:
            out[f"{impl}/{mode}"] = json.loads(proc.stdout.strip().splitlines()[-1])
    log(f"  memory: {len(runs)} subprocesses in {time.perf_counter() - t_start:.1f} s")
    main = out.get("autograd_lite/tracemalloc")
    if main is None:
        out["status"] = "N/A"
    elif "error" in main:
        out["status"] = "ERROR"
    elif not main["grad_ok"]:
        out["status"] = "WRONG"
    else:
        out["status"] = "PASS" if main["ratio"] <= MEMORY_MAX_RATIO else "MISS"
    return out


# ---------------------------------------------------------------------------------------
# --check
# ---------------------------------------------------------------------------------------
def run_checks(impls: list[str], modules: dict[str, Any], names: list[str], log: Callable) -> int:
    failures = 0
    for wl in (WORKLOADS_BY_NAME[n] for n in names):
        inputs = wl.make_inputs(np.random.default_rng(SEED))
        want = reference_outputs(wl, inputs)
        for impl in impls:
            prepare, run = make_runner(wl, impl, modules, inputs)
            try:
                problem = compare_outputs(run(prepare()), want, wl.rtol, wl.atol)
            except Exception as e:
                problem = error_line(e)
            # Running twice also catches state leaking between runs (e.g. stale .grad).
            if problem is None:
                try:
                    problem = compare_outputs(run(prepare()), want, wl.rtol, wl.atol)
                except Exception as e:
                    problem = "second run: " + error_line(e)
            failures += problem is not None
            log(f"{'ok  ' if problem is None else 'FAIL'} {wl.name:<20} {impl:<14} {problem or ''}")
    if "autograd_lite" in impls:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys, autograd_lite; print('torch' in sys.modules)"],
            env=child_env(),
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        bad = proc.returncode != 0 or proc.stdout.strip() != "False"
        failures += bad
        log(f"{'FAIL' if bad else 'ok  '} import autograd_lite does not import torch")
    return failures


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------
def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "—"
    return f"{n / 2**20:.1f} MiB"


def time_cell(res: TimingResult, impl: str, with_spread: bool = True) -> str:
    if impl in res.errors:
        return "error"
    med = res.median(impl)
    if med is None:
        return "—"
    cell = fmt_ms(med)
    spread = res.spread(impl)
    if with_spread and spread is not None:
        cell += f" ±{spread * 100:.0f}%"
    if impl in res.mismatches:
        cell += " (WRONG)"
    return cell


def ratio_cell(res: TimingResult, den: str, target: float | None) -> str:
    value = res.ratio("autograd_lite", den)
    text = "—" if value is None else f"{value:.2f}x"
    if target is not None:
        text += f" (≤ {target:.2f})"
    return text


def verdict_cell(res: TimingResult) -> str:
    v = res.verdicts()
    if not v:
        if "autograd_lite" in res.errors:
            return "ERROR"
        return "WRONG" if res.mismatches else "—"
    return " ".join(dict.fromkeys(status for *_, status in v))  # PASS / MISS / ...


HEADERS = ["workload", "autograd_lite", "torch", "numpy", "al / torch", "al / numpy", "result"]


def timing_rows(results: list[TimingResult], with_spread: bool = True) -> list[list[str]]:
    rows = []
    for r in results:
        wl = r.workload
        rows.append(
            [
                wl.name,
                time_cell(r, "autograd_lite", with_spread),
                time_cell(r, "torch", with_spread),
                time_cell(r, "numpy", with_spread),
                ratio_cell(r, "torch", wl.max_vs_torch),
                ratio_cell(r, "numpy", wl.max_vs_numpy),
                verdict_cell(r),
            ]
        )
    return rows


def import_row(imp: dict | None) -> list[str] | None:
    if imp is None:
        return None
    med = imp["median_wall_s"]
    extra = imp["extra_ms_vs_numpy"]
    extra_text = "—" if extra is None else f"{extra:+.1f} ms"
    al = "error" if "autograd_lite" in imp["errors"] else fmt_ms(med.get("autograd_lite"))
    return [
        "import (wall)",
        al,
        fmt_ms(med.get("torch")),
        fmt_ms(med.get("numpy")),
        "—",
        f"{extra_text} (≤ +{imp['target_ms']:.0f} ms)",
        imp["status"],
    ]


def memory_row(mem: dict | None) -> list[str] | None:
    if mem is None:
        return None

    def cell(key: str, label: str) -> str:
        run = mem.get(key)
        if run is None:
            return "—"
        if "error" in run:
            return "error"
        return f"{run['ratio']:.2f}x {label}"

    main = mem.get("autograd_lite/tracemalloc") or {}
    ratio = "—" if "ratio" not in main else f"{main['ratio']:.2f}x"
    return [
        "memory (bwd/fwd peak)",
        cell("autograd_lite/tracemalloc", "tracemalloc"),
        cell("torch/rss", "RSS"),
        "n/a",
        "—",
        f"{ratio} (≤ {MEMORY_MAX_RATIO:.0f})",
        mem["status"],
    ]


def peak_row(peak: dict | None) -> list[str] | None:
    """Peak memory of elementwise_big: the numpy column shows the careful version (the floor)."""
    if peak is None:
        return None

    def cell(impl: str) -> str:
        run = peak.get(impl) or {}
        return fmt_bytes(run["peak_bytes"]) if "peak_bytes" in run else "—"

    vs_torch, vs_floor = peaks.ratio(peak, "torch"), peaks.ratio(peak, "numpy_careful")
    return [
        "peak memory (elementwise_big)",
        cell("autograd_lite"),
        cell("torch"),
        cell("numpy_careful") + " careful",
        "—" if vs_torch is None else f"{vs_torch:.2f}x (≤ {peaks.MAX_VS_TORCH:.2f})",
        "—" if vs_floor is None else f"{vs_floor:.2f}x",
        peak["status"],
    ]


def peak_notes(peak: dict | None) -> list[str]:
    if peak is None:
        return []
    runs = [(impl, peak.get(impl) or {}) for impl in peaks.IMPLS]
    shown = [f"{impl} {fmt_bytes(r['peak_bytes'])}" for impl, r in runs if "peak_bytes" in r]
    errors = [f"peak memory {impl}: {r['error']}" for impl, r in runs if "error" in r]
    return [
        "peak memory of elementwise_big, resident above the inputs, each in a fresh process: "
        + ", ".join(shown),
        *errors,
    ]


def peak_target(peak: dict | None) -> list[str]:
    if peak is None:
        return []
    value = peaks.ratio(peak, "torch")
    shown = "—" if value is None else f"{value:.2f}"
    return [
        f"{peak['status']:<5} peak memory: autograd_lite / torch = {shown} "
        f"(target ≤ {peaks.MAX_VS_TORCH:.2f}, elementwise_big, RSS)"
    ]


def notes(results: list[TimingResult], imp: dict | None, mem: dict | None) -> list[str]:
    lines = []
    for r in results:
        for impl, err in r.errors.items():
            lines.append(f"{r.workload.name}: {impl} raised {err}")
        for impl, problem in r.mismatches.items():
            lines.append(f"{r.workload.name}: {impl} disagrees with numpy: {problem}")
    if imp:
        for mod, err in imp["errors"].items():
            lines.append(f"import {mod}: {err}")
        if imp["autograd_lite_imports_torch"]:
            lines.append("import autograd_lite pulls in torch (it must stay NumPy-only)")
        med_in = imp["median_in_process_s"]
        if "autograd_lite" in med_in and "numpy" in med_in:
            lines.append(
                "import, in-process time of the import statement alone: "
                + ", ".join(f"{m} {fmt_ms(med_in[m])}" for m in med_in if m != "python")
            )
    if mem:
        for key in ("autograd_lite/tracemalloc", "autograd_lite/rss", "torch/rss"):
            run = mem.get(key)
            if run is None:
                continue
            if "error" in run:
                lines.append(f"memory {key}: {run['error']}")
                continue
            lines.append(
                f"memory {key}: forward peak {fmt_bytes(run['forward_peak'])}, "
                f"backward peak {fmt_bytes(run['backward_peak'])} "
                f"(ratio {run['ratio']:.2f}), forward {run['forward_s']:.2f} s, "
                f"backward {run['backward_s']:.2f} s, gradient "
                + ("correct" if run["grad_ok"] else "WRONG")
            )
    return lines


def target_lines(results: list[TimingResult], imp: dict | None, mem: dict | None) -> list[str]:
    lines = []
    for r in results:
        for label, target, value, status in r.verdicts():
            shown = "—" if value is None else f"{value:.2f}"
            lines.append(
                f"{status:<5} {r.workload.name}: {label} = {shown} (target ≤ {target:.2f})"
            )
    if imp is not None and "autograd_lite" in imp["wall_s"]:
        extra = imp["extra_ms_vs_numpy"]
        shown = "—" if extra is None else f"{extra:+.1f} ms"
        lines.append(
            f"{imp['status']:<5} import: autograd_lite - numpy = {shown} "
            f"(target ≤ +{IMPORT_MAX_EXTRA_MS:.0f} ms)"
        )
    if mem is not None:
        main = mem.get("autograd_lite/tracemalloc") or {}
        shown = f"{main['ratio']:.2f}" if "ratio" in main else "—"
        lines.append(
            f"{mem['status']:<5} memory: backward peak / forward peak = {shown} "
            f"(target ≤ {MEMORY_MAX_RATIO:.1f}, {mem['ops']:,}-op chain, tracemalloc)"
        )
    return lines


def print_report(
    rows: list[list[str]], note_lines: list[str], targets: list[str], title: str
) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        Console = None  # noqa: N806
    if Console is not None:
        console = Console()
        if not console.is_terminal:  # piped or redirected: don't squeeze to 80 columns
            console = Console(width=160)
        table = Table(title=title)
        for i, h in enumerate(HEADERS):
            table.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            style = {"PASS": "green", "MISS": "red"}.get(row[-1].split()[0], "yellow")
            table.add_row(*row[:-1], f"[{style}]{row[-1]}[/{style}]")
        console.print(table)
        for line in note_lines:
            console.print(f"  note: {line}", markup=False, highlight=False)
        for line in targets:
            style = {"PASS": "green", "MISS": "red"}.get(line.split()[0], "yellow")
            console.print(f"[{style}]{line}[/{style}]", highlight=False)
        return
    widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
    print(title)
    for row in [HEADERS, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    for line in note_lines:
        print(f"  note: {line}")
    for line in targets:
        print(line)


def metadata(args: argparse.Namespace, modules: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "quick": args.quick,
        "threads": 1,
    }
    for name in TENSOR_IMPLS:
        if name in modules:
            meta[name] = getattr(modules[name], "__version__", "?")
    try:
        meta["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        pass
    return meta


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def markdown_table(rows: list[list[str]]) -> str:
    out = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(HEADERS) - 1)) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def write_readme(
    rows: list[list[str]], note_lines: list[str], targets: list[str], meta: dict
) -> None:
    versions = ", ".join(f"{k} {meta[k]}" for k in ("numpy", "torch", "autograd_lite") if k in meta)
    header = (
        f"Measured {meta['date']} with `python benchmarks/run.py"
        + (" --quick" if meta["quick"] else "")
        + f"` on {meta['cores']} cores ({meta['cpu']}), 1 thread per library; "
        f"Python {meta['python']}, {versions}"
        + (f"; commit {meta['commit']}" if meta.get("commit") else "")
        + ". Times are medians; ± is half the interquartile range."
    )
    block = [RESULTS_START, "", header, "", markdown_table(rows), ""]
    if targets:
        block += ["```", *targets, "```", ""]
    block += [f"- {line}" for line in note_lines]
    if note_lines:
        block.append("")
    block.append(RESULTS_END)
    text = README.read_text()
    pattern = re.compile(re.escape(RESULTS_START) + r".*?" + re.escape(RESULTS_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{README} has no {RESULTS_START} ... {RESULTS_END} markers")
    README.write_text(pattern.sub(lambda _: "\n".join(block), text, count=1))


# ---------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------
def load_modules(impls: list[str], log: Callable) -> tuple[dict[str, Any], dict[str, str]]:
    modules, errors = {}, {}
    for name in TENSOR_IMPLS:
        if name not in impls:
            continue
        try:
            modules[name] = importlib.import_module(name)
        except Exception as e:
            errors[name] = error_line(e)
            log(f"cannot import {name}: {errors[name]}")
    if "torch" in modules:
        torch = modules["torch"]
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
    return modules, errors


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run (~15 s)")
    p.add_argument("--check", action="store_true", help="only check that implementations agree")
    p.add_argument("--write", action="store_true", help="update the table in benchmarks/README.md")
    p.add_argument("--json", metavar="PATH", help="write raw measurements to PATH")
    p.add_argument(
        "--impl", default=",".join(IMPLS), help="comma-separated subset of " + ",".join(IMPLS)
    )
    p.add_argument(
        "--workloads",
        default="all",
        help="comma-separated subset of " + ",".join([w.name for w in WORKLOADS] + EXTRA_NAMES),
    )
    p.add_argument("--repeats", type=int, help="fixed number of timed repeats per workload")
    p.add_argument("--warmup", type=int, help="warm-up rounds per workload (default 2, quick 1)")
    p.add_argument("--budget", type=float, help="seconds per workload when --repeats is not given")
    p.add_argument(
        "--no-gc", action="store_true", help="disable gc inside the timed region (all impls)"
    )
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    p.add_argument("--memory-mode", default="tracemalloc", help=argparse.SUPPRESS)
    p.add_argument("--chain-ops", type=int, default=MEMORY_CHAIN_OPS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.memory_mode, args.chain_ops)))
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    impls = [i.strip() for i in args.impl.split(",") if i.strip()]
    unknown = set(impls) - set(IMPLS)
    if unknown:
        raise SystemExit(f"unknown --impl {sorted(unknown)}; choose from {IMPLS}")
    all_names = [w.name for w in WORKLOADS] + EXTRA_NAMES
    names = all_names if args.workloads == "all" else [n.strip() for n in args.workloads.split(",")]
    unknown = set(names) - set(all_names)
    if unknown:
        raise SystemExit(f"unknown --workloads {sorted(unknown)}; choose from {all_names}")

    modules, import_errors = load_modules(impls, log)
    runnable = [i for i in impls if i == "numpy" or i in modules]
    timed_names = [n for n in names if n in WORKLOADS_BY_NAME]

    if args.check:
        failures = run_checks(runnable, modules, timed_names, log) + len(import_errors)
        log("all implementations agree" if not failures else f"{failures} check(s) FAILED")
        return 1 if failures else 0

    cfg = Settings(
        warmup=args.warmup if args.warmup is not None else (1 if args.quick else 2),
        budget_s=args.budget if args.budget is not None else (0.8 if args.quick else 10.0),
        min_repeats=3 if args.quick else 7,
        max_repeats=30 if args.quick else 200,
        repeats=args.repeats,
        disable_gc=args.no_gc,
        import_repeats=3 if args.quick else 10,
        torch_import_repeats=1 if args.quick else 3,
    )
    # Objects alive now (torch's and NumPy's module state, ...) are never garbage: keep the
    # collector from re-scanning them during every timed run, for all implementations alike.
    gc.collect()
    gc.freeze()

    t_start = time.perf_counter()
    results = []
    for name in timed_names:
        res = time_workload(WORKLOADS_BY_NAME[name], runnable, modules, cfg, log)
        for impl, err in import_errors.items():
            res.errors[impl] = f"import failed: {err}"
        results.append(res)
    imp = None
    if "import" in names:
        imp = measure_imports(
            cfg,
            with_torch="torch" in impls,
            with_al="autograd_lite" in impls,
            log=log,
        )
    mem = None
    if "memory" in names and any(i in modules for i in TENSOR_IMPLS):
        mem = measure_memory(
            [i for i in TENSOR_IMPLS if i in modules],
            MEMORY_CHAIN_OPS,
            log,
            references=not args.quick,  # --quick: only the run the target needs
        )
    elif "memory" in names:
        mem = {"ops": MEMORY_CHAIN_OPS, "status": "ERROR" if import_errors else "N/A"}
    peak = None
    if "peak_memory" in names and "autograd_lite" in modules:
        peak = peaks.measure_peaks(list(modules), log)
    log(f"total {time.perf_counter() - t_start:.0f} s")

    meta = metadata(args, modules)
    extra_rows = (import_row(imp), memory_row(mem), peak_row(peak))
    rows = timing_rows(results) + [r for r in extra_rows if r]
    note_lines = notes(results, imp, mem) + peak_notes(peak)
    note_lines += [f"cannot import {m}: {e}" for m, e in import_errors.items()]
    targets = (
        target_lines(results, imp, mem) + peak_target(peak) if "autograd_lite" in impls else []
    )
    title = (
        f"autograd_lite benchmarks{' (quick)' if args.quick else ''}: median times, "
        f"1 thread, {meta['cores']} cores"
    )
    print_report(rows, note_lines, targets, title)

    if args.json:
        raw = {
            "meta": meta,
            "workloads": {
                r.workload.name: {
                    "times_s": r.times,
                    "median_s": {i: r.median(i) for i in r.times},
                    "ratio_of_medians": {
                        d: r.ratio("autograd_lite", d) for d in ("torch", "numpy")
                    },
                    "median_of_paired_ratios": {
                        d: r.paired_ratio("autograd_lite", d) for d in ("torch", "numpy")
                    },
                    "targets": {
                        "vs_torch": r.workload.max_vs_torch,
                        "vs_numpy": r.workload.max_vs_numpy,
                    },
                    "verdicts": [
                        {"label": lab, "target": t, "value": v, "status": s}
                        for lab, t, v, s in r.verdicts()
                    ],
                    "errors": r.errors,
                    "mismatches": r.mismatches,
                }
                for r in results
            },
            "import": imp,
            "memory": mem,
            "peak_memory": peak,
        }
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")
        log(f"wrote {args.json}")
    if args.write:
        write_readme(rows, note_lines, targets, meta)
        log(f"updated {README.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
