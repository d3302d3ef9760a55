"""autograd_lite: tensors and automatic differentiation the way PyTorch does them, in NumPy.

``import autograd_lite as torch`` runs the tensor and autograd code of a beginner course with
torch's results: the same values, dtypes, printing, ``grad_fn`` names, errors and higher-order
derivatives.  The whole engine is ``_engine.py``; every operation, with its forward and its
gradient rule side by side, is in ``_ops/``, one file per family (``_ops/__init__.py`` lists
them).
"""

from __future__ import annotations

import math as _math

from . import _dtype as _dtype_module
from . import (
    _ops,  # noqa: F401 - binds the operations to Tensor
    autograd,
    cuda,
    linalg,
    random,
    special,
)
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    seed,
    tensor,
    zeros,
    zeros_like,
)
from ._dtype import (
    bool_ as bool,  # noqa: A004 - torch.bool
)
from ._dtype import (
    can_cast,
    dtype,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from ._engine import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from ._errors import is_warn_always_enabled, set_warn_always
from ._legacy import LEGACY_TYPES
from ._ops import (
    abs,
    absolute,
    add,
    all,
    allclose,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    argsort,
    bernoulli,
    bmm,
    broadcast_shapes,
    broadcast_to,
    cat,
    ceil,
    chunk,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    clone,
    concat,
    concatenate,
    cos,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    det,
    diag,
    diagonal,
    diff,
    div,
    divide,
    dot,
    dsplit,
    eq,
    equal,
    exp,
    expm1,
    fix,
    flatten,
    flip,
    fliplr,
    flipud,
    floor,
    floor_divide,
    fmod,
    gather,
    ge,
    ger,
    gt,
    hsplit,
    index_select,
    inner,
    inverse,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log_softmax,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsumexp,
    lt,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    moveaxis,
    movedim,
    msort,
    mul,
    multinomial,
    multiply,
    mv,
    nanmean,
    nansum,
    narrow,
    ne,
    neg,
    negative,
    norm,
    outer,
    permute,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    round,
    rsub,
    select,
    sigmoid,
    sign,
    sin,
    softmax,
    sort,
    split,
    split_with_sizes,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    std_mean,
    sub,
    subtract,
    sum,
    swapaxes,
    swapdims,
    t,
    take_along_dim,
    tan,
    tanh,
    tensor_split,
    tile,
    topk,
    trace,
    transpose,
    tril,
    triu,
    true_divide,
    trunc,
    unbind,
    unflatten,
    unsqueeze,
    var,
    var_mean,
    vsplit,
    where,
)
from ._ops.sampling import randint_like
from ._ops.variants import PUBLIC as _POINTWISE_BREADTH  # asin, erf, torch.sin_, ... (issue 14)
from ._printing import get_printoptions, printoptions, set_printoptions
from ._tensor import Size, Tensor, device
from .random import Generator, default_generator, get_rng_state, initial_seed, set_rng_state

globals().update(_POINTWISE_BREADTH)

pi = _math.pi
e = _math.e
inf = _math.inf
nan = _math.nan

float = float32  # noqa: A001 - torch.float
double = float64
half = float16
long = int64
int = int32  # noqa: A001 - torch.int
short = int16

FloatTensor = LEGACY_TYPES["FloatTensor"]
DoubleTensor = LEGACY_TYPES["DoubleTensor"]
HalfTensor = LEGACY_TYPES["HalfTensor"]
LongTensor = LEGACY_TYPES["LongTensor"]
IntTensor = LEGACY_TYPES["IntTensor"]
ShortTensor = LEGACY_TYPES["ShortTensor"]
CharTensor = LEGACY_TYPES["CharTensor"]
ByteTensor = LEGACY_TYPES["ByteTensor"]
BoolTensor = LEGACY_TYPES["BoolTensor"]

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    if not isinstance(input, Tensor):
        raise _ops._base._not_tensor("numel", input)
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    if not isinstance(input, Tensor):
        raise _ops._base._not_tensor("is_floating_point", input)
    return input.is_floating_point()


def __getattr__(name):
    # The graph drawer loads on first use, so `import autograd_lite` stays fast.
    if name == "viz":
        import importlib

        return importlib.import_module(f"{__name__}.viz")
    if name in _dtype_module.UNSUPPORTED or name in _dtype_module.UNSUPPORTED_ALIASES:
        # torch.bfloat16, torch.cfloat, ...: say which dtypes there are (the error's hint line)
        dtype_name = _dtype_module.UNSUPPORTED_ALIASES.get(name, name)
        hint_line = str(_dtype_module.unsupported(dtype_name)).split("\n", 1)[1]
        raise AttributeError(f"module 'autograd_lite' has no attribute '{name}'\n{hint_line}")
    raise AttributeError(f"module 'autograd_lite' has no attribute '{name}'")
