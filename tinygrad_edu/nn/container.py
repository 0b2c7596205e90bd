"""Containers: Sequential (layers applied in order), ModuleList (a list of sub-modules) and
ModuleDict (a dict of named sub-modules)."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Iterable, Iterator

from .module import Module


class Sequential(Module):
    """Applies its modules one after another: Sequential(Linear(3, 10), ReLU(), Linear(10, 3)).
    Children are named "0", "1", ... (or by an OrderedDict's keys), as in PyTorch."""

    def __init__(self, *modules: Any):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self._add(name, m)
        else:
            for i, m in enumerate(modules):
                self._add(str(i), m)

    def _add(self, name: str, module: Any) -> None:
        if isinstance(module, (list, tuple)):
            raise TypeError(f"Sequential: got a {type(module).__name__} of {len(module)} items as element {name}; "
                            "Sequential takes the modules as separate arguments: unpack the list with "
                            "nn.Sequential(*layers), or keep a list of modules in nn.ModuleList(layers)")
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: element {name} is a {type(module).__name__}, not a Module "
                            "(did you pass a function such as F.relu instead of nn.ReLU()?)")
        self._modules[name] = module

    def forward(self, x: Any) -> Any:
        """Apply the modules in order: y = m_k(... m_2(m_1(x)))."""
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> "Sequential":
        """Add a module at the end, named by its position; returns self."""
        self._add(str(len(self._modules)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential: index {index} is out of range for {len(items)} modules")
        return items[index][1]


class ModuleList(Module):
    """A list of modules whose parameters the parent module sees."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        """Add a module at the end, named by its position; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected a Module, got {type(module).__name__}")
        self._modules[str(len(self._modules))] = module
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        """One module, or a slice as a new ModuleList of the same modules (as in PyTorch)."""
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"ModuleList: index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __repr__(self) -> str:
        """Runs of equal children print once, as PyTorch does: (0-2): 3 x Linear(...)."""
        runs: list[list] = []
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            if runs and runs[-1][2] == text:
                runs[-1][1] = name
                runs[-1][3] += 1
            else:
                runs.append([name, name, text, 1])
        if not runs:
            return "ModuleList()"
        lines = [f"  ({first}): {text}" if count == 1 else f"  ({first}-{last}): {count} x {text}"
                 for first, last, text, count in runs]
        return "ModuleList(\n" + "\n".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of named sub-modules whose parameters the parent module sees, as torch.nn.ModuleDict:
    `heads = ModuleDict({"cls": Linear(8, 3), "box": Linear(8, 4)})`, then heads["cls"](x).
    The keys keep their insertion order; state_dict names are "key.param" ("cls.weight")."""

    def __init__(self, modules: Any = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _check(self, key: Any, module: Any) -> None:
        """A key that can name a child (a non-empty str without '.', not a method) and a Module."""
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict: the key {key!r} cannot name a module: it must be non-empty "
                           "and contain no '.' (state_dict joins names with dots)")
        if key not in self._modules and hasattr(self, key):
            raise KeyError(f"ModuleDict: the key {key!r} would hide the attribute ModuleDict.{key}; choose "
                           "another name")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: the value for {key!r} must be a Module, got {type(module).__name__}")

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; the keys are {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self._check(key, module)
        self._modules[key] = module

    def __delitem__(self, key: str) -> None:
        self[key]                               # the KeyError that lists the keys
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Remove the module under key and return it."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Any) -> None:
        """Add (or replace) modules from a dict, a ModuleDict or an iterable of (key, module) pairs.
        Every pair is checked before any is added."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        elif isinstance(modules, Module) or isinstance(modules, str) or not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update: expected a dict or an iterable of (key, module) pairs, "
                            f"got {type(modules).__name__}")
        else:
            pairs = []
            for i, pair in enumerate(modules):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise TypeError(f"ModuleDict.update: element {i} must be a (key, module) pair, got {pair!r}")
                pairs.append(tuple(pair))
        for key, module in pairs:
            self._check(key, module)
        for key, module in pairs:
            self._modules[key] = module
