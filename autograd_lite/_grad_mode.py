"""Grad mode, the one flag every operation reads (``_GradMode.enabled``), and the context
managers and decorators that set it: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``.  As decorators they also hold across a generator's or coroutine's steps."""

from __future__ import annotations

import functools
import inspect
import warnings

# --------------------------------------------------------------------------------------------
# Grad mode: the one flag every operation reads.
# --------------------------------------------------------------------------------------------


class _GradMode:
    enabled = True
    inference = False  # inside inference_mode (views made there are named so in errors)


grad_mode = _GradMode  # ops read ``grad_mode.enabled``


class AnomalyMode:
    """``autograd.set_detect_anomaly``: check every node's gradients for NaN during backward."""

    enabled = False
    check_nan = True


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    mode = True

    def __new__(cls, func=None):
        if func is not None and callable(func):  # the bare decorator torch 2 accepts: @no_grad
            return cls()(func)
        return super().__new__(cls)

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc):
        _GradMode.enabled = self._previous
        return False

    def __call__(self, func):
        if isinstance(func, type):
            warnings.warn(
                "Decorating classes is deprecated and will be disabled in future versions. You "
                "should only decorate functions or methods. To preserve the current behavior of "
                "class decoration, you can directly decorate the `__init__` method and nothing "
                "else.",
                FutureWarning,
                stacklevel=2,
            )
            cls = func
            func = lambda *args, **kwargs: cls(*args, **kwargs)  # noqa: E731
        if inspect.isgeneratorfunction(func):
            return _generator_under(self.clone, func)

        @functools.wraps(func)
        def wrapper(*a, **k):
            with self.clone():  # a fresh context per call: calls may nest or recurse
                return func(*a, **k)

        return wrapper

    def clone(self):
        return self.__class__()


def _generator_under(new_context, func):
    """``func``, a generator function, with its body under the mode of ``new_context()``.

    A generator's body runs bit by bit, each time the caller asks for the next value (``next``,
    ``send``, ``throw``, ``close``), and the caller runs in between.  So the mode is set around
    each of these steps and the caller's mode restored at each ``yield``, not once at the call.
    """

    @functools.wraps(func)
    def generator(*args, **kwargs):
        inner = func(*args, **kwargs)
        step = functools.partial(inner.send, None)  # the first step starts the body
        while True:
            try:
                with new_context():
                    value = step()
            except StopIteration as done:
                return done.value
            try:
                sent = yield value
            except GeneratorExit:  # close(): the body's `finally` blocks run under the mode too
                with new_context():
                    inner.close()
                raise
            except BaseException as error:  # throw(): passed on into the body
                step = functools.partial(inner.throw, error)
            else:
                step = functools.partial(inner.send, sent)

    return generator


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Operations inside record no graph: for evaluation and for updating parameters."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Here the same as no_grad (torch additionally marks the results as inference tensors)."""

    def __new__(cls, mode=True):
        return super().__new__(cls, mode if callable(mode) else None)

    def __init__(self, mode=True):
        self.mode = not mode

    def __enter__(self):
        super().__enter__()
        self._was_inference = _GradMode.inference
        _GradMode.inference = not self.mode

    def __exit__(self, *exc):
        _GradMode.inference = self._was_inference
        return super().__exit__(*exc)

    def clone(self):
        return inference_mode(not self.mode)


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """``set_grad_enabled(False)`` switches at once; as a context manager it restores on exit."""

    def __new__(cls, mode: bool):
        return object.__new__(cls)

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self):
        _GradMode.enabled = self.mode

    def __call__(self, func):
        # As a decorator, ``@set_grad_enabled(False)`` must not switch grad mode off at
        # definition time (torch undoes what __init__ did); each call of ``func`` switches.
        _GradMode.enabled = self._previous
        return super().__call__(func)

    def clone(self):
        return set_grad_enabled(self.mode)
