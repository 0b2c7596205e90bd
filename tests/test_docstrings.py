"""Every public name has a docstring, so that help(x.matmul) and Jupyter's Shift-Tab explain it.

The rule, for every importable module of the packages tinygrad_edu and visualize (except the
script tinygrad_edu.demo); public means no leading underscore:
- each public class and function defined in the module (not imported into it) has a docstring;
- so does each public method and property that a public class defines itself or inherits from
  a private base class of its package (other inherited ones are checked where they are defined;
  dunder methods are not checked);
- a Function subclass states its math in the class docstring (a formula, so it has an "="),
  and then its `forward` and `backward` need none.
An empty docstring, or the signature that dataclass and NamedTuple write when there is none,
counts as missing.
"""
import dataclasses
import importlib
import inspect
import pkgutil
import types

import pytest

from tinygrad_edu.autograd import Function

pytestmark = [pytest.mark.lecture06]   # every Function states its math (forward and derivative)

PACKAGES = ("tinygrad_edu", "visualize")
NOT_CHECKED = {"tinygrad_edu.demo"}        # a script (python -m tinygrad_edu.demo), not an API
COVERED_BY_FUNCTION_DOC = {"forward", "backward"}


def public_modules() -> list:
    """The packages and every submodule that is public and not in NOT_CHECKED, imported."""
    modules = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        modules.append(package)
        for info in pkgutil.walk_packages(package.__path__, package_name + "."):
            parts = info.name.split(".")
            if info.name in NOT_CHECKED or any(p.startswith("_") for p in parts):
                continue
            modules.append(importlib.import_module(info.name))
    return modules


def has_doc(obj) -> bool:
    """True when obj has a docstring of its own (a class's is not inherited from its bases)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return False
    if isinstance(obj, type) and (dataclasses.is_dataclass(obj) or hasattr(obj, "_fields")):
        generated = doc.startswith(obj.__name__ + "(") and "\n" not in doc.strip()
        return not generated
    return True


def _member(attr):
    """The object whose docstring a class attribute shows, or None for plain data."""
    if isinstance(attr, (staticmethod, classmethod)):
        return attr.__func__
    if isinstance(attr, (property, types.FunctionType)) or inspect.isclass(attr):
        return attr
    if hasattr(attr, "__set_name__") and hasattr(attr, "__get__"):   # e.g. functools.cached_property
        return attr
    return None


def _own_and_private_members(cls):
    """(name, attribute) that cls defines, then those it inherits from private bases of its package
    (class _Loss: its methods are documented only through the public MSELoss, ...)."""
    package = cls.__module__.split(".")[0]
    names = set()
    for owner in cls.__mro__:
        if owner is not cls and not (owner.__name__.startswith("_")
                                     and owner.__module__.split(".")[0] == package):
            continue
        for name, attr in vars(owner).items():
            if name not in names:
                names.add(name)
                yield name, attr


def missing_in_class(cls, qualname: str, seen: set) -> list:
    """The class itself and its public members without a docstring; `seen` reports each object once."""
    is_function = issubclass(cls, Function) and cls is not Function
    if not has_doc(cls):
        missing = [qualname]
    elif is_function and "=" not in cls.__doc__:
        missing = [f"{qualname} (a Function's docstring states its math: y = ...;  dy/dx = ...)"]
    else:
        missing = []
    for name, attr in _own_and_private_members(cls):
        if name.startswith("_") or (is_function and name in COVERED_BY_FUNCTION_DOC):
            continue
        member = _member(attr)
        if member is None or id(member) in seen:
            continue
        seen.add(id(member))
        if inspect.isclass(member):
            if member.__qualname__.startswith(cls.__qualname__ + "."):      # a nested class
                missing += missing_in_class(member, f"{qualname}.{name}", seen)
        elif not has_doc(member):
            missing.append(f"{qualname}.{name}")
    return missing


def missing_docstrings(modules) -> list:
    """Qualified names of the public classes, functions, methods and properties without a docstring."""
    missing, seen = [], set()
    for module in modules:
        for name, obj in vars(module).items():
            if name.startswith("_") or id(obj) in seen:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", None) != module.__name__:          # imported from elsewhere
                continue
            seen.add(id(obj))
            qualname = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                missing += missing_in_class(obj, qualname, seen)
            elif not has_doc(obj):
                missing.append(qualname)
    return missing


def test_every_public_name_has_a_docstring():
    missing = missing_docstrings(public_modules())
    assert not missing, (f"{len(missing)} public names have no docstring (say in one line what it does, "
                         "then the math):\n  " + "\n  ".join(missing))


def test_the_check_finds_what_it_should_and_nothing_else():
    module = types.ModuleType("toy")
    source = '''
import math
from dataclasses import dataclass
from math import sqrt
from tinygrad_edu.autograd import Function

def documented():
    """Yes."""
def bare(): pass
def _private(): pass
alias = bare

class Bare:
    def method(self): pass
    def _helper(self): pass
    def __len__(self): return 0
    @property
    def prop(self): return 1
    @staticmethod
    def static(): pass
    @classmethod
    def klass(cls): pass
    CONSTANT = 3

@dataclass
class Point:
    x: int

class _Base:
    def shared(self): pass

class UsesBase(_Base):
    """Shows shared, which has no docstring anywhere public."""

class AlsoUsesBase(_Base):
    """The same shared: reported once."""

class Child(Bare):
    """Inherits method, which is reported once, in Bare."""
    def override(self): pass

class Square(Function):
    """Squares."""
    @staticmethod
    def forward(ctx, x): return x * x
    @staticmethod
    def backward(ctx, grad): return grad
    @staticmethod
    def helper(): pass
'''
    exec(compile(source, "toy", "exec"), module.__dict__)    # what it defines has __module__ "toy"
    assert missing_docstrings([module]) == [
        "toy.bare", "toy.Bare", "toy.Bare.method", "toy.Bare.prop", "toy.Bare.static",
        "toy.Bare.klass", "toy.Point", "toy.UsesBase.shared", "toy.Child.override",
        "toy.Square (a Function's docstring states its math: y = ...;  dy/dx = ...)", "toy.Square.helper",
    ]
