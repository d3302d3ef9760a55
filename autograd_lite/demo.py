"""A five-minute tour of autograd_lite: ``python -m autograd_lite.demo [OUTDIR]``.

It runs the classic examples of the course (the tutorials' own code, with ``torch`` bound to
autograd_lite), prints what torch would print, and draws the computation graph of the chain-rule
example into OUTDIR (default ``build/demo``) as SVG, or as text when Graphviz is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import autograd_lite as torch


def section(title: str) -> None:
    print(f"\n== {title}")


def tensors_and_dtypes() -> None:
    section("tensors, dtypes and torch's promotion rules")
    x = torch.tensor(7)
    print("x =", x, "  x**2 + 1 =", x**2 + 1)
    print("dtypes:", torch.tensor(1).dtype, torch.tensor(1.0).dtype)
    print("int64 tensor * 2.5 ->", (torch.tensor([1, 2]) * 2.5).dtype, "(NumPy would say float64)")
    print("linspace:", torch.linspace(0, 1, 5))


def chain_rule(outdir: Path) -> None:
    section("derivatives: y = (x + 5w)^2 at x=2, w=3")
    x = torch.tensor(2.0, requires_grad=True)
    w = torch.tensor(3.0, requires_grad=True)
    y = (x + 5 * w) ** 2
    print("y =", y)
    y.backward()
    print("dy/dx =", x.grad, "(2(x+5w) = 34)   dy/dw =", w.grad, "(10(x+5w) = 170)")
    draw(y, {"x": x, "w": w}, outdir / "chain_rule")


def higher_order() -> None:
    section("second derivatives with create_graph=True")
    x = torch.tensor(2.0, requires_grad=True)
    w = torch.tensor(3.0, requires_grad=True)
    y = (x + 5 * w) ** 2
    fx, fw = torch.autograd.grad(y, (x, w), create_graph=True)
    fxx, fxw = torch.autograd.grad(fx, (x, w), retain_graph=True)
    fwx, fww = torch.autograd.grad(fw, (x, w))
    print(f"f_xx={fxx.item()}  f_xw={fxw.item()}  f_wx={fwx.item()}  f_ww={fww.item()}")


def vector_jacobian() -> None:
    section("vector-Jacobian products: y = x * 2**k, y.backward(v)")
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(torch.tensor([0.1, 1.0, 0.0001]))
    print("x.grad =", x.grad)
    jac = torch.autograd.functional.jacobian(lambda t: t**2, torch.tensor([1.0, 2.0, -2.0]))
    print("Jacobian of x**2 at [1, 2, -2]:\n", jac)


def errors_that_teach() -> None:
    section("errors keep torch's first line and add a hint")
    try:
        (torch.ones(3, requires_grad=True) * 2).backward()
    except RuntimeError as error:
        print(f"RuntimeError: {error}")


def draw(output, params, stem: Path) -> None:
    from autograd_lite import viz

    stem.parent.mkdir(parents=True, exist_ok=True)
    written = viz.save(viz.make_dot(output, params=params), stem)
    print(f"graph of y: {written}")


def main(argv: list[str]) -> int:
    outdir = Path(argv[0]) if argv else Path("build/demo")
    tensors_and_dtypes()
    chain_rule(outdir)
    higher_order()
    vector_jacobian()
    errors_that_teach()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
