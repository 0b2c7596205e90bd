"""Optimizer: the base class of every update rule (SGD, Adagrad, RMSprop, Adam, AdamW).

An optimizer holds the parameters it updates, grouped into *parameter groups*: each group
is a dict with the key "params" (a list of Tensors) and one entry per option ("lr",
"momentum", ...), so that different parts of a model can train with different options.
Options not given for a group come from the optimizer's `defaults`.

    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in data:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()        # .grad = None for every parameter
        loss.backward()              # fills .grad
        optimizer.step()             # w <- w - lr * (update built from w.grad)

`step()` works on the raw arrays: `p.data` is updated in place (it stays the same array
object, so everything that shares it sees the new values), and `p.grad.data` is only read,
never written (one gradient array may be shared by two tensors). Per-parameter memory such
as a momentum buffer lives in `optimizer.state[p]`, as arrays on the parameter's device.

`state_dict()` / `load_state_dict()` save and restore that memory in PyTorch's layout:

    {"state": {0: {"momentum_buffer": Tensor}, 1: {...}, ...},
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]}, ...]}

where parameters are numbered in the order the groups list them.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from .. import arguments, backend
from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: keeps the parameter groups and the per-parameter state; subclasses give
    the update rule in `_update` (and its memory in `_init_state`)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self._check_options(self.defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        for group in self._split_into_groups(params):
            self.add_param_group(group)

    # ------------------------------------------------------------------ building the groups

    def _split_into_groups(self, params: Any) -> list[dict]:
        """Accept an iterable of Tensors (one group) or of dicts (one group each)."""
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (parameter "
                            f"groups), got a single Tensor; wrap it in a list: {name}([w], ...)")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection (a list or "
                            "model.parameters()), not a set: the order of a set changes between runs")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts, got a dict; "
                            "pass model.parameters(), or [dict(params=...)] for one parameter group")
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (parameter "
                            f"groups), got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: optimizer got an empty parameter list; pass model.parameters() "
                             "of a model that has parameters")
        if all(isinstance(p, dict) for p in params):
            return params
        if any(isinstance(p, dict) for p in params):
            raise TypeError(f"{name}: params mixes Tensors and dicts; give either Tensors (one group) "
                            "or only dicts (one parameter group each)")
        return [{"params": params}]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones come from `defaults`).

        Useful for fine-tuning: `optimizer.add_param_group({"params": head.parameters(), "lr": 0.1})`.
        Everything is checked before the group is added.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys "
                             f"{sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: the params of a group must be an ordered collection, not a set")
        else:
            try:
                params = list(params)
            except TypeError:
                raise TypeError(f"{name}: the params of a group must be Tensors, got "
                                f"{type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        for p in params:
            self._check_parameter(p)
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same parameter twice; it would be "
                             "updated twice per step")
        already = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in already for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")

        group = {"params": params}
        group.update((k, v) for k, v in param_group.items() if k != "params")
        self._fill_defaults(group)
        self._check_options(group)
        self.param_groups.append(group)

    def _check_parameter(self, p: Any) -> None:
        name = type(self).__name__
        if not isinstance(p, Tensor):
            hint = ("; pass model.parameters(), not model.named_parameters()"
                    if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Tensor) else "")
            raise TypeError(f"{name}: optimizer can only optimize Tensors, but one of the params is "
                            f"{type(p).__name__}{hint}")
        if not p.is_leaf:
            raise ValueError(f"{name}: can't optimize a non-leaf Tensor (it was computed by "
                             f"{type(p.grad_fn).__name__}); optimize the leaf it was computed from, "
                             "or use .detach().requires_grad_()")
        # A frozen parameter (requires_grad=False) is accepted, as in PyTorch: it never gets a
        # .grad, and step() skips parameters without one.

    def _fill_defaults(self, group: dict[str, Any]) -> None:
        """Give `group` every option it does not set itself (AdamW also pins its own flag)."""
        for key, value in self.defaults.items():
            group.setdefault(key, value)

    # ------------------------------------------------------------------ checking options

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError/TypeError for an option outside its range (subclasses list theirs)."""

    def _check_at_least(self, options: dict[str, Any], key: str, low: float, what: str) -> None:
        """options[key] must be a real number >= low (NaN fails too).

        The range error keeps PyTorch's words ("Invalid learning rate: -0.1") with the option
        and its bound, so it is written here rather than by arguments.number(minimum=low).
        """
        self._check_number(options, key)
        value = options[key]
        if not value >= low:
            raise ValueError(f"{type(self).__name__}: invalid {what} {key}={value}: it must be >= {low}")

    def _check_number(self, options: dict[str, Any], key: str) -> None:
        """options[key] must be a real number (not a bool, not a string)."""
        arguments.number(options[key], key, type(self).__name__)

    # ------------------------------------------------------------------ the training step

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward pass: `.grad = None` (PyTorch's default).

        With set_to_none=False each .grad becomes a new array of zeros instead; the old array is
        never zeroed in place, since another tensor may share it.
        """
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; parameters whose .grad is None are skipped.

        `closure`, if given, recomputes the loss (zero_grad, forward, backward) and its result
        is returned, as in PyTorch. All gradients are checked before any parameter changes.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad, data = p.grad.data, p.data
                if grad.shape != data.shape or type(grad) is not type(data):
                    self._raise_bad_gradient(p, grad)
                work.append((p, grad, group))
        for p, grad, group in work:
            state = self.state[p]
            if not state:
                self._init_state(p.data, state, group)
            self._update(p.data, grad, state, group)
        return loss

    def _raise_bad_gradient(self, p: Tensor, grad: Any) -> None:
        """Raise for a .grad on another device or of another shape than its parameter.

        Two array classes of one device (a NumPy memmap beside an ndarray) are no error.
        """
        name = f"{type(self).__name__}.step"
        arguments.same_device(name, p, grad)
        if tuple(grad.shape) != p.shape:
            raise ValueError(f"{name}: a parameter of shape {p.shape} has a gradient of shape "
                             f"{tuple(grad.shape)}; they must match")

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create the per-parameter memory (buffers of zeros, a step counter) before its first step."""

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update the array `param` in place from the array `grad` (read only). Subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, grad, state, group)")

    # ------------------------------------------------------------------ saving and loading

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: per-parameter state (arrays as Tensors, copied) and the
        options of each group, with parameters replaced by their index, in PyTorch's layout."""
        index: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            param_groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                entry = self.state.get(p)
                if entry:
                    state[index[id(p)]] = {k: _snapshot(v) for k, v in entry.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a snapshot made by `state_dict()` (ours or PyTorch's) onto these parameters.

        The number of groups, of parameters per group and every state array's shape are checked
        first; on any mismatch a ValueError says what differs and nothing is changed. Arrays are
        copied onto each parameter's device and cast to its dtype.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and "
                             f"'param_groups' (from optimizer.state_dict()), got {got}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} "
                             f"parameter group(s), but this optimizer has {len(self.param_groups)}")
        param_of_index: dict[int, Tensor] = {}
        new_groups = []
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the loaded state dict "
                                 "is not a dict with a 'params' entry")
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the loaded state dict "
                                 f"has {len(saved_params)} parameter(s), but this optimizer's group {i} "
                                 f"has {len(group['params'])}")
            param_of_index.update(zip((int(k) for k in saved_params), group["params"]))
            new_group = {"params": group["params"]}
            new_group.update((k, copy.deepcopy(v)) for k, v in saved.items() if k != "params")
            self._fill_defaults(new_group)
            self._check_options(new_group)
            new_groups.append(new_group)

        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entry in state_dict["state"].items():
            index = int(key)
            if index not in param_of_index:
                raise ValueError(f"{name}.load_state_dict: the loaded state has an entry for parameter "
                                 f"{index}, but the parameter groups number only {len(param_of_index)} "
                                 "parameters")
            p = param_of_index[index]
            new_state[p] = {k: self._restore(p, index, k, v) for k, v in entry.items()}

        self.state = new_state
        self.param_groups = new_groups

    def _restore(self, p: Tensor, index: int, key: str, value: Any) -> Any:
        """One saved state value as this optimizer keeps it: an own copy on p's device."""
        if value is None:
            return None
        if isinstance(value, Tensor):
            array = value.data
        elif isinstance(value, np.ndarray) or backend.is_device_array(value):
            array = value
        else:
            try:                                   # a number, or e.g. a torch.Tensor on the CPU
                array = np.asarray(value)
            except Exception:
                array = None
            if array is None or array.dtype == object:
                raise TypeError(f"{type(self).__name__}.load_state_dict: state {key!r} of parameter "
                                f"{index} is a {type(value).__name__}; expected a Tensor or an array")
        if key == "step":                          # the step counter stays on the CPU (see _new_step)
            if array.size != 1:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state 'step' of parameter "
                                 f"{index} must hold one number, got shape {tuple(array.shape)}")
            return np.array(backend.to_numpy(array).reshape(()), dtype=np.float32)
        if tuple(array.shape) != p.shape:
            raise ValueError(f"{type(self).__name__}.load_state_dict: state {key!r} of parameter "
                             f"{index} has shape {tuple(array.shape)}, but the parameter has shape "
                             f"{p.shape}")
        array = backend.to_device(array, p.device)
        dtype = p.dtype if array.dtype.kind == "f" else array.dtype
        return array.astype(dtype, copy=True)

    # ------------------------------------------------------------------ printing

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers for the rules

def _new_step() -> np.ndarray:
    """The step counter t of one parameter: a 0-d float32 array, as in PyTorch.

    It lives on the CPU even for a GPU parameter (PyTorch does the same): bias corrections
    such as 1 - beta^t are computed in Python, and reading a GPU counter back every step
    would wait for the GPU each time.
    """
    return np.zeros((), dtype=np.float32)


def _lerp_(start: Any, end: Any, weight: float) -> None:
    """start <- start + weight * (end - start), in place: a running average.

    Evaluated as PyTorch's lerp does: for weight >= 0.5 the equal form
    end - (end - start) * (1 - weight) is used, which rounds better there.
    """
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        backend.xp(start).subtract(end, diff, out=start)


def _snapshot(value: Any) -> Any:
    """A state value for state_dict(): arrays become Tensors holding a copy."""
    if isinstance(value, np.ndarray) or backend.is_device_array(value):
        return Tensor(value)                       # Tensor(array) copies and keeps dtype and device
    return copy.deepcopy(value)
