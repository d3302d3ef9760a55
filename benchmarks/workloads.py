"""The workloads of ``benchmarks/run.py``: each written once against the torch API (run with
``T`` = torch or autograd_lite) and once in plain NumPy, with its target.

Some workloads come in several formulations of one computation (a Hessian by ``g[i]`` rows,
by ``(g * e_i).sum()`` rows, by Hessian-vector products; an elementwise pass against plain and
against careful NumPy): the library's speed must not depend on how a user happens to write it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------
# Workload: scalar_chain
# 1000 steps of x = (w*x + b) / (1 + x**2) - c*x on 0-d float64 leaves, then backward.
# Pure per-op overhead: 7 ops per step, 7000 graph nodes, no real arithmetic.
# ---------------------------------------------------------------------------------------
SCALAR_CHAIN_STEPS = 1000


def scalar_chain_inputs(rng: np.random.Generator) -> dict[str, Any]:
    # Constants chosen so the map contracts: values and gradients stay finite.
    return {"w": np.array(1.0), "b": np.array(0.02), "c": np.array(0.03), "x0": np.array(0.5)}


def scalar_chain_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    w, b, c, x0 = s["w"], s["b"], s["c"], s["x0"]
    x = x0
    for _ in range(SCALAR_CHAIN_STEPS):
        x = (w * x + b) / (1 + x**2) - c * x
    x.backward()
    return {
        "x": x.detach(),
        "w.grad": w.grad,
        "b.grad": b.grad,
        "c.grad": c.grad,
        "x0.grad": x0.grad,
    }


def scalar_chain_numpy(s: dict[str, Any]) -> dict[str, Any]:
    w, b, c, x = s["w"][()], s["b"][()], s["c"][()], s["x0"][()]  # np.float64 scalars
    tape = []
    for _ in range(SCALAR_CHAIN_STEPS):
        u = w * x + b
        d = 1 + x**2
        tape.append((x, u, d))
        x = u / d - c * x
    gw = gb = gc_ = np.float64(0.0)
    gx = np.float64(1.0)
    for xi, u, d in reversed(tape):
        # x_next = u / d - c * xi  with  u = w * xi + b,  d = 1 + xi**2
        gu = gx / d
        gd = -gx * u / (d * d)
        gc_ = gc_ - gx * xi
        gw = gw + gu * xi
        gb = gb + gu
        gx = -gx * c + gu * w + gd * 2 * xi
    return {"x": x, "w.grad": gw, "b.grad": gb, "c.grad": gc_, "x0.grad": gx}


# ---------------------------------------------------------------------------------------
# Workload: mlp_step
# 10 SGD steps of a 2-layer tanh MLP, float32: x[256x512] -> 1024 -> 128, MSE (mean).
# BLAS-bound: shows what the autograd bookkeeping costs on top of real matmuls.
# ---------------------------------------------------------------------------------------
MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT = 256, 512, 1024, 128
MLP_STEPS = 10
MLP_LR = 0.5


def mlp_inputs(rng: np.random.Generator) -> dict[str, Any]:
    f32 = np.float32
    return {
        "x": rng.standard_normal((MLP_BATCH, MLP_IN)).astype(f32),
        "y": rng.standard_normal((MLP_BATCH, MLP_OUT)).astype(f32),
        "W1": (rng.standard_normal((MLP_IN, MLP_HIDDEN)) / math.sqrt(MLP_IN)).astype(f32),
        "b1": (0.1 * rng.standard_normal(MLP_HIDDEN)).astype(f32),
        "W2": (rng.standard_normal((MLP_HIDDEN, MLP_OUT)) / math.sqrt(MLP_HIDDEN)).astype(f32),
        "b2": (0.1 * rng.standard_normal(MLP_OUT)).astype(f32),
    }


def mlp_step_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    x, y = s["x"], s["y"]
    W1, b1, W2, b2 = params = [s["W1"], s["b1"], s["W2"], s["b2"]]
    losses = []
    for _ in range(MLP_STEPS):
        h = T.tanh(x @ W1 + b1)
        out = h @ W2 + b2
        loss = ((out - y) ** 2).mean()
        loss.backward()
        with T.no_grad():
            for p in params:
                p.sub_(MLP_LR * p.grad)
                p.grad = None
        losses.append(loss.item())
    return {
        "losses": losses,
        "W1": W1.detach(),
        "b1": b1.detach(),
        "W2": W2.detach(),
        "b2": b2.detach(),
    }


def mlp_step_numpy(s: dict[str, Any]) -> dict[str, Any]:
    x, y, W1, b1, W2, b2 = (s[k] for k in ("x", "y", "W1", "b1", "W2", "b2"))
    losses = []
    for _ in range(MLP_STEPS):
        h = np.tanh(x @ W1 + b1)
        out = h @ W2 + b2
        diff = out - y
        loss = np.mean(diff**2)
        g_out = diff * (2.0 / diff.size)
        g_W2 = h.T @ g_out
        g_b2 = g_out.sum(axis=0)
        g_z1 = (g_out @ W2.T) * (1 - h * h)
        g_W1 = x.T @ g_z1
        g_b1 = g_z1.sum(axis=0)
        W1 -= MLP_LR * g_W1
        b1 -= MLP_LR * g_b1
        W2 -= MLP_LR * g_W2
        b2 -= MLP_LR * g_b2
        losses.append(float(loss))
    return {"losses": losses, "W1": W1, "b1": b1, "W2": W2, "b2": b2}


# ---------------------------------------------------------------------------------------
# Workload: elementwise_big
# Exactly 20 elementwise ops (t1..t20 below) on two 1e6-element float64 vectors, then sum.
# Memory-bandwidth-bound: autograd should add little on top of the NumPy kernels.
# Inputs a, b are uniform in [0.5, 1.5], so every op is numerically safe:
#   t2 = a + b in [1, 3] (divisor and log argument), t14 = t13 + 1 > 1 (log argument),
#   t16 = t12 * t15 in (-1.4, 1.4) (exp argument).
# Op count: 4x mul/add/sub... in detail: * (t1, t9, t16), + (t2, t10, t14), - (t3, t11,
# t18), / (t4, t13, t20), ** (t5, t19), exp (t6, t17), tanh (t7, t12), log (t8, t15).
# ---------------------------------------------------------------------------------------
ELEMENTWISE_N = 1_000_000


def elementwise_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"a": rng.uniform(0.5, 1.5, ELEMENTWISE_N), "b": rng.uniform(0.5, 1.5, ELEMENTWISE_N)}


def elementwise_big_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    a, b = s["a"], s["b"]
    t1 = a * b
    t2 = a + b
    t3 = a - b
    t4 = t1 / t2
    t5 = t3**2
    t6 = T.exp(t3)
    t7 = T.tanh(t4)
    t8 = T.log(t2)
    t9 = t5 * t6
    t10 = t7 + t8
    t11 = t9 - t10
    t12 = T.tanh(t11)
    t13 = t6 / t2
    t14 = t13 + 1.0
    t15 = T.log(t14)
    t16 = t12 * t15
    t17 = T.exp(t16)
    t18 = t17 - t4
    t19 = t18**2
    t20 = t19 / t2
    loss = t20.sum()
    loss.backward()
    return {"loss": loss.detach(), "a.grad": a.grad, "b.grad": b.grad}


def elementwise_big_numpy(s: dict[str, Any]) -> dict[str, Any]:
    a, b = s["a"], s["b"]
    t1 = a * b
    t2 = a + b
    t3 = a - b
    t4 = t1 / t2
    t5 = t3**2
    t6 = np.exp(t3)
    t7 = np.tanh(t4)
    t8 = np.log(t2)
    t9 = t5 * t6
    t10 = t7 + t8
    t11 = t9 - t10
    t12 = np.tanh(t11)
    t13 = t6 / t2
    t14 = t13 + 1.0
    t15 = np.log(t14)
    t16 = t12 * t15
    t17 = np.exp(t16)
    t18 = t17 - t4
    t19 = t18**2
    t20 = t19 / t2
    loss = t20.sum()
    # Reverse pass; gN is d loss / d tN (d loss / d t20 = 1).
    g19 = 1.0 / t2
    g2 = -t20 / t2
    g18 = 2 * t18 * g19
    g16 = g18 * t17  # g17 = g18
    g4 = -g18
    g12 = g16 * t15
    g14 = g16 * t12 / t14  # g15 = g16 * t12; g14 = g15 / t14; g13 = g14
    g6 = g14 / t2
    g2 -= g14 * t13 / t2
    g11 = g12 * (1 - t12**2)  # g9 = g11, g10 = -g11 = g7 = g8
    g5 = g11 * t6
    g6 += g11 * t5
    g2 -= g11 / t2
    g4 -= g11 * (1 - t7**2)
    g3 = g6 * t6 + g5 * 2 * t3
    g1 = g4 / t2
    g2 -= g4 * t4 / t2
    grad_a = g3 + g2 + g1 * b
    grad_b = g2 - g3 + g1 * a
    return {"loss": loss, "a.grad": grad_a, "b.grad": grad_b}


def _leaf_gradients(loss, a, b, g1, g2, g3) -> dict[str, Any]:
    """The last step of both careful reverse passes: t1 = a * b, t2 = a + b and t3 = a - b
    hand their gradients (g1, g2, g3) to the leaves, into arrays nothing needs any more."""
    grad_a = g1 * b
    grad_a += g3
    grad_a += g2
    grad_b = np.multiply(g1, a, out=g1)
    grad_b += g2
    grad_b -= g3
    return {"loss": loss, "a.grad": grad_a, "b.grad": grad_b}


def elementwise_careful_numpy(s: dict[str, Any]) -> dict[str, Any]:
    """The same math as NumPy written with care, as issue 15 describes its floor: each
    intermediate is freed as soon as neither pass needs it, the reverse pass reuses forward
    values (exp's and tanh's outputs, a/b for the divisor's gradient), and gradients are
    computed and summed in place (``out=``, ``+=``) in arrays the reverse pass made itself.
    Values the forward pass computed are read, never written: the caller may still hold them,
    as a user holds a tape's tensors. (``elementwise_in_place_numpy`` also writes over them.)
    """
    a, b = s["a"], s["b"]
    t1 = a * b
    t2 = a + b
    t3 = a - b
    t4 = t1 / t2
    del t1
    t5 = t3**2
    t6 = np.exp(t3)
    t7 = np.tanh(t4)
    t8 = np.log(t2)
    t9 = t5 * t6
    t10 = t7 + t8
    del t8
    t11 = t9 - t10
    del t9, t10
    t12 = np.tanh(t11)
    del t11
    t13 = t6 / t2
    t14 = t13 + 1.0
    t15 = np.log(t14)
    t16 = t12 * t15
    t17 = np.exp(t16)
    del t16
    t18 = t17 - t4
    t19 = t18**2
    t20 = t19 / t2
    del t19
    loss = t20.sum()
    # Reverse pass (gN = d loss / d tN), each gradient made once and then worked on in place.
    g2 = np.divide(t20, t2)  # -t20 / t2, from t20 = t19 / t2
    np.negative(g2, out=g2)
    g18 = np.divide(1.0, t2)  # g19 = 1 / t2; g18 = 2 * t18 * g19
    g18 *= t18
    g18 *= 2.0
    g16 = g18 * t17  # g17 = g18
    g4 = np.negative(g18, out=g18)
    g12 = g16 * t15
    g14 = g16  # g15 = g16 * t12; g14 = g15 / t14; g13 = g14
    g14 *= t12
    g14 /= t14
    g6 = g14 / t2
    g14 *= t13
    g14 /= t2
    g2 -= g14
    del g14, g16
    d12 = t12 * t12  # g11 = g12 * (1 - t12**2)
    np.subtract(1.0, d12, out=d12)
    g11 = np.multiply(g12, d12, out=g12)
    del d12
    g5 = g11 * t6  # g9 = g11; g10 = -g11 = g7 = g8
    d5 = t5 * g11
    g6 += d5
    del d5
    d7 = t7 * t7  # g4 -= g11 * (1 - t7**2)
    np.subtract(1.0, d7, out=d7)
    d7 *= g11
    g4 -= d7
    del d7
    np.divide(g11, t2, out=g11)
    g2 -= g11
    del g11
    g3 = np.multiply(g6, t6, out=g6)  # g3 = g6 * t6 + g5 * 2 * t3
    g5 *= t3
    g5 *= 2.0
    g3 += g5
    del g5
    g1 = np.divide(g4, t2, out=g4)
    d4 = t4 * g1  # g2 -= g4 * t4 / t2, i.e. g1 * t4
    g2 -= d4
    del d4
    return _leaf_gradients(loss, a, b, g1, g2, g3)


def elementwise_in_place_numpy(s: dict[str, Any]) -> dict[str, Any]:
    """Beyond care: as ``elementwise_careful_numpy``, and each forward value is also written
    over (``out=``, ``*=``) once neither pass needs it, in the forward pass and in the reverse
    one. The floor of all: fewer passes over memory and fewer fresh 8 MB arrays than any
    library can use whose results stay intact while its caller holds them (torch included).
    """
    a, b = s["a"], s["b"]
    t2 = a + b
    t4 = a * b
    t4 /= t2  # t1 is never needed again
    t3 = a - b
    t5 = t3 * t3
    t6 = np.exp(t3)
    t7 = np.tanh(t4)
    t10 = np.log(t2)
    t10 += t7  # t8 only feeds t10
    t11 = t5 * t6  # t9, then t11 in place
    t11 -= t10
    del t10
    t12 = np.tanh(t11, out=t11)
    t13 = t6 / t2
    t14 = t13 + 1.0
    t15 = np.log(t14)
    t17 = t12 * t15
    np.exp(t17, out=t17)  # t16 only feeds t17
    t18 = t17 - t4
    t20 = t18 * t18
    t20 /= t2  # t19 only feeds t20
    loss = t20.sum()
    # Reverse pass, each gradient into an array the rest no longer needs.
    g2 = np.divide(t20, t2, out=t20)
    np.negative(g2, out=g2)  # -t20 / t2
    g18 = np.divide(1.0, t2)  # g19 = 1 / t2; g18 = 2 * t18 * g19
    g18 *= t18
    g18 *= 2.0
    del t18
    g16 = np.multiply(t17, g18, out=t17)  # g17 = g18
    g4 = np.negative(g18, out=g18)
    g12 = g16 * t15
    del t15
    g14 = g16  # g15 = g16 * t12; g14 = g15 / t14; g13 = g14
    g14 *= t12
    g14 /= t14
    del t14
    g6 = g14 / t2
    g14 *= t13
    g14 /= t2
    g2 -= g14
    del g14, g16, t13
    np.multiply(t12, t12, out=t12)  # g11 = g12 * (1 - t12**2)
    np.subtract(1.0, t12, out=t12)
    g11 = np.multiply(g12, t12, out=g12)
    del t12
    g5 = g11 * t6  # g9 = g11; g10 = -g11 = g7 = g8
    t5 *= g11
    g6 += t5
    del t5
    np.multiply(t7, t7, out=t7)  # g4 -= g11 * (1 - t7**2)
    np.subtract(1.0, t7, out=t7)
    t7 *= g11
    g4 -= t7
    del t7
    np.divide(g11, t2, out=g11)
    g2 -= g11
    del g11
    g3 = np.multiply(g6, t6, out=g6)  # g3 = g6 * t6 + g5 * 2 * t3
    g5 *= t3
    g5 *= 2.0
    g3 += g5
    del g5, t6, t3
    g1 = np.divide(g4, t2, out=g4)
    t4 *= g1  # g2 -= g4 * t4 / t2, i.e. g1 * t4
    g2 -= t4
    del t4
    return _leaf_gradients(loss, a, b, g1, g2, g3)


# ---------------------------------------------------------------------------------------
# Workloads: hessian_functional, hessian_loop
# Hessian of f(x) = sum(sin(x) * x**2) + x @ A @ x, x in R^10, float64: double backward
# on a tiny graph, so again overhead-bound.  NumPy: the closed form
#   H = diag((2 - x**2) sin x + 4 x cos x) + A + A^T.
# ---------------------------------------------------------------------------------------
HESSIAN_N = 10


def hessian_inputs(rng: np.random.Generator) -> dict[str, Any]:
    return {"x": rng.standard_normal(HESSIAN_N), "A": rng.standard_normal((HESSIAN_N, HESSIAN_N))}


def hessian_objective(T: Any, A: Any) -> Callable[[Any], Any]:
    def f(x: Any) -> Any:
        return (T.sin(x) * x**2).sum() + x @ A @ x

    return f


def hessian_functional_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    return {"H": T.autograd.functional.hessian(hessian_objective(T, s["A"]), s["x"])}


def hessian_loop_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    x = s["x"]
    y = hessian_objective(T, s["A"])(x)
    (g,) = T.autograd.grad(y, x, create_graph=True)
    rows = [T.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(x.shape[0])]
    return {"H": T.stack(rows)}


def hessian_loop_backward_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    """The same rows by backward(): each row accumulates into a fresh x.grad."""
    x = s["x"]
    y = hessian_objective(T, s["A"])(x)
    (g,) = T.autograd.grad(y, x, create_graph=True)
    rows = []
    for i in range(x.shape[0]):
        x.grad = None
        g[i].backward(retain_graph=True)
        rows.append(x.grad)
    return {"H": T.stack(rows)}


def hessian_rows_basis_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    """Rows as many tutorials write them: a fresh scalar ``(g * e_i).sum()`` per row."""
    x = s["x"]
    y = hessian_objective(T, s["A"])(x)
    (g,) = T.autograd.grad(y, x, create_graph=True)
    rows = [T.autograd.grad((g * e).sum(), x, retain_graph=True)[0] for e in s["basis"]]
    return {"H": T.stack(rows)}


def hessian_vector_products_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    """Hessian-vector products H v = d(g . v)/dx, one pass per vector (as an optimizer or a
    Lanczos iteration asks for them)."""
    x = s["x"]
    y = hessian_objective(T, s["A"])(x)
    (g,) = T.autograd.grad(y, x, create_graph=True)
    products = [T.autograd.grad(T.dot(g, v), x, retain_graph=True)[0] for v in s["vectors"]]
    return {"Hv": T.stack(products)}


def hessian_inputs_with_rows(rng: np.random.Generator) -> dict[str, Any]:
    inputs = hessian_inputs(rng)
    inputs["basis"] = np.eye(HESSIAN_N)
    inputs["vectors"] = rng.standard_normal((HESSIAN_N, HESSIAN_N))
    return inputs


def hessian_numpy(s: dict[str, Any]) -> dict[str, Any]:
    x, A = s["x"], s["A"]
    return {"H": np.diag((2 - x**2) * np.sin(x) + 4 * x * np.cos(x)) + A + A.T}


def hessian_vector_products_numpy(s: dict[str, Any]) -> dict[str, Any]:
    H = hessian_numpy(s)["H"]
    return {"Hv": s["vectors"] @ H.T}  # row k: H @ v_k


# ---------------------------------------------------------------------------------------
# Workloads: jacobian_functional, jacobian_loop
# Jacobian of g(x) = tanh(W @ x + b) + x * sin(x), R^64 -> R^64, float64: 64 backward
# passes through one retained graph.  NumPy: J = (1 - tanh(z)**2)[:, None] * W
# + diag(sin x + x cos x), z = W @ x + b.
# ---------------------------------------------------------------------------------------
JACOBIAN_N = 64


def jacobian_inputs(rng: np.random.Generator) -> dict[str, Any]:
    n = JACOBIAN_N
    return {
        "x": rng.standard_normal(n),
        "W": rng.standard_normal((n, n)) / math.sqrt(n),
        "b": 0.1 * rng.standard_normal(n),
        "onehots": np.eye(n),  # turned into a list of n row tensors by `prepare`
    }


def jacobian_function(T: Any, W: Any, b: Any) -> Callable[[Any], Any]:
    def g(x: Any) -> Any:
        return T.tanh(W @ x + b) + x * T.sin(x)

    return g


def jacobian_functional_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    return {"J": T.autograd.functional.jacobian(jacobian_function(T, s["W"], s["b"]), s["x"])}


def jacobian_loop_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    x = s["x"]
    y = jacobian_function(T, s["W"], s["b"])(x)
    rows = []
    for onehot in s["onehots"]:
        x.grad = None
        y.backward(onehot, retain_graph=True)
        rows.append(x.grad)
    return {"J": T.stack(rows)}


def jacobian_grad_outputs_autograd(T: Any, s: dict[str, Any]) -> dict[str, Any]:
    """The rows by autograd.grad with ``grad_outputs=`` a one-hot vector."""
    x = s["x"]
    y = jacobian_function(T, s["W"], s["b"])(x)
    rows = [
        T.autograd.grad(y, x, grad_outputs=onehot, retain_graph=True)[0] for onehot in s["onehots"]
    ]
    return {"J": T.stack(rows)}


def jacobian_numpy(s: dict[str, Any]) -> dict[str, Any]:
    x, W, b = s["x"], s["W"], s["b"]
    t = np.tanh(W @ x + b)
    return {"J": (1 - t * t)[:, None] * W + np.diag(np.sin(x) + x * np.cos(x))}


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Workload:
    name: str
    summary: str
    make_inputs: Callable[[np.random.Generator], dict[str, Any]]
    run_autograd: Callable[[Any, dict[str, Any]], dict[str, Any]]  # torch and autograd_lite
    run_numpy: Callable[[dict[str, Any]], dict[str, Any]]
    grad_inputs: tuple[str, ...] = ()  # inputs that become leaves with requires_grad=True
    row_lists: tuple[str, ...] = ()  # 2-D inputs passed as a list of row tensors
    max_vs_torch: float | None = None  # target: autograd_lite time / torch time
    max_vs_numpy: float | None = None  # target: autograd_lite time / numpy time
    rtol: float = 1e-7
    atol: float = 1e-10


WORKLOADS = [
    Workload(
        "scalar_chain",
        "1000-step scalar recurrence on 0-d float64, forward + backward",
        scalar_chain_inputs,
        scalar_chain_autograd,
        scalar_chain_numpy,
        grad_inputs=("w", "b", "c", "x0"),
        max_vs_torch=0.8,
    ),
    Workload(
        "mlp_step",
        "10 SGD steps, tanh MLP 512-1024-128, batch 256, float32",
        mlp_inputs,
        mlp_step_autograd,
        mlp_step_numpy,
        grad_inputs=("W1", "b1", "W2", "b2"),
        max_vs_numpy=1.15,
        rtol=2e-3,
        atol=2e-5,
    ),
    Workload(
        "elementwise_big",
        "20 elementwise ops + sum on 2 x 1e6 float64, forward + backward",
        elementwise_inputs,
        elementwise_big_autograd,
        elementwise_big_numpy,
        grad_inputs=("a", "b"),
        max_vs_numpy=1.2,
    ),
    Workload(
        "elementwise_careful",
        "the same 20 ops, against NumPy that frees its arrays and reuses forward values",
        elementwise_inputs,
        elementwise_big_autograd,
        elementwise_careful_numpy,
        grad_inputs=("a", "b"),
        max_vs_numpy=1.2,
    ),
    Workload(
        "elementwise_in_place",
        "the same 20 ops, against NumPy that also writes over its forward values",
        elementwise_inputs,
        elementwise_big_autograd,
        elementwise_in_place_numpy,
        grad_inputs=("a", "b"),
    ),
    Workload(
        "hessian_functional",
        "autograd.functional.hessian, f: R^10 -> R",
        hessian_inputs,
        hessian_functional_autograd,
        hessian_numpy,
        max_vs_torch=0.8,
    ),
    Workload(
        "hessian_loop",
        "grad(create_graph=True), then 10 x autograd.grad(g[i], x)",
        hessian_inputs,
        hessian_loop_autograd,
        hessian_numpy,
        grad_inputs=("x",),
        max_vs_torch=0.8,
    ),
    Workload(
        "hessian_loop_backward",
        "grad(create_graph=True), then 10 x g[i].backward(retain_graph=True)",
        hessian_inputs,
        hessian_loop_backward_autograd,
        hessian_numpy,
        grad_inputs=("x",),
        max_vs_torch=0.8,
    ),
    Workload(
        "hessian_rows_basis",
        "grad(create_graph=True), then 10 x autograd.grad((g * e_i).sum(), x)",
        hessian_inputs_with_rows,
        hessian_rows_basis_autograd,
        hessian_numpy,
        grad_inputs=("x",),
        row_lists=("basis", "vectors"),
        max_vs_torch=0.8,
    ),
    Workload(
        "hessian_vector_products",
        "grad(create_graph=True), then 10 x autograd.grad(dot(g, v), x)",
        hessian_inputs_with_rows,
        hessian_vector_products_autograd,
        hessian_vector_products_numpy,
        grad_inputs=("x",),
        row_lists=("basis", "vectors"),
        max_vs_torch=0.8,
    ),
    Workload(
        "jacobian_functional",
        "autograd.functional.jacobian, g: R^64 -> R^64",
        jacobian_inputs,
        jacobian_functional_autograd,
        jacobian_numpy,
        max_vs_torch=0.8,
    ),
    Workload(
        "jacobian_loop",
        "64 x y.backward(onehot, retain_graph=True)",
        jacobian_inputs,
        jacobian_loop_autograd,
        jacobian_numpy,
        grad_inputs=("x",),
        row_lists=("onehots",),
        max_vs_torch=0.8,
    ),
    Workload(
        "jacobian_grad_outputs",
        "64 x autograd.grad(y, x, grad_outputs=onehot)",
        jacobian_inputs,
        jacobian_grad_outputs_autograd,
        jacobian_numpy,
        grad_inputs=("x",),
        row_lists=("onehots",),
        max_vs_torch=0.8,
    ),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}
