"""Every kernel name the code asks for exists, checked by reading the source: no GPU needed.

On the CPU `kernels.get` returns None before it builds anything, so a misspelt name in a fast
path would only show on a GPU. This module parses every file of tinygrad_edu/ and visualize/
(ast), finds each way a kernel is looked up (`kernels.get("name", ...)`, `kernels.SPECS["name"]`,
under any alias of the module or of `get`), and checks each name against the table in
tinygrad_edu/kernels.py, and that every kernel of the table is asked for somewhere.
"""
from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass

import numpy as np
import pytest

from tinygrad_edu import kernels

pytestmark = [pytest.mark.lecture09]   # the GPU's fused kernels

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("tinygrad_edu", "visualize")


@dataclass(frozen=True)
class Lookup:
    where: str                  # file:line
    names: tuple[str, ...]      # every name the lookup can ask for (both arms of `a if c else b`)
    unreadable: str = ""        # the expression, when it is not made of string literals


def _literal_names(node: ast.expr) -> tuple[str, ...] | None:
    """The strings a name expression can evaluate to: a literal, or `x if cond else y` of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_names(node.body), _literal_names(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _aliases(tree: ast.AST, where: str) -> tuple[set[str], set[str], list[str]]:
    """The names bound to the kernels module and to kernels.get in one file, and imports that
    reach the kernels in a way this scan does not follow."""
    module_aliases, get_aliases, others = set(), set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "tinygrad_edu.kernels":
                    if alias.asname:
                        module_aliases.add(alias.asname)
                    else:
                        others.append(f"{where}:{node.lineno}: import tinygrad_edu.kernels (use `as` a name)")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[-1] == "kernels":                 # from ..kernels import get
                for alias in node.names:
                    if alias.name == "get":
                        get_aliases.add(alias.asname or "get")
                    else:
                        others.append(f"{where}:{node.lineno}: from kernels import {alias.name}")
            elif (node.level > 0 and module == "") or module == "tinygrad_edu":
                for alias in node.names:                            # from .. import kernels [as k]
                    if alias.name == "kernels":
                        module_aliases.add(alias.asname or "kernels")
    return module_aliases, get_aliases, others


class _Scan(ast.NodeVisitor):
    def __init__(self, source: str, where: str):
        self.where = where
        tree = ast.parse(source, filename=where)
        self.module_aliases, self.get_aliases, self.other_uses = _aliases(tree, where)
        self.lookups: list[Lookup] = []
        self._seen: set[int] = set()            # the Attribute nodes already read as a lookup
        self.visit(tree)

    def _kernels_attribute(self, node: ast.AST) -> str | None:
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in self.module_aliases):
            return node.attr
        return None

    def _record(self, node: ast.AST, name_expr: ast.expr | None) -> None:
        where = f"{self.where}:{node.lineno}"
        names = None if name_expr is None else _literal_names(name_expr)
        if names is None:
            text = "(no name)" if name_expr is None else ast.unparse(name_expr)
            self.lookups.append(Lookup(where, (), text))
        else:
            self.lookups.append(Lookup(where, names))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if self._kernels_attribute(func) == "get" or (isinstance(func, ast.Name) and func.id in self.get_aliases):
            self._seen.add(id(func))
            name = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            self._record(node, name)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._kernels_attribute(node.value) == "SPECS":
            self._seen.add(id(node.value))
            self._record(node, node.slice)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = self._kernels_attribute(node)
        if attr is not None and id(node) not in self._seen and attr not in ("set_fused", "fused_enabled"):
            # kernels.get passed around, kernels.SPECS.get(...), kernels._built, ...
            self.other_uses.append(f"{self.where}:{node.lineno}: {ast.unparse(node)} (not a call of get "
                                   f"or a subscript of SPECS)")
        self.generic_visit(node)


def scan_source(source: str, where: str) -> _Scan:
    """Every kernel lookup in one file's source."""
    return _Scan(source, where)


def scan_tree() -> list[_Scan]:
    scans = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "tinygrad_edu" / "kernels.py":   # the table itself
                continue
            scans.append(scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))))
    return scans


def unknown_names(scans: list[_Scan], table: dict) -> list[str]:
    return [f"{lookup.where}: {name!r}" for scan in scans for lookup in scan.lookups
            for name in lookup.names if name not in table]


SCANS = scan_tree()
LOOKUPS = [lookup for scan in SCANS for lookup in scan.lookups]


# ----------------------------------------------------------------------------- the tree

def test_the_scan_finds_the_kernel_lookups_of_the_tree():
    files = {lookup.where.split(":")[0] for lookup in LOOKUPS}
    for expected in ("tinygrad_edu/functions/elementwise.py", "tinygrad_edu/functions/nn.py",
                     "tinygrad_edu/functions/conv.py", "tinygrad_edu/nn/functional.py",
                     "tinygrad_edu/optim/sgd.py", "tinygrad_edu/optim/adam.py"):
        assert expected in files, f"no kernel lookup found in {expected}: is the scan still reading it?"


def test_every_kernel_name_the_code_asks_for_is_defined():
    unknown = unknown_names(SCANS, kernels.SPECS)
    assert not unknown, ("kernel names that tinygrad_edu/kernels.py does not define (a typo would only "
                         "show on a GPU): " + "; ".join(unknown))


def test_every_kernel_is_looked_up_by_a_name_written_in_the_source():
    unreadable = [f"{lookup.where}: {lookup.unreadable}" for lookup in LOOKUPS if lookup.unreadable]
    assert not unreadable, ("write kernel names as string literals (or `'a' if c else 'b'`) so that this "
                            "test can check them: " + "; ".join(unreadable))


def test_the_code_reaches_kernels_only_through_get():
    others = [use for scan in SCANS for use in scan.other_uses]
    assert not others, ("the kernels are looked up another way than kernels.get / kernels.SPECS; "
                        "teach tests/test_kernel_names.py that way: " + "; ".join(others))


def test_every_kernel_of_the_table_is_asked_for_somewhere():
    asked = {name for lookup in LOOKUPS for name in lookup.names}
    unused = sorted(set(kernels.SPECS) - asked)
    assert not unused, f"kernels that no code asks for (dead, or asked for by a misspelt name): {unused}"


# ----------------------------------------------------------------------------- the scan itself

TYPO = '''
from .. import kernels as k
from ..kernels import get as kernel

def backward(ctx, grad):
    fused = k.get("tahn_backward", grad)
    other = kernel("sigmoid_backward" if ctx.flag else "sigmoid_backwrd", grad)
    spec = k.SPECS["relu_backward"]
    return fused, other, spec
'''


def test_the_scan_catches_a_misspelt_name_under_any_alias():
    scan = scan_source(TYPO, "typo.py")
    assert [lookup.names for lookup in scan.lookups] == [
        ("tahn_backward",), ("sigmoid_backward", "sigmoid_backwrd"), ("relu_backward",)]
    assert unknown_names([scan], kernels.SPECS) == ["typo.py:6: 'tahn_backward'", "typo.py:7: 'sigmoid_backwrd'"]


def test_the_scan_refuses_a_name_it_cannot_read():
    scan = scan_source("from .. import kernels\nfused = kernels.get(name + '_backward', x)\n", "dynamic.py")
    assert scan.lookups == [Lookup("dynamic.py:2", (), "name + '_backward'")]


def test_the_scan_refuses_another_way_to_the_kernels():
    scan = scan_source("from .. import kernels\nlookup = kernels.get\nspec = kernels.SPECS.get('relu')\n", "other.py")
    assert len(scan.other_uses) == 2 and not scan.lookups, scan.other_uses


def test_get_refuses_an_unknown_name_on_the_cpu_too():
    with pytest.raises(KeyError, match="no kernel named 'tahn_backward'"):
        kernels.get("tahn_backward", np.zeros(3, dtype=np.float32))
