"""Reverse-mode automatic differentiation: Function nodes, grad mode and the backward pass.

A `Function` is one node of the computation graph, as in the lecture: `forward(ctx, ...)`
computes on raw arrays and saves what backward needs with `ctx.save_for_backward`;
`backward(ctx, grad)` returns the gradient of the loss with respect to each input.
`Function.apply` runs forward on Tensors and, when grad mode is on, records the node:
the node *is* the ctx object (an instance of the Function subclass), so `y.grad_fn`
is a `Mul`, `y.grad_fn.parents` are the inputs, and the graph is drawn from there.

`backward(root, grad)` visits the nodes in reverse topological order (built with an
explicit stack, never recursion), calls each backward once, sums each returned gradient
back to its input's shape (un-broadcasting happens here, in one place, for every op),
and accumulates into the leaves. Its single steps are public functions, `seed_gradient`,
`call_backward` and `fit_gradient`, so that visualize.explain_backward replays the pass
through the very same rules and messages.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable

import numpy as np

from . import arguments, backend

Tensor: Any = None  # set by tensor.py: the Tensor class that Function.apply returns

# ----------------------------------------------------------------------------- grad mode

_grad_enabled = True


def is_grad_enabled() -> bool:
    """True when ops record the graph (the default); False inside no_grad()."""
    return _grad_enabled


class _GradMode:
    """Sets grad mode inside a `with` block; also works as a decorator, with or without ()."""

    enabled = True

    def __init__(self, func: Callable | None = None):
        self._func = func
        if func is not None:
            functools.update_wrapper(self, func)

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.enabled

    def __exit__(self, *exc_info) -> None:
        global _grad_enabled
        _grad_enabled = self._previous

    def __call__(self, *args, **kwargs):
        if self._func is not None:         # used as @no_grad: call the wrapped function
            with type(self)():
                return self._func(*args, **kwargs)
        func = args[0]                     # used as @no_grad(): wrap the function

        @functools.wraps(func)
        def wrapper(*a, **kw):
            with type(self)():
                return func(*a, **kw)
        return wrapper


class no_grad(_GradMode):
    """Inside `with no_grad():` (or a function decorated with it) no graph is recorded."""

    enabled = False


class enable_grad(_GradMode):
    """Turns graph recording back on inside a no_grad block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """`with set_grad_enabled(flag):` records the graph only when flag is true."""

    def __init__(self, mode: bool):
        super().__init__()
        self.enabled = bool(mode)

    def __call__(self, func):
        raise TypeError("set_grad_enabled(mode) is a context manager; use no_grad as a decorator")


# ----------------------------------------------------------------------------- Context, Function

class Context:
    """What a node remembers between forward and backward.

    Arrays needed by backward go through `save_for_backward` (they are released after the
    backward pass unless retain_graph=True); small non-array facts (an axis, a shape) can
    be stored as plain attributes.
    """

    # The fields every node has, as slots (fixed places in the object, read fast); "__dict__"
    # keeps room for the attributes a Function's forward adds (ctx.axis = ...).
    __slots__ = (
        "parents",             # the inputs of apply, Tensors and constants
        "needs_input_grad",    # per input: does it need a gradient?
        "saved_tensors",       # what save_for_backward kept; None once released by a backward pass
        "_grad_out",           # during a backward pass: dL/d(this node's output), summed so far
        "_retained",           # weakref to the output when it called retain_grad()
        "_hooks",              # the output's register_hook functions, or None
        "__dict__",
    )

    def __init__(self) -> None:
        self.parents = ()
        self.needs_input_grad = ()
        self.saved_tensors = ()
        self._grad_out = None
        self._retained = None
        self._hooks = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep the arrays that backward needs; backward reads them back as ctx.saved_tensors."""
        self.saved_tensors = arrays

    def release(self) -> None:
        """Drop the saved arrays; a second backward through this node is then an error."""
        self.saved_tensors = None


class Function(Context):
    """Base class of every graph node. Subclass it and write two static methods:

        forward(ctx, *inputs, **options) -> array     inputs are raw numpy/cupy arrays
        backward(ctx, grad) -> gradient per input       None where no gradient is needed

    Then call `YourFunction.apply(*tensors, **options)`.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check a new subclass at its definition: forward and backward must be static methods."""
        super().__init_subclass__(**kwargs)
        for name in ("forward", "backward"):
            method = cls.__dict__.get(name)
            if method is not None and not isinstance(method, staticmethod):
                raise TypeError(
                    f"{cls.__name__}.{name} must be a static method: put @staticmethod on the line above "
                    f"`def {name}(ctx, ...)`. The node itself is passed in as ctx, so {name} takes no self."
                )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # apply() makes the node with object.__new__, so only a user's call reaches this
        raise TypeError(
            f"{type(self).__name__}(...): a Function is not called as an object; "
            f"call {type(self).__name__}.apply(...) with its inputs, e.g. y = {type(self).__name__}.apply(x)"
        )

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        """Compute the output from raw arrays (NumPy or CuPy), saving what backward needs on ctx."""
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx: Context, grad: Any) -> Any:
        """Given grad = dL/dy (shaped like the output), return dL/dx for each input of forward:
        one array per input (a tuple when there are several), None where no gradient is needed.
        """
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        """Run forward on the raw arrays of the Tensor inputs; record the node if needed."""
        ctx = _new_node(cls)            # object.__new__: not cls(), Function.__init__ is the error for Cube()(x)
        ctx.saved_tensors = ()          # forward may save nothing
        arrays = []
        needs = []
        array_type = None
        for a in args:
            if isinstance(a, Tensor):
                data = a.data
                if array_type is not type(data):
                    if array_type is not None:      # a second kind of array: same device? (memmap + ndarray is)
                        arguments.same_device(cls.__name__, *[t for t in args if isinstance(t, Tensor)])
                    array_type = type(data)
                arrays.append(data)
                needs.append(a.requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        ctx.parents = args
        flags = tuple(needs)
        ctx.needs_input_grad = _flag_tuples.get(flags, flags)
        out = cls.forward(ctx, *arrays, **kwargs)
        if type(out) is not array_type:
            out = _forward_result(cls, out)     # a 0-d NumPy scalar becomes an array; a mistake, an error
        if _grad_enabled and True in flags:
            ctx._grad_out = None
            ctx._retained = None
            ctx._hooks = None
            return Tensor._from_op(out, ctx)
        return Tensor._from_op(out, None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


_new_node = object.__new__

# Every needs_input_grad of up to three inputs, (True,), (True, False), ...: nodes share these
# tuples instead of each keeping one more object for the garbage collector to track.
_flag_tuples = {flags: flags for n in (1, 2, 3) for flags in itertools.product((False, True), repeat=n)}


def _forward_result(fn: type, out: Any) -> Any:
    """Check what a forward returned that is not an array of its first input's kind."""
    if isinstance(out, (np.number, np.bool_)):
        return np.asarray(out)          # NumPy turns 0-d results into scalars: keep arrays
    if type(out) is np.ndarray or backend.is_device_array(out):
        return out                      # e.g. a NumPy array from a memmap input
    name = fn.__name__
    if isinstance(out, Tensor):
        raise TypeError(
            f"{name}.forward returned a Tensor, but forward computes on raw arrays: its inputs are "
            f"NumPy (or CuPy) arrays, and it must return an array. Compute with the arrays it was given "
            f"(e.g. `return x ** 3`), or take `.data` of a Tensor you made inside forward."
        )
    if out is None:
        raise TypeError(f"{name}.forward returned None: end it with `return` and the output array")
    if isinstance(out, (tuple, list)):
        raise TypeError(f"{name}.forward returned a {type(out).__name__}: a Function has one output; "
                        "return one array (write a Function per output)")
    array = np.asarray(out)             # a Python number
    if array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"{name}.forward returned a {type(out).__name__}, not an array of numbers; "
                        "return a NumPy array")
    return array


# ----------------------------------------------------------------------------- the backward pass

def topological_order(root: Context, *more_roots: Context) -> list:
    """Nodes reachable from `root` (and `more_roots`) through inputs that need a gradient,
    each before its inputs.

    Depth-first search with an explicit stack instead of recursion, so a chain of a million
    nodes is fine. A node is pushed twice: (node, False) asks to expand its inputs, and
    (node, True), pushed below them, appends the node once all its inputs are done.
    """
    order = []
    expanded = set()
    stack = [(node, False) for node in reversed((root,) + more_roots)]
    push, pop = stack.append, stack.pop
    while stack:
        node, inputs_done = pop()
        if inputs_done:
            order.append(node)          # post-order: every input's node is already in
            continue
        if node in expanded:
            continue
        expanded.add(node)
        push((node, True))
        for parent, need in zip(node.parents, node.needs_input_grad):
            if need:
                fn = parent.grad_fn
                if fn is not None and fn not in expanded:
                    push((fn, False))
    order.reverse()                     # the root first, the leaves' consumers last
    return order


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` down to `shape`: the backward of NumPy broadcasting.

    Leading axes that broadcasting added are summed away; axes where the input had size 1
    are summed with keepdims. Returns None when `grad` cannot come from `shape`.
    """
    extra = grad.ndim - len(shape)
    if extra < 0:
        return None
    if extra == 1 and grad.shape[1:] == shape:     # the common case: a bias added to every row
        return grad.sum(axis=0)
    axes = list(range(extra))
    for i, size in enumerate(shape):
        gsize = grad.shape[extra + i]
        if size == 1 and gsize != 1:
            axes.append(extra + i)
        elif size != gsize:
            return None
    return grad.sum(axis=tuple(axes)).reshape(shape) if axes else grad.reshape(shape)


# The three steps of the pass, each a small function: backward() below is these steps in a
# loop, and visualize/explain.py replays the same steps to print them. So every rule of the
# backward pass, and every error message it gives, is written here once.

def seed_gradient(root: Any, grad: Any = None, caller: str = "backward") -> Any:
    """Step 1, the start: dL/droot as a fresh array, shaped and typed like root.

    grad=None means dL/droot = 1, which only makes sense for a one-element root (a loss);
    otherwise `grad` is a Tensor or an array on root's device with root's shape. It is
    copied, so the pass never writes into the caller's array. `caller` names the function
    the user called ("backward", "explain_backward") at the start of each error message.
    """
    if not root.requires_grad:
        raise RuntimeError(f"{caller}: this tensor does not require grad and has no grad_fn; "
                           "create the inputs with requires_grad=True")
    data = root.data
    xp = backend.xp(data)
    if grad is None:
        if data.size != 1:
            raise RuntimeError(f"{caller}: grad can be created implicitly only for a one-element "
                               f"output, but this tensor has shape {root.shape}; pass grad, "
                               "a gradient of that shape")
        return xp.ones(data.shape, dtype=data.dtype)
    g = grad.data if isinstance(grad, Tensor) else grad
    if isinstance(g, (str, bytes, dict, set)) or g is None:
        raise TypeError(f"{caller}: grad must be a Tensor or an array, got {type(g).__name__}")
    arguments.same_device(caller, root, g)          # an array on another device is an error
    g = xp.array(g, dtype=root.dtype)       # a copy: never alias the caller's array
    if g.shape != root.shape:
        raise ValueError(f"{caller}: grad of shape {tuple(g.shape)} does not match the "
                         f"tensor's shape {root.shape}")
    return g


def call_backward(node: Context, grad: Any) -> tuple:
    """Step 2, one node: its Function.backward(ctx, dL/dy), checked, as one entry per input.

    The checks: the saved arrays are still there (not freed by an earlier backward), the
    backward returned something (not None as a whole), and one gradient per input of
    forward. A list is fine; a one-input node may return its gradient without a tuple.
    """
    if node.saved_tensors is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time (at {type(node).__name__}): "
            "the arrays saved for backward were freed by the first backward. "
            "Call .backward(retain_graph=True) the first time if you need to backward twice."
        )
    returned = node.backward(node, grad)
    if type(returned) is not tuple:
        if returned is None:
            raise RuntimeError(
                f"{type(node).__name__}.backward returned None: it must return the gradient of each input "
                f"(did you forget `return`?). Return one array per input of forward, or None for an input "
                f"that needs no gradient, e.g. `return grad * 3 * x ** 2`."
            )
        returned = tuple(returned) if isinstance(returned, list) else (returned,)
    if len(returned) != len(node.parents):
        raise RuntimeError(
            f"{type(node).__name__}.backward returned {len(returned)} gradient(s), "
            f"but forward had {len(node.parents)} input(s): return one per input (None for no gradient)"
        )
    return returned


def fit_gradient(node: Context, parent: Any, grad: Any) -> Any:
    """Step 3, one input: the gradient `node.backward` returned for `parent`, made to fit it.

    A number becomes an array; a gradient with the shape of the broadcast result is summed
    back to the input's shape (unbroadcast); one that cannot come from that shape is an
    error that names the Function; the dtype becomes the input's.
    """
    data = parent.data
    grad = backend.ensure_array(grad, like=data)        # a number or a 0-d NumPy scalar
    if grad.shape != data.shape:
        fitted = unbroadcast(grad, data.shape)
        if fitted is None:
            index = next(i for i, p in enumerate(node.parents) if p is parent)
            raise RuntimeError(
                f"{type(node).__name__}.backward returned a gradient of shape {tuple(grad.shape)} "
                f"for input {index}, which has shape {tuple(data.shape)}"
            )
        grad = fitted
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def _accumulate(tensor: Any, grad: Any) -> None:
    """tensor.grad += grad, creating .grad on first use (never modifies an array in place).

    backward() gives every leaf its own array, so `.grad` may be changed in place (zero_()).
    """
    grad = backend.ensure_array(grad)       # 0-d + 0-d gives a NumPy scalar
    current = tensor._grad                  # the slot behind the .grad property
    if current is None:
        if grad.base is not None:           # a view (e.g. broadcast_to from Sum): store a real array
            grad = grad.copy()
        tensor._grad = Tensor._from_op(grad, None)
    else:
        tensor._grad = Tensor._from_op(backend.ensure_array(current.data + grad), None)


def backward(root: Any, grad: Any = None, retain_graph: bool = False) -> None:
    """Backpropagate from `root` to every leaf: seed_gradient, then for each node in reverse
    topological order call_backward and fit_gradient per input (in _backpropagate), and
    finally add each leaf's gradient to its .grad.

    `grad` is dL/droot (None: 1, for a one-element root). Without retain_graph each node
    releases its saved arrays, so a second backward through the graph is an error.
    """
    grad = seed_gradient(root, grad)
    leaf_grads = _backpropagate([root], [grad], retain_graph)
    given = set()
    for leaf, g in leaf_grads.items():
        if id(g) in given:              # Add hands one array to both inputs: each leaf gets its own
            g = g.copy()
        given.add(id(g))
        _accumulate(leaf, g)


def _backpropagate(roots: list, seeds: list, retain_graph: bool, wanted: dict | None = None) -> dict:
    """The pass itself, shared by backward() and grad(): returns {leaf Tensor: dL/dleaf}.

    Each node's `_grad_out` holds the gradient flowing into its output, summed over its
    consumers before the node is reached (the topological order guarantees that). Hooks
    registered on a tensor see (and may replace) its gradient once it is complete. `wanted`
    maps the nodes of non-leaf tensors whose gradient grad() asked for to a list that gets
    it; when it is given, no .grad is written (retain_grad included).
    """
    leaf_grads = {}                     # leaf Tensor -> dL/dleaf, summed over its uses
    nodes = []
    for root, seed in zip(roots, seeds):
        if root.grad_fn is None:        # backward of a leaf itself: dL/dleaf is the seed
            previous = leaf_grads.get(root)
            leaf_grads[root] = seed if previous is None else previous + seed
        else:
            previous = root.grad_fn._grad_out
            root.grad_fn._grad_out = seed if previous is None else previous + seed
            nodes.append(root.grad_fn)
    order = topological_order(*nodes) if nodes else []
    try:
        for node in order:
            grad = node._grad_out
            node._grad_out = None
            if grad is None:            # every path into this node returned None: nothing flows
                if not retain_graph:
                    node.release()
                continue
            if node._hooks is not None:
                grad = run_hooks(node._hooks, grad)
            if wanted is not None:
                if node in wanted:
                    wanted[node].append(grad)
            elif node._retained is not None:
                out = node._retained()
                if out is not None:
                    _accumulate(out, grad)
            input_grads = call_backward(node, grad)
            for parent, need, g in zip(node.parents, node.needs_input_grad, input_grads):
                if not need or g is None:
                    continue
                data = parent.data
                # the call is skipped when the gradient already fits, as most do
                if getattr(g, "shape", None) != data.shape or g.dtype != data.dtype:
                    g = fit_gradient(node, parent, g)
                fn = parent.grad_fn
                if fn is None:                              # a leaf
                    previous = leaf_grads.get(parent)
                    leaf_grads[parent] = g if previous is None else previous + g
                else:
                    previous = fn._grad_out
                    fn._grad_out = g if previous is None else previous + g
            if not retain_graph:
                node.release()                              # a second backward is then an error
    except BaseException:
        for node in order:              # an error midway: leave no gradient behind on the graph
            node._grad_out = None
        raise
    for leaf, hooks in [(leaf, leaf._hooks) for leaf in leaf_grads if leaf._hooks is not None]:
        leaf_grads[leaf] = run_hooks(hooks, leaf_grads[leaf])
    return leaf_grads


# ----------------------------------------------------------------------------- hooks and grad()

class RemovableHandle:
    """What register_hook and the Module hooks return: `handle.remove()` takes the hook out
    again (as torch.utils.hooks.RemovableHandle); `with handle:` removes it at the end."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Take the hook out (a second call does nothing)."""
        if any(h is self._hook for h in self._hooks):
            self._hooks.remove(self._hook)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def register_hook(tensor: Any, hook: Callable) -> RemovableHandle:
    """Tensor.register_hook: call hook(grad) whenever the gradient of `tensor` is computed.

    The hook gets dL/dtensor as a Tensor and may return a replacement (same shape), or None
    to leave it as it is. A leaf keeps its hooks itself; a non-leaf's live on its grad_fn,
    the node whose output it is.
    """
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be a function hook(grad), got {type(hook).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad; "
                           "create it with requires_grad=True (or call requires_grad_() on a leaf)")
    owner = tensor if tensor.grad_fn is None else tensor.grad_fn
    if owner._hooks is None:
        owner._hooks = []
    owner._hooks.append(hook)
    return RemovableHandle(owner._hooks, hook)


def run_hooks(hooks: list, grad: Any) -> Any:
    """Pass `grad` through each hook in the order they were registered."""
    for hook in list(hooks):
        result = hook(Tensor._from_op(grad, None))
        if result is None:
            continue
        new = result.data if isinstance(result, Tensor) else result
        if getattr(new, "shape", None) != grad.shape or type(new) is not type(grad):
            raise RuntimeError(
                f"a hook registered with register_hook returned a {type(result).__name__} of shape "
                f"{tuple(getattr(new, 'shape', ()))} for a gradient of shape {tuple(grad.shape)}; "
                "return a Tensor of the gradient's shape on its device, or None to keep it")
        grad = new.astype(grad.dtype, copy=False)
    return grad


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs), returned as a tuple of Tensors (as torch.autograd.grad), while
    every .grad stays as it is: what a saliency map or an adversarial example needs.

    outputs: a Tensor or a sequence of them; grad_outputs: dL/doutput for each (None: 1,
    for a one-element output); inputs: the Tensors to differentiate by, leaves or not. An
    input the outputs do not depend on is an error, or None with allow_unused=True.
    retain_graph defaults to create_graph, as in PyTorch.
    """
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    if create_graph:
        raise NotImplementedError(
            "autograd.grad(create_graph=True): the backward functions of this engine work on raw "
            "arrays, so a gradient is not itself part of a graph (no second derivatives); "
            "use create_graph=False")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs, "grad_outputs", tensors_only=False)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(outputs)} output(s) but {len(grad_outputs)} grad_outputs; "
                         "give one gradient (or None) per output")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) does not require grad; "
                               "create it with requires_grad=True")
    seeds = [seed_gradient(out, g, caller="autograd.grad") for out, g in zip(outputs, grad_outputs)]
    wanted = {t.grad_fn: [] for t in inputs if t.grad_fn is not None}
    leaf_grads = _backpropagate(list(outputs), seeds, bool(retain_graph), wanted)
    result = []
    for i, t in enumerate(inputs):
        found = wanted[t.grad_fn] if t.grad_fn is not None else [leaf_grads[t]] if t in leaf_grads else []
        if not found:
            if not allow_unused:
                raise RuntimeError(f"autograd.grad: input {i} (shape {t.shape}) was not used to compute the "
                                   "outputs, so it has no gradient; pass allow_unused=True to get None for it")
            result.append(None)
        else:
            result.append(Tensor._from_op(found[0].copy(), None))
    return tuple(result)


def _as_tuple(value: Any, what: str, tensors_only: bool = True) -> tuple:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if tensors_only:
        for i, v in enumerate(values):
            if not isinstance(v, Tensor):
                raise TypeError(f"autograd.grad: {what} must be Tensors, but item {i} is a {type(v).__name__}")
    return values
