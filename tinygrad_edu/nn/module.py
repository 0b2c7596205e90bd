"""Module: the base class of every layer and model, with PyTorch's names and behaviour.

A Module holds Parameters, buffers (non-trained state such as BatchNorm's running mean) and
child Modules, registered automatically when assigned as attributes. `model(x)` calls
`model.forward(x)`. `state_dict()` names every parameter and buffer by its path
("0.weight", "encoder.bias") in PyTorch's order, so weights move to torch.nn unchanged.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

from .. import backend
from ..autograd import RemovableHandle, no_grad
from ..tensor import Tensor
from .parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What load_state_dict returns: the model's keys the dict lacks, and the dict's keys the model lacks."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class for layers and models: subclass it, create parameters and sub-modules in
    __init__ (after super().__init__()), and write forward()."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The module's computation: every subclass writes it, and model(x) calls it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """model(x): forward(x), with the forward hooks around it (when there are any)."""
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks):
            result = hook(self, args)
            if result is not None:              # new inputs: a tuple, or a single value
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            result = hook(self, args, output)
            if result is not None:              # a new output
                output = result
        return output

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call hook(module, args) before every forward; it may return new args (or None)."""
        return self._add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook", "hook(module, args)")

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Call hook(module, args, output) after every forward; it may return a new output (or
        None). Grad-CAM keeps a layer's activations this way."""
        return self._add_hook(self._forward_hooks, hook, "register_forward_hook", "hook(module, args, output)")

    def _add_hook(self, hooks: list, hook: Callable, op: str, signature: str) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}.{op}: the hook must be a function {signature}, "
                            f"got {type(hook).__name__}")
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before {type(self).__name__}.__init__() "
                                 "called super().__init__()")
        if isinstance(value, Parameter):
            target = self._parameters
        elif isinstance(value, Module):
            target = self._modules
        elif name in self._buffers:
            target = self._buffers
        else:
            target = None
        for store in (self._parameters, self._buffers, self._modules):
            if store is not target:
                store.pop(name, None)
        if target is None:
            object.__setattr__(self, name, value)
        else:
            self.__dict__.pop(name, None)
            target[name] = value            # an existing name keeps its place in state_dict

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries, else a clear error.
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in state_dict but not trained (e.g. running_mean)."""
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a Parameter under `name`, as self.name = param does (None declares an absent one, e.g. no bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name`, as self.name = module does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    # ------------------------------------------------------------------ traversal

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, each once, depth first, with its dotted path."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, each once, depth first."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(name, module) for each direct child, in the order they were assigned."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        """Each direct child module, in the order they were assigned."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) for every parameter, each once ("0.weight"); recurse=False: own ones only."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of this module and its descendants, each once: what an optimizer is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, Tensor) for every buffer (state that is saved but not trained), each once."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (e.g. BatchNorm's running_mean) of this module and its descendants, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call fn on every sub-module (children first) and on self, as torch's apply does."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ modes, devices, grads

    def train(self, mode: bool = True) -> "Module":
        """Training mode (or eval mode with mode=False) for this module and every descendant; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Eval mode, train(False): Dropout passes x through, BatchNorm uses its running statistics; returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward: .grad = None (PyTorch's default), or
        with set_to_none=False a new array of zeros (as optimizer.zero_grad does)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set requires_grad of every parameter (False freezes the module); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, device: str) -> "Module":
        """Move every parameter and buffer to `device` in place (the Parameter objects stay)."""
        device = backend.parse_device(device)
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None:
                        t.data = backend.to_device(t.data, device)
                        if t.grad is not None:
                            t.grad = Tensor._from_op(backend.to_device(t.grad.data, device), None)
        return self

    def cpu(self) -> "Module":
        """Move every parameter and buffer to the CPU in place; returns self."""
        return self.to("cpu")

    def cuda(self) -> "Module":
        """Move every parameter and buffer to the GPU in place; returns self."""
        return self.to("cuda")

    # ------------------------------------------------------------------ state_dict

    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by name, in PyTorch's order (each module's own
        parameters, then its buffers, then its children). The Tensors are detached, not copied."""
        out: OrderedDict[str, Tensor] = OrderedDict()
        for module_name, module in self.named_modules(prefix):
            base = f"{module_name}." if module_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[base + name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[base + name] = b.detach()
        return out

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, in place.

        Every key and shape is checked first; on any problem a clear error is raised and
        nothing has been changed. With strict=False, missing and unexpected keys are
        returned instead of raising (shapes must still match)."""
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of tensors, got {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and (missing or unexpected):
            if missing:
                problems.append(f"missing keys: {missing}")
            if unexpected:
                problems.append(f"unexpected keys: {unexpected}")
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                array = _as_numpy_or_device(value)
            except TypeError as exc:
                problems.append(f"{key}: {exc}")
                continue
            if tuple(array.shape) != target.shape:
                problems.append(f"{key}: shape {tuple(array.shape)} in the state_dict does not match "
                                f"{target.shape} in the model")
                continue
            arrays[key] = array
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                               + "\n  ".join(problems))
        live = dict(self._named_members("_parameters", "", True))
        live.update(self._named_members("_buffers", "", True))
        with no_grad():
            for key, array in arrays.items():
                target = live[key]
                target.data[...] = backend.to_device(array, target.device).astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing

    def extra_repr(self) -> str:
        """The text inside the parentheses when the module prints, e.g. 'in_features=3'; override it."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (extra + "\n" if extra else "\n")
        return head + "\n".join(lines) + "\n)"


def _as_numpy_or_device(value: Any):
    """The raw array of a state_dict value: a Tensor, a NumPy/CuPy array, or a torch tensor."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "shape") and hasattr(value, "dtype") and not hasattr(value, "detach"):
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):          # a torch.Tensor
        return value.detach().cpu().numpy()
    raise TypeError(f"expected a Tensor or an array, got {type(value).__name__}")
