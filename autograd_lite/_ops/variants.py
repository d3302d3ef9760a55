"""The forms torch gives a pointwise function, bound once for all of them:

* ``torch.asin(x)``, the function (in its family file: ``trigonometric.py``, ``exp_log.py``,
  ``special.py``, ``floating.py``, ``ternary.py``, ``comparison.py``, ...);
* ``x.asin()``, the method: the same function, bound to ``Tensor``;
* ``x.asin_()``, in place: computed out of place, then written into ``x`` (``_inplace`` in
  ``inplace.py``: torch's errors for a leaf that requires grad and for a result that ``x``'s
  dtype cannot hold, ``x.long().sin_()``);
* ``torch.asin_(x)``, where torch has it: the in-place method, called as a function;
* ``torch.asin(x, out=y)``: ``with_out`` in ``out.py``.

The lists below are torch's (which names have which form); ``bind`` runs once, at the end of
``_ops/__init__.py``.
"""

from __future__ import annotations

from .. import _creation, _dtype
from .._tensor import Tensor
from . import comparison, differences, exp_log, floating, special, ternary, trigonometric
from ._base import _not_tensor
from .inplace import _inplace
from .out import with_out, with_out_creation
from .pointwise import _unary

# Functions added by the breadth of issue 14, by family file.
_FAMILIES = {
    trigonometric: """asin acos atan arcsin arccos arctan sinh cosh asinh acosh atanh arcsinh
        arccosh arctanh atan2 arctan2 hypot deg2rad rad2deg sinc""",
    exp_log: "exp2 log2 log10 rsqrt logit logaddexp logaddexp2 ldexp xlogy float_power",
    special: "erf erfc erfinv lgamma digamma polygamma mvlgamma i0 igamma igammac",
    floating: """frac sgn signbit positive isposinf isneginf isreal nan_to_num copysign
        nextafter fmax fmin heaviside angle conj_physical real imag frexp""",
    ternary: "lerp addcmul addcdiv",
    differences: "gradient",
    comparison: """gcd lcm bitwise_left_shift bitwise_right_shift bitwise_and bitwise_or
        bitwise_xor bitwise_not""",
}

# In-place methods torch has and the library did not (the older ones, sin_ and co., are bound
# in __init__.py).
_INPLACE_METHODS = """
    acos asin atan arccos arcsin arctan asinh acosh atanh arcsinh arccosh arctanh atan2 arctan2
    hypot sinh cosh deg2rad rad2deg sinc exp2 log2 log10 rsqrt logit ldexp xlogy erf erfc
    erfinv lgamma digamma polygamma mvlgamma i0 frac sgn nan_to_num copysign nextafter
    heaviside lerp addcmul addcdiv igamma igammac gcd lcm bitwise_left_shift
    bitwise_right_shift bitwise_and bitwise_or bitwise_xor bitwise_not absolute true_divide
    floor_divide remainder fmod negative log1p expm1 clamp_min clamp_max fix logical_and
    logical_or logical_xor logical_not eq ne lt le gt ge
""".split()

# In-place functions of the torch module: torch.sin_(x) is x.sin_().
_TORCH_INPLACE = """
    acos asin atan arccos arcsin arctan asinh acosh atanh arcsinh arccosh arctanh sinh cosh
    deg2rad rad2deg sinc exp2 log2 log10 rsqrt logit ldexp xlogy erf erfc i0 frac nan_to_num
    gcd lcm abs square neg negative exp log sqrt sin cos tan tanh sigmoid relu reciprocal log1p
    expm1 clamp clip clamp_min clamp_max round floor ceil trunc fix conj_physical zero fill
""".split()

# Functions whose torch form takes out= (checked against torch's argument parser), in any
# family file.
_OUT = """
    abs absolute acos acosh add addcdiv addcmul all amax amin aminmax angle any arccos arccosh
    arcsin arcsinh arctan arctan2 arctanh argmax argmin asin asinh atan atan2 atanh bitwise_and
    bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor bmm cat ceil
    clamp clamp_max clamp_min clip concat concatenate conj_physical copysign cos cosh cummax
    cummin cumprod cumsum deg2rad diag diff digamma div divide dot eq erf erfc erfinv exp exp2
    expm1 fix float_power floor floor_divide fmax fmin fmod frac frexp gather gcd ge ger gt
    heaviside hypot i0 igamma igammac index_select inner inverse isneginf isposinf lcm ldexp le
    lerp lgamma log log10 log1p log2 log_softmax logaddexp logaddexp2 logical_and logical_not
    logical_or logical_xor logit logsumexp lt matmul max maximum mean min minimum mm msort mul
    multiply mv mvlgamma nan_to_num nanmean nansum ne neg negative nextafter norm outer
    polygamma pow prod rad2deg reciprocal remainder round rsqrt sgn sigmoid sign signbit sin
    sinc sinh softmax sort sqrt square stack std sub subtract sum take_along_dim tan tanh topk
    tril triu true_divide trunc var where xlogy
""".split()

# In-place forms of two-operand functions: torch checks that self's dtype can hold the result
# before the kernel looks at dtypes (x_long.gcd_(x_float) is a cast error, not "gcd_cpu"), ...
_BINARY_INPLACE = set(
    """gcd lcm bitwise_left_shift bitwise_right_shift bitwise_and bitwise_or bitwise_xor
    remainder fmod floor_divide heaviside copysign nextafter""".split()
)
# ... and, for these, the result is a float whatever the operands.
_FLOAT_BINARY_INPLACE = set("atan2 arctan2 hypot xlogy true_divide".split())

# Functions that make a new tensor and take out= too (written in out's dtype).
_CREATION_OUT = (
    "zeros ones empty full arange linspace logspace eye rand randn randint randperm".split()
)

# What autograd_lite/__init__.py adds to the torch-like namespace.
PUBLIC: dict = {}


def _polygamma_method(self, n):
    """``x.polygamma(n)`` is ``torch.polygamma(n, x)``: the order comes first in the function."""
    return special.polygamma(n, self)


def _float_power_(self, exponent):
    """torch computes float_power in double, so only a double tensor can take it in place."""
    if self.dtype.np.name != "float64":
        raise RuntimeError(
            f"the base given to float_power_ has dtype {self.dtype.scalar_name} but the "
            "operation's result requires dtype Double"
        )
    return _inplace(exp_log.float_power)(self, exponent)


def _checking_result_type(method, floating: bool):
    """``method`` (an in-place binary form), refusing first a result self cannot hold."""

    def checked(self, other, *args, **kwargs):
        if isinstance(other, (Tensor, int, float, bool)):
            result = _dtype.result_type(self, other)
            if floating:
                result = _dtype.to_float(result)
            if not _dtype.can_cast(result, self.dtype):
                raise RuntimeError(
                    f"result type {result.scalar_name} can't be cast to the desired output "
                    f"type {self.dtype.scalar_name}"
                )
        return method(self, other, *args, **kwargs)

    checked.__name__ = method.__name__
    return checked


def _ldexp_(self, other):
    """torch's ldexp_ multiplies self in place by 2 ** other, a float."""
    if self.dtype.category != _dtype.FLOATING:
        raise RuntimeError(
            f"ldexp can't be cast to the desired output type {self.dtype.scalar_name}"
        )
    return _inplace(exp_log.ldexp)(self, other)


def _unary_of(node, name: str):
    def compute(input):
        return _unary(node, input)

    compute.__name__ = name
    return compute


def _renamed(inplace, node_name: str):
    """An in-place method whose node torch names differently from the function's."""

    def method(self, *args, **kwargs):
        out = inplace(self, *args, **kwargs)
        node = out._grad_fn
        if node is not None and node._name[:-1] == node_name[:-1]:
            node._rename(node_name)
        return out

    method.__name__ = inplace.__name__
    return method


def _rshift(tensor, number):
    return comparison.bitwise_right_shift(number, tensor)


def _lshift(tensor, number):
    return comparison.bitwise_left_shift(number, tensor)


def _torch_inplace(name: str):
    method = getattr(Tensor, name + "_")

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise _not_tensor(name + "_", input)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name + "_"
    return function


def bind(namespace: dict) -> None:
    """Add the new functions to ``namespace`` (``_ops``'s globals), bind their methods and
    in-place forms to Tensor, and give out= to the functions that take it."""
    for module, names in _FAMILIES.items():
        for name in names.split():
            namespace[name] = getattr(module, name)
            PUBLIC[name] = namespace[name]
            if name != "gradient":  # (torch.gradient has no method)
                setattr(Tensor, name, namespace[name])
    Tensor.polygamma = _polygamma_method
    Tensor.real = property(floating.real)  # (attributes in torch, not methods)
    Tensor.imag = property(floating.imag)
    Tensor.positive = floating.positive
    Tensor.__pos__ = floating.positive
    Tensor.__lshift__ = comparison.bitwise_left_shift
    Tensor.__rshift__ = comparison.bitwise_right_shift
    Tensor.__rlshift__ = _lshift
    Tensor.__rrshift__ = _rshift

    methods = {name: getattr(Tensor, name) for name in _INPLACE_METHODS}
    for name, method in methods.items():
        setattr(Tensor, name + "_", _inplace(method))
    for name in _BINARY_INPLACE | _FLOAT_BINARY_INPLACE:
        inplace = getattr(Tensor, name + "_")
        setattr(Tensor, name + "_", _checking_result_type(inplace, name in _FLOAT_BINARY_INPLACE))
    for name in "eq ne lt le gt ge".split():
        setattr(Tensor, name + "_", comparison.compare_inplace(name))
    for name, node in trigonometric.INPLACE_NODES.items():
        inplace = _inplace(_unary_of(node, name))
        setattr(Tensor, name + "_", inplace)
        setattr(Tensor, "arc" + name[1:] + "_", inplace)
    Tensor.polygamma_ = _renamed(Tensor.polygamma_, "PolygammaBackward1")
    Tensor.float_power_ = _float_power_
    Tensor.conj_physical_ = floating.conj_physical_
    Tensor.ldexp_ = _ldexp_
    Tensor.__ilshift__ = Tensor.bitwise_left_shift_
    Tensor.__irshift__ = Tensor.bitwise_right_shift_

    for name in _TORCH_INPLACE:
        namespace[name + "_"] = PUBLIC[name + "_"] = _torch_inplace(name)

    for name in _OUT:
        if name not in namespace:  # (a family another file owns, not there yet)
            continue
        namespace[name] = with_out(namespace[name], name)
        if name in PUBLIC:
            PUBLIC[name] = namespace[name]
    for name in _CREATION_OUT:  # (they live in _creation.py; the torch namespace takes these)
        PUBLIC[name] = with_out_creation(getattr(_creation, name), name)
