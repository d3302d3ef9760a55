"""Every operation, with its NumPy forward and its gradient rule side by side, one file per family:

================  ============================================================================
``arithmetic``    ``+ - * / % //``, ``maximum``, ``minimum``: two operands, torch's promotion
``powers``        ``**`` (tensor or number on either side), ``square``
``comparison``    ``== < > & | ~ << >>``, ``isclose``, ``isnan``, ``gcd``, ...: no gradients
``pointwise``     ``exp``, ``log``, ``sin``, ``tanh``, ``sigmoid``, ``relu``, rounding, ``clamp``,
                  ``where``
``trigonometric`` ``asin``, ``acos``, ``atan``, ``sinh``, ``cosh``, ``asinh``, ``atan2``, ``hypot``,
                  ``deg2rad``, ``sinc``
``exp_log``       ``exp2``, ``log2``, ``log10``, ``rsqrt``, ``logit``, ``logaddexp``, ``xlogy``,
                  ``ldexp``, ``float_power``
``special``       ``erf``, ``erfc``, ``erfinv``, ``lgamma``, ``digamma``, ``polygamma``,
                  ``mvlgamma``, ``i0``, ``igamma``, ``igammac`` (NumPy only, no SciPy)
``floating``      ``frac``, ``sgn``, ``signbit``, ``copysign``, ``nextafter``, ``nan_to_num``,
                  ``fmax``, ``fmin``, ``heaviside``, ``frexp``, ``angle``, ``isposinf``, ...
``ternary``       ``lerp``, ``addcmul``, ``addcdiv``
``differences``   ``gradient`` (torch.gradient: derivatives of samples, by finite differences)
``reductions``    ``sum``, ``mean``, ``var``, ``std``, ``max``, ``min``, ``amax``, ``argmax``,
                  ``all``, ``any``, ``softmax``
``statistics``    ``var_mean``, ``std_mean``, ``aminmax``, ``logsumexp``, ``nansum``, ``nanmean``
``cumulative``    ``prod``, ``cumsum``, ``cumprod``, ``diff``
``sorting``       ``sort``, ``argsort``, ``msort``, ``topk``, ``cummax``, ``cummin``
``views``         ``reshape``, ``view``, ``transpose``, ``permute``, ``squeeze``, ``unsqueeze``,
                  ``expand``, ``flip``, ``clone``, casts
``shape``         ``movedim``, ``repeat``, ``tile``, ``repeat_interleave``, ``roll``, ``rot90``,
                  ``unflatten``, ``tril``/``triu``, in-place ``unsqueeze_``, ``squeeze_``, ...
``indexing``      ``x[key]``, ``select``, ``narrow``, ``x[key] = value``
``joining``       ``cat``, ``stack``, ``unbind``
``splitting``     ``split``, ``chunk``, ``tensor_split``, ``hsplit``, ``vsplit``, ``dsplit``
``gathering``     ``gather``, ``take_along_dim``, ``index_select``, ``masked_fill``
``sampling``      ``random_``, ``uniform_``, ``normal_``, ``bernoulli``, ``multinomial``, ...
``matmul``        ``mm``, ``mv``, ``dot``, ``outer``, ``matmul`` (``@``)
``inplace``       ``add_`` and the other in-place variants, ``zero_``, ``fill_``, ``copy_``
``variants``      every pointwise function's forms: ``x.f()``, ``x.f_()``, ``torch.f_(x)``, ``out=``
``out``           the ``out=`` keyword, once for every function that takes it
``diagonal``      ``diagonal``, ``diag``, ``trace``
``linalg``        ``linalg.solve``, ``linalg.inv``, ``linalg.det``
``svd``           ``linalg.svd``, ``linalg.svdvals``
``norms``         ``norm``, ``linalg.norm``, ``linalg.vector_norm``, ``linalg.matrix_norm``
``_base``         what they all share: the ``Op`` class, recording a node, argument errors
``_elementwise``  what the functions of two operands share: argument checks, dtype rules
================  ============================================================================

An operation is a :class:`Node` subclass named like torch's backward node (``MulBackward0``):

* ``compute`` (NumPy in, NumPy out) is the forward;
* ``gradient(self, grad)`` returns one gradient per input, written with the library's own tensor
  operations, so the same rule also builds a graph when ``create_graph=True`` (that is all there is
  to higher-order derivatives).

The engine (``_engine.py``) takes care of what is common to all rules: summing a gradient back
over broadcast dimensions and casting it to its input's dtype.

This file imports the families and binds their functions to ``Tensor`` as methods and operators.
"""

from __future__ import annotations

from .._tensor import Tensor
from ._base import _as_tensor, numpy_names
from .arithmetic import (
    _APPLY,
    Add,
    Mul,
    Sub,
    _rfloordiv,
    _rremainder,
    add,
    div,
    divide,
    floor_divide,
    fmod,
    maximum,
    minimum,
    mul,
    multiply,
    rdiv,
    remainder,
    rsub,
    sub,
    subtract,
    true_divide,
)
from .comparison import (
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    eq,
    equal,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from .cumulative import cumprod, cumsum, diff, prod
from .diagonal import diag, diagonal, trace
from .gathering import gather, index_select, masked_fill, masked_fill_, take_along_dim
from .indexing import index, narrow, select, setitem
from .inplace import _inplace, clamp_, copy_, fill_, t_, zero_
from .joining import cat, concat, concatenate, stack, unbind
from .linalg import LinAlgError, det, inverse, linalg_det, linalg_inv, linalg_solve
from .matmul import bmm, dot, ger, inner, matmul, mm, mv, outer
from .norms import linalg_matrix_norm, linalg_norm, linalg_vector_norm, norm
from .pointwise import (
    abs,
    absolute,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    exp,
    expm1,
    fix,
    floor,
    log,
    log1p,
    neg,
    negative,
    reciprocal,
    relu,
    round,
    sigmoid,
    sign,
    sin,
    sqrt,
    tan,
    tanh,
    trunc,
    where,
)
from .powers import _rpow, pow, square
from .reductions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    log_softmax,
    max,
    mean,
    min,
    softmax,
    std,
    sum,
    sum_to_size,
    var,
)
from .sampling import (
    bernoulli,
    bernoulli_,
    cauchy_,
    exponential_,
    geometric_,
    log_normal_,
    multinomial,
    normal_,
    random_,
    uniform_,
)
from .shape import (
    fliplr,
    flipud,
    moveaxis,
    movedim,
    repeat,
    repeat_interleave,
    resize_,
    resize_as_,
    roll,
    rot90,
    squeeze_,
    swapaxes_,
    swapdims_,
    tile,
    transpose_,
    tril,
    tril_,
    triu,
    triu_,
    unflatten,
    unsqueeze_,
)
from .sorting import argsort, cummax, cummin, msort, sort, topk
from .splitting import chunk, dsplit, hsplit, split, split_with_sizes, tensor_split, vsplit
from .statistics import aminmax, logsumexp, nanmean, nansum, std_mean, var_mean
from .svd import linalg_svd, linalg_svdvals
from .views import (
    broadcast_shapes,
    broadcast_to,
    clone,
    contiguous,
    expand,
    expand_as,
    flatten,
    flip,
    mT,
    numpy_T,
    permute,
    ravel,
    reshape,
    reshape_as,
    squeeze,
    swapaxes,
    swapdims,
    t,
    transpose,
    unsqueeze,
    view,
    view_as,
)

# ============================================================================================
# Tensor methods: the families' functions, bound to the class
# ============================================================================================

# Every function with a dim= or keepdim= also takes NumPy's axis= and keepdims=, as in torch;
# but not norm, which torch writes in Python (torch.functional.norm), outside its parser.
for _name, _fn in list(globals().items()):
    if (
        not _name.startswith("_")
        and callable(_fn)
        and not isinstance(_fn, type)
        and _name != "norm"
    ):
        globals()[_name] = numpy_names(_fn)

_METHODS = {
    name: globals()[name]
    for name in """
    add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow square
    maximum minimum neg negative abs absolute sign exp log sqrt sin cos tan tanh sigmoid relu
    reciprocal log1p expm1 clamp clip clamp_min clamp_max eq ne lt le gt ge logical_and
    logical_or logical_xor logical_not bitwise_not sum mean var std max min amax amin argmax argmin
    norm cumsum prod cumprod round floor ceil trunc fix softmax log_softmax all any equal
    allclose isclose isnan isinf isfinite count_nonzero reshape view view_as reshape_as flatten ravel transpose swapaxes swapdims t
    permute squeeze unsqueeze expand expand_as broadcast_to sum_to_size flip clone contiguous
    select narrow unbind matmul mm mv dot inner outer ger bmm zero_ fill_ copy_ t_ transpose_
    clamp_ diag diagonal trace det inverse
    """.split()
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

for _name in """add sub mul div pow neg abs exp log sqrt sin cos tan tanh sigmoid relu reciprocal
                sign square round floor ceil trunc""".split():
    setattr(Tensor, _name + "_", _inplace(globals()[_name]))
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.clip_ = Tensor.clamp_
Tensor.T = property(numpy_T)
# x.where(condition, y) is torch.where(condition, x, y): the tensor is the first value.
Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.mT = property(mT)
Tensor.__getitem__ = index
Tensor.__setitem__ = setitem

# Shapes, splitting, gathering, sorting, more reductions and random fills (issue 14's breadth).
for _name in """
    movedim moveaxis unsqueeze_ squeeze_ swapaxes_ swapdims_ resize_ resize_as_ repeat
    repeat_interleave tile roll rot90 fliplr flipud unflatten tril triu tril_ triu_ chunk split
    split_with_sizes
    tensor_split hsplit vsplit dsplit gather index_select take_along_dim masked_fill masked_fill_
    diff aminmax logsumexp nansum nanmean sort argsort msort topk cummax cummin random_ uniform_
    normal_ bernoulli bernoulli_ exponential_ geometric_ cauchy_ log_normal_ multinomial
    """.split():
    setattr(Tensor, _name, globals()[_name])

# Operators.  ``a op= b`` is in place, as in torch (so it bumps the version counter).
Tensor.__add__ = Tensor.__radd__ = _APPLY[Add]
Tensor.__sub__ = _APPLY[Sub]
Tensor.__rsub__ = rsub
Tensor.__mul__ = Tensor.__rmul__ = _APPLY[Mul]
Tensor.__truediv__ = div
Tensor.__rtruediv__ = rdiv
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _rfloordiv
Tensor.__mod__ = remainder
Tensor.__rmod__ = _rremainder
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda a, b: _rpow(a, b)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda a, b: matmul(_as_tensor(b), a)
Tensor.__neg__ = neg
Tensor.__pos__ = lambda a: a
Tensor.__abs__ = abs
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__invert__ = bitwise_not
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_

# The rest of torch's pointwise functions (asin, erf, lerp, gcd, ...), every in-place form
# (x.asin_(), torch.asin_(x)) and the out= keyword: variants.py binds them all.
from .variants import bind as _bind_variants  # noqa: E402

_bind_variants(globals())
