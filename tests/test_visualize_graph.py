"""visualize.graph, visualize.explain and visualize.render: the computation graph as DOT,
rendered to files, and the backward pass explained with numbers.

The DOT text is checked by reading its statements back: one `name [attrs]` line per box or
node, one `a -> b [attrs]` line per arrow, `subgraph cluster_...` blocks for clusters.
Rendering tests need a Graphviz executable (the pip-installed graphviz-pure is enough) and
are skipped without one.
"""
import importlib
import os
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

graphviz = pytest.importorskip("graphviz")

from tinygrad_edu import Function, Tensor, autograd, nn                # noqa: E402
from visualize import draw_graph, explain_backward, find_dot, render   # noqa: E402
from visualize.explain import backward_steps                           # noqa: E402
from visualize.graph import GRAD_SCALE, GRAD_UNKNOWN, node_id          # noqa: E402

pytestmark = [pytest.mark.lecture01, pytest.mark.lecture06]   # the computation graph; the chain rule node by node

render_module = importlib.import_module("visualize.render")   # `visualize.render` is also the function
needs_renderer = pytest.mark.skipif(find_dot() is None, reason="needs dot or graphviz-pure")
REAL_WHICH = shutil.which
README = Path(__file__).resolve().parents[1] / "README.md"


# ----------------------------------------------------------------------------- reading DOT back

STATEMENT = re.compile(r"^\s*(\w+) \[(.*)\]$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


def nodes_of(dot) -> dict:
    """node name -> its attribute text (graph/node/edge defaults and the legend left out)."""
    found = {}
    for line in dot.source.splitlines():
        match = STATEMENT.match(line)
        if match and match.group(1) not in ("graph", "node", "edge", "legend"):
            found[match.group(1)] = match.group(2)
    return found


def edges_of(dot) -> list:
    """(source, target, attribute text) for every arrow."""
    found = []
    for line in dot.source.splitlines():
        match = EDGE.match(line)
        if match:
            found.append((match.group(1), match.group(2), match.group(3) or ""))
    return found


def css_class(attrs: str) -> set:
    match = re.search(r'class=(?:"([^"]*)"|(\w+))', attrs)
    return set((match.group(1) or match.group(2)).split()) if match else set()


def colour(attrs: str) -> str | None:
    match = re.search(r'(?<!fill)color="?(#[0-9a-fA-F]{6})', attrs)
    return match.group(1) if match else None


def box_names(dot) -> dict:
    """node name of each tensor box -> the name written on it in bold (None for a box without one)."""
    names = {}
    for node, attrs in nodes_of(dot).items():
        if "tensor" in css_class(attrs):
            bold = re.search(r"<B>([^<]*)</B>", attrs)
            names[node] = bold.group(1) if bold else None
    return names


def tensors_of(root) -> list:
    """Every Tensor the root was computed from, and the root."""
    found, stack = {}, [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) not in found:
            found[id(tensor)] = tensor
            if tensor.grad_fn is not None:
                stack += [p for p in tensor.grad_fn.parents if isinstance(p, Tensor)]
    return list(found.values())


def clusters_of(dot) -> dict:
    """cluster name -> (its label, the nodes declared inside it)."""
    clusters, current = {}, None
    for line in dot.source.splitlines():
        start = re.match(r"^\s*subgraph (cluster_\w+) \{", line)
        if start:
            current = start.group(1)
            clusters[current] = ["", set()]
            continue
        if current and line.strip() == "}":
            current = None
            continue
        if current:
            label = re.search(r'label=(?:"([^"]*)"|(\w+))', line)
            if label and " [" not in line:
                clusters[current][0] = label.group(1) or label.group(2)
            match = STATEMENT.match(line)
            if match:
                clusters[current][1].add(match.group(1))
    return {name: (label, members) for name, (label, members) in clusters.items()}


@pytest.fixture
def xwb():
    """y = x * w + b with x = 3, w = 2, b = 1 (all leaves require grad)."""
    x = Tensor(3.0, requires_grad=True, name="x")
    w = Tensor(2.0, requires_grad=True)
    b = Tensor(1.0, requires_grad=True)
    z = x * w
    y = z + b
    return x, w, b, z, y


# ----------------------------------------------------------------------------- what is drawn

def test_draw_graph_returns_a_graphviz_digraph(xwb):
    *_, y = xwb
    assert isinstance(draw_graph(y), graphviz.Digraph)


def test_x_times_w_plus_b_has_five_boxes_two_functions_and_six_forward_arrows(xwb):
    x, w, b, z, y = xwb
    dot = draw_graph(y, legend=False)
    nodes = nodes_of(dot)
    boxes = {n for n, a in nodes.items() if "tensor" in css_class(a)}
    functions = {n for n, a in nodes.items() if "function" in css_class(a)}
    assert boxes == {node_id(t) for t in (x, w, b, z, y)}
    assert len(functions) == 2
    mul, add = node_id(z.grad_fn), node_id(y.grad_fn)
    expected = {(node_id(x), mul), (node_id(w), mul), (mul, node_id(z)),
                (node_id(z), add), (node_id(b), add), (add, node_id(y))}
    assert {(s, t) for s, t, _ in edges_of(dot)} == expected
    assert len(edges_of(dot)) == 6
    leaves = {n for n, a in nodes.items() if css_class(a) & {"leaf", "parameter", "input"}}
    assert leaves == {node_id(x), node_id(w), node_id(b)}


def test_function_nodes_are_labelled_by_class_name():
    class Cube(Function):
        """y = a^3;  dy/da = 3 a^2."""

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a ** 3

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 3 * a ** 2

    x = Tensor([[1.0, -2.0]], requires_grad=True)
    w = Tensor([[0.5], [0.25]], requires_grad=True)
    y = Cube.apply((x @ w).relu())
    labels = [a for a in nodes_of(draw_graph(y)).values() if "function" in css_class(a)]
    assert sorted(re.search(r"<B>(\w+)</B>", a).group(1) for a in labels) == ["Cube", "MatMul", "ReLU"]


def test_labels_show_names_shapes_dtypes_and_values(xwb):
    x, w, b, z, y = xwb
    nodes = nodes_of(draw_graph(y, params={"weight": w}))
    assert "<B>weight</B>" in nodes[node_id(w)]          # a name from params
    assert "<B>x</B>" in nodes[node_id(x)]               # a Tensor.name
    assert "scalar float32" in nodes[node_id(x)]
    assert ">3<" in nodes[node_id(x)] and ">7<" in nodes[node_id(y)]     # the values


def test_every_name_the_explanation_uses_is_the_label_of_that_tensor_in_the_graph(capsys):
    model = nn.Linear(2, 2)
    data = Tensor([[1.0, -2.0], [0.5, 3.0]])               # leaves without a name: t1, t2 in the text
    scale = Tensor(1.5, requires_grad=True)
    hidden = (model(data) * scale).tanh()
    hidden.name = "h"                                       # a user's name wins
    loss = ((hidden - 0.5) ** 2).mean()                     # unnamed intermediates: z1, z2, ...
    params = dict(model.named_parameters())
    dot = draw_graph(loss, params=params)
    label = {id(t): box_names(dot)[node_id(t)] for t in tensors_of(loss)}
    assert {"L", "h", "weight", "bias", "t1", "t2", "z1", "z2"} <= set(label.values())
    assert None not in label.values()                       # every box carries a name

    producer = {id(t.grad_fn): t for t in tensors_of(loss) if t.grad_fn is not None}
    steps = list(backward_steps(loss, params=params))
    for step in steps:
        out = producer[id(step.node)]
        assert step.output_name == label[id(out)]
        arguments = re.fullmatch(r"(\S+) = \w+\((.*)\)", step.call).group(2).split(", ")
        for parent, argument in zip(step.node.parents, arguments):
            if isinstance(parent, Tensor):
                assert argument == label[id(parent)], step.call
        for item in step.inputs:
            assert item.name == label[id(item.tensor)]
    assert box_names(steps[0].draw(cluster_modules=model)) == box_names(dot)   # the step pictures too

    explain_backward(loss, params=params)
    used = set()
    for line in capsys.readouterr().out.splitlines():
        call = re.match(r"step \d+  \w+: (\w+) = \w+\((.*)\)$", line)
        if call:                                            # "step 3  Mul: z2 = Mul(z1, t2)"
            used |= {call.group(1)} | {a for a in call.group(2).split(", ") if not re.fullmatch(r"[-\d.e]+", a)}
        elif re.match(r"    d", line):                       # "    dL/dz1 = dL/dz2 * dz2/dz1 = ...", not the math
            used |= {name for pair in re.findall(r"\bd(\w+)/d(\w+)", line) for name in pair}
    assert used >= {"L", "h", "weight", "t2", "z1"}
    assert used <= set(label.values())                      # every name in the text is a box's label


def test_labels_show_shapes_dtypes_and_summaries_of_large_tensors():
    small = Tensor(np.array([1.5, -2.0], dtype=np.float64), requires_grad=True)
    large = Tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = (small.sum() + large.sum())
    nodes = nodes_of(draw_graph(y, max_elems=6))
    assert "(2,) float64" in nodes[node_id(small)] and "[1.5, -2]" in nodes[node_id(small)]
    assert "(3, 4) float32" in nodes[node_id(large)]
    assert "min 0  mean 5.5  max 11" in nodes[node_id(large)]


def test_gradients_appear_only_after_backward(xwb):
    x, w, b, z, y = xwb
    assert "grad" not in nodes_of(draw_graph(y))[node_id(x)]
    y.backward()
    nodes = nodes_of(draw_graph(y))
    assert re.search(r">grad<.*>2<", nodes[node_id(x)])              # dy/dx = w = 2
    assert re.search(r">grad<.*>3<", nodes[node_id(w)])              # dy/dw = x = 3
    assert "grad" not in nodes[node_id(z)]                           # not retained
    assert "grad" not in nodes_of(draw_graph(y, show_grad=False))[node_id(x)]


def test_retained_intermediate_gradients_are_shown():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3.0).retain_grad()
    loss = (h * h).sum()
    loss.backward()
    assert re.search(r">grad<.*\[6, 12\]", nodes_of(draw_graph(loss))[node_id(h)])


def test_leaves_parameters_inputs_and_root_are_styled_differently():
    data = Tensor([[1.0, 2.0]])
    lin = nn.Linear(2, 1)
    scale = Tensor(2.0, requires_grad=True)
    out = lin(data) * scale
    nodes = nodes_of(draw_graph(out, legend=False))
    roles = {name: css_class(nodes[node_id(t)]) - {"tensor", "highlight"}
             for name, t in [("data", data), ("weight", lin.weight), ("scale", scale), ("out", out)]}
    assert roles == {"data": {"input"}, "weight": {"parameter"}, "scale": {"leaf"}, "out": {"output"}}
    fills = {re.search(r'BGCOLOR="(#\w+)"', nodes[node_id(t)]).group(1) for t in (data, lin.weight, scale, out)}
    assert len(fills) == 4


def test_the_legend_names_every_style_in_the_picture(xwb):
    *_, y = xwb
    source = draw_graph(y, params={"w": xwb[1]}).source
    legend = re.search(r"\blegend \[label=<(.*)>", source).group(1)
    for words in ("output (the root)", "parameter", "leaf, requires grad", "intermediate tensor", "Function (op)"):
        assert words in legend
    assert "legend [" not in draw_graph(y, legend=False).source


def test_numbers_given_to_ops_are_small_labels_and_inputs_without_grad_get_dashed_arrows():
    x = Tensor([1.0, 2.0])                       # data: no gradient flows back into it
    w = Tensor([0.5, 0.5], requires_grad=True)
    y = (x * w) * 2.0
    dot = draw_graph(y)
    constants = {n: a for n, a in nodes_of(dot).items() if "constant" in css_class(a)}
    assert len(constants) == 1 and "label=2" in next(iter(constants.values()))
    arrows = {(s, t): a for s, t, a in edges_of(dot)}
    assert "dashed" in arrows[(node_id(x), node_id(y.grad_fn.parents[0].grad_fn))]
    assert "dashed" not in arrows[(node_id(w), node_id(y.grad_fn.parents[0].grad_fn))]


def test_rankdir_sets_the_direction(xwb):
    *_, y = xwb
    assert "rankdir=TB" in draw_graph(y, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(y, rankdir="up")


def test_bad_arguments_raise_clear_errors(xwb):
    *_, y = xwb
    with pytest.raises(TypeError, match="root must be a Tensor"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="color_by"):
        draw_graph(y, color_by="data")
    with pytest.raises(ValueError, match="not part of the graph"):
        draw_graph(y, highlight=Tensor(1.0))


def test_a_leaf_root_draws_as_one_box():
    x = Tensor([1.0, 2.0], requires_grad=True)
    dot = draw_graph(x, legend=False)
    assert list(nodes_of(dot)) == [node_id(x)] and edges_of(dot) == []


# ----------------------------------------------------------------------------- highlight, colours, clusters

def test_highlight_marks_exactly_the_backward_path_to_a_tensor():
    a = Tensor(1.0, requires_grad=True)
    b = Tensor(2.0, requires_grad=True)
    c = Tensor(3.0, requires_grad=True)
    ab = a * b
    loss = ab + c
    dot = draw_graph(loss, highlight=a, legend=False)
    marked_edges = {(s, t) for s, t, attrs in edges_of(dot) if "highlight" in css_class(attrs)}
    mul, add = node_id(ab.grad_fn), node_id(loss.grad_fn)
    assert marked_edges == {(node_id(a), mul), (mul, node_id(ab)), (node_id(ab), add), (add, node_id(loss))}
    marked_nodes = {n for n, attrs in nodes_of(dot).items() if "highlight" in css_class(attrs)}
    assert marked_nodes == {node_id(a), mul, node_id(ab), add, node_id(loss)}


def test_highlight_follows_every_path_when_a_tensor_is_used_twice():
    x = Tensor(2.0, requires_grad=True)
    y = x * x + x
    arrows = edges_of(draw_graph(y, highlight=x))
    assert len(arrows) == 6                  # x->Mul twice, Mul->x*x, x*x->Add, x->Add, Add->y
    assert all("highlight" in css_class(attrs) for _, _, attrs in arrows)


def test_color_by_grad_colours_arrows_by_gradient_magnitude():
    tiny = Tensor([1.0, 1.0], requires_grad=True)
    big = Tensor([1.0, 1.0], requires_grad=True)
    loss = (tiny * 1e-8).sum() + (big * 3.0).sum()
    loss.backward()
    arrows = {s: a for s, _, a in edges_of(draw_graph(loss, color_by="grad"))}
    assert colour(arrows[node_id(tiny)]) == GRAD_SCALE[0][1]          # 1e-8: vanishing
    assert colour(arrows[node_id(big)]) == GRAD_SCALE[4][1]           # 3: between 1 and 100
    intermediate = loss.grad_fn.parents[0]                            # not retained: unknown
    assert colour(arrows[node_id(intermediate)]) == GRAD_UNKNOWN[0]
    assert "mean |grad|" in draw_graph(loss, color_by="grad").source  # the scale is in the legend


def test_cluster_modules_groups_each_linear_layer_of_a_sequential():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor(np.ones((5, 3), dtype=np.float32))
    out = model(x)
    last = out.grad_fn
    relu_out = last.parents[0]
    first = relu_out.grad_fn.parents[0].grad_fn
    clusters = {label: members for label, members in clusters_of(draw_graph(out, cluster_modules=model)).values()}
    assert set(clusters) == {"0 (Linear)", "2 (Linear)", "legend"}
    assert {node_id(first), node_id(model[0].weight), node_id(model[0].bias)} <= clusters["0 (Linear)"]
    assert {node_id(last), node_id(model[2].weight), node_id(model[2].bias)} <= clusters["2 (Linear)"]
    assert node_id(relu_out.grad_fn) not in clusters["0 (Linear)"] | clusters["2 (Linear)"]
    assert "<B>2.weight</B>" in draw_graph(out, cluster_modules=model).source   # names from the model


def test_a_graph_of_ten_thousand_nodes_draws_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for i in range(5000):
        y = y.tanh() if i % 2 else y * 1.0001
    assert sys.getrecursionlimit() < 10_000
    start = time.perf_counter()
    dot = draw_graph(y, show_data=False)
    source = dot.source
    assert time.perf_counter() - start < 10
    nodes = nodes_of(dot)
    assert sum("tensor" in css_class(a) for a in nodes.values()) == 5001
    assert sum("function" in css_class(a) for a in nodes.values()) == 5000
    assert source.count(" -> ") == 10000 + 2500          # plus one dotted arrow per constant 1.0001


# ----------------------------------------------------------------------------- finding and running Graphviz

def fake_which(found: dict):
    """A shutil.which that knows only `found`: {(name, "beside" or "path"): result}."""
    beside = os.path.dirname(sys.executable)

    def which(name, mode=os.F_OK | os.X_OK, path=None):
        where = "beside" if path is not None and beside in path.split(os.pathsep) else "path"
        return found.get((name, where))
    return which


def test_find_dot_prefers_the_system_dot(monkeypatch):
    monkeypatch.setattr(shutil, "which", fake_which({("dot", "path"): "/usr/bin/dot",
                                                     ("graphviz-pure", "beside"): "/venv/bin/graphviz-pure"}))
    assert find_dot() == "/usr/bin/dot"


def test_find_dot_falls_back_to_graphviz_pure_beside_the_interpreter(monkeypatch):
    monkeypatch.setattr(shutil, "which", fake_which({("graphviz-pure", "beside"): "/venv/bin/graphviz-pure",
                                                     ("graphviz-pure", "path"): "/elsewhere/graphviz-pure"}))
    assert find_dot() == "/venv/bin/graphviz-pure"


def test_find_dot_falls_back_to_graphviz_pure_on_path(monkeypatch):
    monkeypatch.setattr(shutil, "which", fake_which({("graphviz-pure", "path"): "/elsewhere/graphviz-pure"}))
    assert find_dot() == "/elsewhere/graphviz-pure"


def test_without_any_renderer_the_source_is_still_built_and_rendering_says_what_to_install(
        monkeypatch, tmp_path, xwb):
    monkeypatch.setattr(shutil, "which", fake_which({}))
    assert find_dot() is None
    *_, y = xwb
    dot = draw_graph(y)
    assert dot.source.startswith("digraph") and "<B>Mul</B>" in dot.source
    hint = "pip install graphviz-pure (or the project's viz extra) or install Graphviz"
    with pytest.raises(RuntimeError, match=re.escape(hint)):
        render(dot, tmp_path / "graph.png")
    with pytest.raises(RuntimeError, match=re.escape(hint)):
        dot.render(tmp_path / "graph", format="png")
    with pytest.raises(RuntimeError, match=re.escape(hint)):
        dot.pipe(format="svg")
    assert hint in dot._repr_mimebundle_()["text/plain"]       # Jupyter shows the hint and the source
    assert not any(tmp_path.iterdir())


def png_size(data: bytes) -> tuple:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def graphviz_pure_only(monkeypatch):
    """Hide any system dot, so that the pip-installed graphviz-pure does the rendering."""
    exe = shutil.which("graphviz-pure", path=os.path.dirname(sys.executable)) or shutil.which("graphviz-pure")
    if exe is None:
        pytest.skip("graphviz-pure is not installed")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot" else REAL_WHICH(name, *a, **k))
    assert find_dot() == exe
    return exe


def test_render_writes_png_and_svg_with_graphviz_pure(graphviz_pure_only, tmp_path, xwb):
    *_, y = xwb
    y.backward()
    dot = draw_graph(y, color_by="grad")
    png = render(dot, tmp_path / "graph.png")
    assert png == str(tmp_path / "graph.png")
    width, height = png_size(open(png, "rb").read())
    assert width > 200 and height > 100
    svg = render(dot, tmp_path / "graph", format="svg")
    assert svg.endswith("graph.svg")
    text = open(svg, encoding="utf-8").read()
    assert "<svg" in text and "Mul" in text
    assert render(dot.source, tmp_path / "from_source").endswith("from_source.png")   # DOT text works too


def test_the_digraph_renders_and_pipes_through_graphviz_pure(graphviz_pure_only, tmp_path, xwb):
    *_, y = xwb
    dot = draw_graph(y)
    path = dot.render(str(tmp_path / "graph"), format="png")
    width, _ = png_size(open(path, "rb").read())
    assert width > 200
    assert dot.pipe(format="svg").lstrip().startswith(b"<?xml")
    bundle = dot._repr_mimebundle_()                          # what Jupyter displays inline
    assert "<svg" in bundle["image/svg+xml"]


@needs_renderer
def test_render_reports_graphviz_errors(tmp_path):
    with pytest.raises(RuntimeError, match="failed"):
        render("digraph { a -> }", tmp_path / "broken.png")


def formats_listed_by(executable: str) -> list:
    """What a Graphviz executable says it writes: `-T?` makes both dot and graphviz-pure list them."""
    done = subprocess.run([executable, "-T?"], input=b"", capture_output=True)
    listed = re.search(r"Use one of: (.*)", done.stderr.decode())
    assert listed, done.stderr
    return listed.group(1).split()


@pytest.fixture(params=["found", "graphviz-pure"])
def renderer(request, monkeypatch):
    """The executable find_dot() chooses (a system dot where there is one), then graphviz-pure alone."""
    if request.param == "graphviz-pure":
        return request.getfixturevalue("graphviz_pure_only")
    if find_dot() is None:
        pytest.skip("needs dot or graphviz-pure")
    return find_dot()


def test_a_graph_renders_to_pdf_or_the_error_says_which_formats_work_and_how_to_get_pdf(renderer, tmp_path, xwb):
    *_, y = xwb
    dot = draw_graph(y)
    writes = formats_listed_by(renderer)
    attempts = {"Digraph.render": lambda: dot.render(str(tmp_path / "slide"), format="pdf"),
                "render": lambda: render(dot, tmp_path / "slide2.pdf"),
                "Digraph.pipe": lambda: dot.pipe(format="pdf")}
    for how, attempt in attempts.items():
        if "pdf" in writes:
            result = attempt()
            data = result if isinstance(result, bytes) else open(result, "rb").read()
            assert data.startswith(b"%PDF"), how
            continue
        with pytest.raises(RuntimeError) as info:
            attempt()
        message = str(info.value)
        assert "cannot write PDF" in message, how
        assert "png" in message and "svg" in message              # the formats that do work
        assert "Graphviz" in message and "https://graphviz.org/download/" in message
        assert 'format="svg"' in message and "vector" in message  # the way to PDF-like slides now
    if "pdf" not in writes:
        assert not (tmp_path / "slide.pdf").exists() and not (tmp_path / "slide2.pdf").exists()


def test_graphviz_pure_is_asked_for_svg_and_png_only_where_it_writes_them(graphviz_pure_only):
    writes = formats_listed_by(graphviz_pure_only)
    assert {"png", "svg"} <= set(writes)                     # what draw_graph's users rely on


@needs_renderer
def test_render_draws_bitmaps_at_the_dpi_asked_and_keeps_a_graphs_own_dpi(tmp_path, xwb):
    *_, y = xwb
    dot = draw_graph(y, legend=False)
    sharp = png_size(open(render(dot, tmp_path / "sharp.png"), "rb").read())          # 144 dpi
    screen = png_size(open(render(dot, tmp_path / "screen.png", dpi=72), "rb").read())
    assert sharp[0] == pytest.approx(2 * screen[0], rel=0.05)
    dot.attr(dpi="72")
    own = png_size(open(render(dot, tmp_path / "own.png"), "rb").read())
    assert own == screen
    with pytest.raises(ValueError, match="dpi"):
        render(dot, tmp_path / "bad.png", dpi=0)


# ----------------------------------------------------------------------------- explain_backward

def test_backward_steps_follow_the_chain_rule_for_x_times_w_plus_b():
    x = Tensor(3.0, requires_grad=True, name="x")
    w = Tensor(2.0, requires_grad=True, name="w")
    b = Tensor(1.0, requires_grad=True, name="b")
    y = (x * w + b) * 0.5                         # L = (x w + b) / 2, so dL/d(xw+b) = 0.5
    steps = list(backward_steps(y))
    assert [s.op for s in steps] == ["Mul", "Add", "Mul"]
    grads = {item.name: float(item.grad) for s in steps for item in s.inputs}
    assert grads == {"z2": 0.5, "z1": 0.5, "b": 0.5, "x": 0.5 * 2.0, "w": 0.5 * 3.0}
    mul = steps[2]
    assert float(mul.grad_output) == 0.5
    assert {item.name: float(item.local) for item in mul.inputs} == {"x": 2.0, "w": 3.0}   # dz/dx = w, dz/dw = x
    y.backward()
    assert grads["x"] == x.grad.item() and grads["w"] == w.grad.item() and grads["b"] == b.grad.item()


def test_a_step_prints_the_chain_rule_with_numbers():
    x = Tensor(3.0, requires_grad=True, name="x")
    w = Tensor(2.0, requires_grad=True, name="w")
    b = Tensor(1.0, requires_grad=True, name="b")
    z = x * w
    z.name = "z"
    y = (z + b) * 0.5
    text = str(list(backward_steps(y))[-1])
    assert text.splitlines()[0] == "step 3  Mul: z = Mul(x, w)"
    assert "dL/dx = dL/dz * dz/dx = 0.5 * 2 = 1      (dz/dx = w)" in text
    assert "dL/dw = dL/dz * dz/dw = 0.5 * 3 = 1.5      (dz/dw = x)" in text


def test_explain_backward_prints_every_step_and_the_whole_chain_for_each_leaf(capsys):
    x = Tensor(2.0, name="x")
    w = Tensor(0.5, requires_grad=True, name="w")
    b = Tensor(0.1, requires_grad=True, name="b")
    z = x * w + b
    z.name = "z"
    y_hat = z.sigmoid()
    y_hat.name = "p"
    loss = (y_hat - 1.0) ** 2
    explain_backward(loss)
    out = capsys.readouterr().out
    for op in ("Pow", "Sub", "Sigmoid", "Add", "Mul"):
        assert f"  {op}: " in out
    s = 1 / (1 + np.exp(-1.1))
    dw = 2 * (s - 1) * s * (1 - s) * 2.0                     # dL/dp * dp/dz * dz/dw, by hand
    chain = re.search(r"dL/dw = (dL/dz2 \* dz2/dp \* dp/dz \* dz/dz1 \* dz1/dw) = (.*) = (\S+)", out)
    assert chain is not None
    assert float(chain.group(3)) == pytest.approx(dw, rel=1e-3)
    assert np.prod([float(v) for v in chain.group(2).split(" * ")]) == pytest.approx(dw, rel=1e-3)
    loss.backward()
    assert w.grad.item() == pytest.approx(dw, rel=1e-5)


def test_ops_that_mix_elements_show_their_gradient_formula():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], name="x")
    w = Tensor([[0.5], [-1.0]], requires_grad=True, name="w")
    loss = (x @ w).sum()
    step = list(backward_steps(loss))[-1]
    assert step.op == "MatMul"
    assert "dL/dw = xᵀ @ dL/dz1 = [[4], [6]]" in str(step)
    loss.backward()
    np.testing.assert_allclose(step.inputs[0].grad, w.grad.numpy())


def test_big_tensors_are_summarised_by_shape_and_norm():
    w = Tensor(np.ones((10, 10), dtype=np.float32), requires_grad=True, name="w")
    text = str(list(backward_steps((w * 2.0).sum()))[-1])
    assert "<(10, 10) array, norm 20>" in text


def test_explain_backward_changes_nothing_in_the_graph():
    x = Tensor([1.0, -2.0], requires_grad=True)
    loss = (x * x).sum()
    list(backward_steps(loss))
    assert x.grad is None
    loss.backward()                                            # the saved arrays are still there
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])


def test_explain_backward_after_a_freeing_backward_says_what_to_do():
    x = Tensor([1.0, -2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        explain_backward(loss)


def test_explain_backward_works_after_backward_with_retain_graph(capsys):
    x = Tensor([1.0, -2.0], requires_grad=True, name="x")
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    explain_backward(loss)
    assert "dL/dx = [1, -2] + [1, -2] = [2, -4]" in capsys.readouterr().out    # x is used twice
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0])    # untouched by the explanation


def test_explain_backward_replays_the_pass_through_autograds_own_steps(monkeypatch):
    called = []
    for step in ("seed_gradient", "call_backward", "fit_gradient"):
        real = getattr(autograd, step)

        def spy(*args, _real=real, _step=step, **kwargs):
            called.append((_step, kwargs.get("caller")))
            return _real(*args, **kwargs)
        monkeypatch.setattr(autograd, step, spy)
    b = Tensor([1.0, 2.0], requires_grad=True, name="b")
    list(backward_steps((Tensor(np.ones((3, 2))) * b).sum()))
    assert called[0] == ("seed_gradient", "explain_backward")
    assert {name for name, _ in called} == {"seed_gradient", "call_backward", "fit_gradient"}


class _NoReturn(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        grad * 2                                   # the student forgot `return`


class _TooShort(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad[:1]


@pytest.mark.parametrize("fn", [_NoReturn, _TooShort])
def test_explain_backward_refuses_a_broken_backward_with_the_engines_own_words(fn):
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as engine:
        fn.apply(x).sum().backward()
    with pytest.raises(RuntimeError) as explained:
        explain_backward(fn.apply(x).sum())
    assert str(explained.value) == str(engine.value)
    assert fn.__name__ + ".backward returned" in str(engine.value)


def test_explain_backward_checks_grad_like_backward_does():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    for grad in (None, np.ones(3), "ones"):
        with pytest.raises(Exception) as engine:
            y.backward(grad)
        with pytest.raises(type(engine.value)) as explained:
            explain_backward(y, grad)
        assert str(explained.value) == "explain_" + str(engine.value)     # "explain_backward: ..." vs "backward: ..."


def test_explain_backward_still_imports_from_its_old_home_in_graph():
    import visualize.explain
    import visualize.graph
    for name in ("explain_backward", "backward_steps", "BackwardStep", "InputGradient"):
        assert getattr(visualize.graph, name) is getattr(visualize.explain, name)
    with pytest.raises(AttributeError):
        visualize.graph.explain_backwards                 # a typo is an error, not None


@needs_renderer
def test_explain_backward_renders_one_png_per_step_with_the_active_node(tmp_path, capsys):
    x = Tensor(3.0, requires_grad=True, name="x")
    w = Tensor(2.0, requires_grad=True, name="w")
    y = (x * w).relu()
    explain_backward(y, render_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["step_01_ReLU.png", "step_02_Mul.png"]
    assert png_size((tmp_path / files[0]).read_bytes())[0] > 200
    step = list(backward_steps(y))[1]
    dot = step.draw()
    active = [n for n, a in nodes_of(dot).items() if "active" in css_class(a)]
    assert active == [node_id(step.node)]
    assert "step 2  Mul" in dot.source


def test_the_readme_quotes_explain_backward_as_it_prints(capsys):
    section = README.read_text(encoding="utf-8").split("## See backpropagation", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    quoted = [line[2:] for line in block.splitlines() if line.startswith("# ") and line != "# ..."]
    assert len(quoted) >= 3
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    for line in quoted:
        assert line in printed, f"the README quotes a line explain_backward does not print: {line!r}"


def test_draw_graph_and_explain_on_each_device(device):
    x = Tensor([1.0, 2.0], requires_grad=True, device=device, name="x")
    loss = (x * 3.0).sum()
    steps = list(backward_steps(loss))
    loss.backward()
    nodes = nodes_of(draw_graph(loss, color_by="grad"))
    assert "[1, 2]" in nodes[node_id(x)] and "[3, 3]" in nodes[node_id(x)]
    np.testing.assert_allclose(steps[-1].inputs[0].grad, x.grad.numpy())
