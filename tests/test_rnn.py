"""The recurrent layers of notebook 14: nn.RNN, nn.LSTM, nn.GRU and nn.RNNCell, nn.LSTMCell,
nn.GRUCell, against torch.nn 2.13 with copied weights.

Each case runs the same input through tinygrad_edu and torch and compares the output, the final
states and the gradients (backpropagation through time) of the input, of the initial states and
of every parameter, for a random upstream gradient on every output. LSTM and GRU run both ways a
step can be recorded: the lecture's graph of small ops (one_node=False) and one node per layer or
cell (functions/rnn.py, the default); float64 gradchecks check both against central differences.
The rest: state_dict names, shapes and order, the initialisation, dropout between layers, the
conversion to and from torch, save / load, the errors, and a GPU training step without host copies.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch

import tinygrad_edu
from tinygrad_edu import Tensor, gradcheck, nn, optim
from tinygrad_edu.functions.rnn import GRUSequence, GRUStep, LSTMSequence, LSTMStep
from tinygrad_edu.serialization import from_torch, load, save, to_torch

from .conftest import assert_close, upstream_gradient

pytestmark = [pytest.mark.lecture_rnn]

INPUT, HIDDEN, LENGTH, BATCH = 4, 5, 6, 3
TOL = {"float32": dict(rtol=1e-4, atol=2e-5), "float64": dict(rtol=1e-9, atol=1e-11)}
TORCH_DTYPE = {"float32": torch.float32, "float64": torch.float64}
ONE_NODE = {"RNN": [True], "LSTM": [True, False], "GRU": [True, False],
            "RNNCell": [True], "LSTMCell": [True, False], "GRUCell": [True, False]}


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def copy_state(ours, theirs) -> None:
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def twins(kind: str, dtype: str = "float32", device: str = "cpu", size=(INPUT, HIDDEN), **options):
    """The same layer in torch.nn and in tinygrad_edu.nn, with torch's weights copied over."""
    theirs = getattr(torch.nn, kind)(*size, **options, dtype=TORCH_DTYPE[dtype])
    ours = getattr(nn, kind)(*size, **options, dtype=np.dtype(dtype)).to(device)
    copy_state(ours, theirs)
    return ours, theirs


def states_of(result) -> list:
    """[h] or [h, c] from what a layer returns besides its output (or what a cell returns)."""
    return list(result) if isinstance(result, tuple) else [result]


def as_hx(tensors: list, kind: str):
    """The initial state argument: h, or the pair (h, c) for the LSTM and the LSTMCell."""
    if not tensors:
        return None
    return tuple(tensors) if kind.startswith("LSTM") else tensors[0]


def compare(ours, theirs, kind: str, x: np.ndarray, initial: list, device: str, dtype: str) -> None:
    """Run both, compare every output, then backward a random gradient of every output and compare
    the gradients of the input, the initial states and every parameter."""
    tol = TOL[dtype]
    ours.zero_grad()
    theirs.zero_grad()
    ours_x, theirs_x = Tensor(x, requires_grad=True, device=device), torch.tensor(x, requires_grad=True)
    ours_h = [Tensor(s, requires_grad=True, device=device) for s in initial]
    theirs_h = [torch.tensor(s, requires_grad=True) for s in initial]
    is_cell = kind.endswith("Cell")
    ours_result, theirs_result = ours(ours_x, as_hx(ours_h, kind)), theirs(theirs_x, as_hx(theirs_h, kind))
    if is_cell:
        ours_outputs, theirs_outputs = states_of(ours_result), states_of(theirs_result)
    else:
        ours_outputs = [ours_result[0]] + states_of(ours_result[1])
        theirs_outputs = [theirs_result[0]] + states_of(theirs_result[1])
    assert len(ours_outputs) == len(theirs_outputs)
    ours_loss, theirs_loss = 0, 0
    for k, (mine, reference) in enumerate(zip(ours_outputs, theirs_outputs)):
        assert mine.dtype == np.dtype(dtype), f"output {k} is {mine.dtype}"
        assert_close(mine.detach().numpy(), reference.detach().numpy(), f"output {k}", **tol)
        g = upstream_gradient(tuple(reference.shape), dtype, seed=k + 1)
        ours_loss = ours_loss + (mine * Tensor(g, device=device)).sum()
        theirs_loss = theirs_loss + (reference * torch.from_numpy(g)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "input gradient", **tol)
    for k, (mine, reference) in enumerate(zip(ours_h, theirs_h)):
        assert_close(mine.grad.numpy(), reference.grad.numpy(), f"gradient of initial state {k}", **tol)
    theirs_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), f"gradient of {name}", **tol)


# ============================================================================ the layers against torch

LAYER_CASES = [
    ("RNN", dict()), ("RNN", dict(nonlinearity="relu")), ("RNN", dict(num_layers=2)),
    ("RNN", dict(batch_first=True)), ("RNN", dict(bidirectional=True)), ("RNN", dict(bias=False)),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True, batch_first=True)),
]
for _kind in ("LSTM", "GRU"):
    LAYER_CASES += [(_kind, dict()), (_kind, dict(num_layers=2)), (_kind, dict(batch_first=True)),
                    (_kind, dict(bidirectional=True)), (_kind, dict(bias=False)),
                    (_kind, dict(num_layers=2, bidirectional=True, batch_first=True, bias=False))]


def case_id(case) -> str:
    kind, options = case
    return kind + "-" + (",".join(f"{k}={v}" for k, v in options.items()) or "defaults")


def layer_input(options: dict, batched: bool, dtype: str, seed: int = 0) -> np.ndarray:
    shape = (LENGTH, INPUT) if not batched else (BATCH, LENGTH, INPUT) if options.get("batch_first") \
        else (LENGTH, BATCH, INPUT)
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def initial_states(kind: str, options: dict, batched: bool, dtype: str, seed: int = 10) -> list:
    rng = np.random.default_rng(seed)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    shape = (layers, BATCH, HIDDEN) if batched else (layers, HIDDEN)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(2 if kind == "LSTM" else 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=case_id)
def test_a_layer_matches_torch_forward_and_backward_through_time(case, with_state, dtype, device):
    kind, options = case
    ours, theirs = twins(kind, dtype, device, **options)
    x = layer_input(options, True, dtype)
    initial = initial_states(kind, options, True, dtype) if with_state else []
    for one_node in ONE_NODE[kind]:
        ours.one_node = one_node
        compare(ours, theirs, kind, x, initial, device, dtype)


@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
@pytest.mark.parametrize("case", [("RNN", dict()), ("LSTM", dict()), ("GRU", dict()),
                                  ("RNN", dict(num_layers=2, bidirectional=True, batch_first=True)),
                                  ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
                                  ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True))], ids=case_id)
def test_an_unbatched_sequence_of_shape_l_by_input_matches_torch(case, with_state, device):
    kind, options = case
    ours, theirs = twins(kind, "float64", device, **options)
    x = layer_input(options, False, "float64")
    initial = initial_states(kind, options, False, "float64") if with_state else []
    for one_node in ONE_NODE[kind]:
        ours.one_node = one_node
        compare(ours, theirs, kind, x, initial, device, "float64")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batched, batch_first", [(True, False), (True, True), (False, False), (False, True)],
                         ids=["(L,N,in)", "batch_first(N,L,in)", "unbatched(L,in)", "unbatched+batch_first"])
def test_output_and_state_shapes_are_torchs(kind, batched, batch_first):
    options = dict(num_layers=3, bidirectional=True, batch_first=batch_first)
    ours, theirs = twins(kind, **options)
    x = layer_input(options, batched, "float32")
    ours_output, ours_state = ours(Tensor(x))
    theirs_output, theirs_state = theirs(torch.tensor(x))
    assert ours_output.shape == tuple(theirs_output.shape)
    for mine, reference in zip(states_of(ours_state), states_of(theirs_state)):
        assert mine.shape == tuple(reference.shape)
    expected = (BATCH, LENGTH, 2 * HIDDEN) if batched and batch_first else \
        (LENGTH, BATCH, 2 * HIDDEN) if batched else (LENGTH, 2 * HIDDEN)
    assert ours_output.shape == expected


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_h_n_is_the_last_output_forward_and_the_first_output_backward(kind):
    layer = getattr(nn, kind)(INPUT, HIDDEN, bidirectional=True)
    output, state = layer(Tensor(layer_input({}, True, "float32")))
    h_n = states_of(state)[0]
    np.testing.assert_array_equal(h_n[0].detach().numpy(), output[-1, :, :HIDDEN].detach().numpy())
    np.testing.assert_array_equal(h_n[1].detach().numpy(), output[0, :, HIDDEN:].detach().numpy())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_the_gradient_of_the_last_output_reaches_the_first_time_step_as_in_torch(kind):
    ours, theirs = twins(kind, "float64", num_layers=2)
    x = layer_input({}, True, "float64")
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs(theirs_x)[0][-1].sum().backward()
    for one_node in ONE_NODE[kind]:
        ours.one_node = one_node
        ours_x = Tensor(x, requires_grad=True)
        ours(ours_x)[0][-1].sum().backward()
        first = ours_x.grad.numpy()[0]
        assert np.abs(first).max() > 1e-6                  # backpropagation through time, 5 steps back
        assert_close(ours_x.grad.numpy(), theirs_x.grad.numpy(), "input gradient", **TOL["float64"])


# ============================================================================ the cells against torch

CELL_CASES = [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu")), ("RNNCell", dict(bias=False)),
              ("LSTMCell", dict()), ("LSTMCell", dict(bias=False)), ("GRUCell", dict()), ("GRUCell", dict(bias=False))]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batched", [True, False], ids=["(N,in)", "unbatched(in,)"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "given_state"])
@pytest.mark.parametrize("case", CELL_CASES, ids=case_id)
def test_a_cell_matches_torch_forward_and_backward(case, with_state, batched, dtype, device):
    kind, options = case
    ours, theirs = twins(kind, dtype, device, **options)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((BATCH, INPUT) if batched else (INPUT,)).astype(dtype)
    state_shape = (BATCH, HIDDEN) if batched else (HIDDEN,)
    count = 2 if kind == "LSTMCell" else 1
    initial = [rng.standard_normal(state_shape).astype(dtype) for _ in range(count)] if with_state else []
    for one_node in ONE_NODE[kind]:
        ours.one_node = one_node
        compare(ours, theirs, kind, x, initial, device, dtype)


def test_a_cell_unrolled_by_hand_gives_the_layers_output():
    cell, layer = nn.LSTMCell(INPUT, HIDDEN, dtype=np.float64), nn.LSTM(INPUT, HIDDEN, dtype=np.float64)
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = Tensor(layer_input({}, True, "float64"))
    h = c = Tensor.zeros(BATCH, HIDDEN, dtype=np.float64)
    for t in range(LENGTH):
        h, c = cell(x[t], (h, c))
    output, (h_n, c_n) = layer(x)
    assert_close(h.detach().numpy(), output[-1].detach().numpy(), "h")
    assert_close(c.detach().numpy(), c_n[0].detach().numpy(), "c")


# ============================================================================ one node = the lecture's graph

def graph_nodes(tensor: Tensor) -> set:
    names, stack, seen = set(), [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node).__name__)
        stack.extend(p.grad_fn for p in node.parents if isinstance(p, Tensor))
    return names


@pytest.mark.parametrize("kind, node", [("LSTM", LSTMSequence), ("GRU", GRUSequence),
                                        ("LSTMCell", LSTMStep), ("GRUCell", GRUStep)])
def test_one_node_records_one_function_where_the_lecture_records_its_ops(kind, node):
    layer = getattr(nn, kind)(INPUT, HIDDEN)
    x = Tensor(layer_input({}, True, "float32")[0 if kind.endswith("Cell") else slice(None)])
    fast = states_of(layer(x))[0]
    layer.one_node = False
    plain = states_of(layer(x))[0]
    assert node.__name__ in graph_nodes(fast) and "Sigmoid" not in graph_nodes(fast)
    assert node.__name__ not in graph_nodes(plain) and {"Sigmoid", "Tanh", "Mul"} <= graph_nodes(plain)


@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True, batch_first=True, bias=False)],
                         ids=["defaults", "2-layer,bidirectional,batch_first,no_bias"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_one_node_and_the_lecture_graph_give_the_same_numbers(kind, options, device):
    layer = getattr(nn, kind)(INPUT, HIDDEN, **options, dtype=np.float64).to(device)
    x_data = layer_input(options, True, "float64")
    results = []
    for one_node in (True, False):
        layer.one_node = one_node
        layer.zero_grad()
        x = Tensor(x_data, requires_grad=True, device=device)
        output, state = layer(x)
        loss = (output * Tensor(upstream_gradient(output.shape, np.float64), device=device)).sum()
        for k, s in enumerate(states_of(state)):
            loss = loss + (s * Tensor(upstream_gradient(s.shape, np.float64, seed=k + 2), device=device)).sum()
        loss.backward()
        results.append([output.detach().numpy(), *[s.detach().numpy() for s in states_of(state)],
                        x.grad.numpy(), *[p.grad.numpy() for p in layer.parameters()]])
    for fast, plain in zip(*results):
        assert_close(fast, plain, rtol=1e-12, atol=1e-13)


def test_the_one_node_sigmoid_does_not_overflow_where_exp_would():
    cell = nn.LSTMCell(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # an overflow in exp would be a RuntimeWarning
        h, c = cell(Tensor([[-1e4], [1e4]]))
    assert np.isfinite(h.detach().numpy()).all() and np.isfinite(c.detach().numpy()).all()


# ============================================================================ gradchecks (float64)

def _cell_output(cell, kind):
    def run(x, *state_and_params):
        states = list(state_and_params[:2 if kind == "LSTMCell" else 1])
        result = states_of(cell(x, as_hx(states, kind)))
        return Tensor.cat(result, axis=-1)
    return run


@pytest.mark.parametrize("one_node", [True, False], ids=["one_node", "lecture_graph"])
@pytest.mark.parametrize("kind, options", [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu")),
                                           ("LSTMCell", dict()), ("GRUCell", dict()), ("GRUCell", dict(bias=False))],
                         ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={x}" for k, x in v.items()))
def test_each_cell_passes_a_float64_gradcheck(kind, options, one_node):
    cell = getattr(nn, kind)(3, 2, **options, dtype=np.float64)
    cell.one_node = one_node
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    states = [Tensor(rng.standard_normal((2, 2)), requires_grad=True) for _ in range(2 if kind == "LSTMCell" else 1)]
    assert gradcheck(_cell_output(cell, kind), x, *states, *cell.parameters())


@pytest.mark.parametrize("one_node", [True, False], ids=["one_node", "lecture_graph"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_two_layer_bidirectional_layer_passes_a_float64_gradcheck(kind, one_node):
    layer = getattr(nn, kind)(2, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    layer.one_node = one_node
    rng = np.random.default_rng(6)
    x = Tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    states = [Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True) for _ in range(2 if kind == "LSTM" else 1)]

    def run(x, *state_and_params):
        output, final = layer(x, as_hx(list(state_and_params[:len(states)]), kind))
        return Tensor.cat([output.reshape(-1)] + [s.reshape(-1) for s in states_of(final)])

    assert gradcheck(run, x, *states, *layer.parameters())


# ============================================================================ parameters, names, init

STATE_DICT_CASES = [("RNN", dict()), ("RNN", dict(num_layers=3, bidirectional=True, nonlinearity="relu")),
                    ("LSTM", dict(num_layers=2, bidirectional=True)), ("LSTM", dict(num_layers=2, bias=False)),
                    ("GRU", dict(bidirectional=True, bias=False)), ("GRU", dict(num_layers=3)),
                    ("RNNCell", dict()), ("RNNCell", dict(bias=False)), ("LSTMCell", dict()), ("GRUCell", dict())]


@pytest.mark.parametrize("case", STATE_DICT_CASES, ids=case_id)
def test_state_dict_names_shapes_and_order_and_the_repr_are_torchs(case):
    kind, options = case
    ours, theirs = getattr(nn, kind)(7, 6, **options), getattr(torch.nn, kind)(7, 6, **options)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [v.shape for v in ours_sd.values()] == [tuple(v.shape) for v in theirs_sd.values()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    for attr in ("input_size", "hidden_size", "bias", "num_layers", "batch_first", "dropout", "bidirectional",
                 "nonlinearity"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_all_weights_lists_each_layer_and_directions_parameters_like_torch():
    options = dict(num_layers=2, bidirectional=True)
    ours, theirs = nn.LSTM(3, 4, **options), torch.nn.LSTM(3, 4, **options)
    assert [[p.shape for p in group] for group in ours.all_weights] == \
        [[tuple(p.shape) for p in group] for group in theirs.all_weights]
    assert ours.all_weights[1][0] is ours.weight_ih_l0_reverse
    ours.flatten_parameters()                            # torch's cuDNN packing: nothing to do here


def test_cell_signatures_are_torchs():
    def signature(obj):
        return [(p.name, p.default) for p in inspect.signature(obj).parameters.values()]
    for kind in ("RNNCell", "LSTMCell", "GRUCell"):
        assert signature(getattr(nn, kind)) == signature(getattr(torch.nn, kind)), kind
        assert signature(getattr(nn, kind).forward) == signature(getattr(torch.nn, kind).forward), kind


def test_the_layer_signatures_have_torchs_names_order_and_defaults():
    # torch.nn.RNN/LSTM/GRU take *args, **kwargs; their documented signatures are these
    expected = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
                "device", "dtype"]
    for kind in ("LSTM", "GRU"):
        assert list(inspect.signature(getattr(nn, kind)).parameters) == expected
    assert list(inspect.signature(nn.RNN).parameters) == expected[:3] + ["nonlinearity"] + expected[3:]
    defaults = {n: p.default for n, p in inspect.signature(nn.RNN).parameters.items()}
    assert defaults == dict(input_size=inspect.Parameter.empty, hidden_size=inspect.Parameter.empty, num_layers=1,
                            nonlinearity="tanh", bias=True, batch_first=False, dropout=0.0, bidirectional=False,
                            device=None, dtype=None)
    relu = nn.RNN(3, 4, 1, "relu")                       # torch's positional order
    assert relu.nonlinearity == "relu" and torch.nn.RNN(3, 4, 1, "relu").nonlinearity == "relu"


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_every_parameter_starts_uniform_in_plus_minus_one_over_root_hidden_like_torch(kind):
    hidden = 64
    bound = 1 / np.sqrt(hidden)
    layer = getattr(nn, kind)(16, hidden)
    for name, p in layer.named_parameters():
        values = p.detach().numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.9 * bound and abs(values.mean()) < 0.1 * bound, name
    another = getattr(nn, kind)(16, hidden)
    for (name, p), q in zip(layer.named_parameters(), another.parameters()):
        assert not np.array_equal(p.detach().numpy(), q.detach().numpy()), f"{name} is drawn, not fixed"


def test_dtype_and_device_arguments_make_the_parameters_so(device):
    layer = nn.GRU(3, 4, num_layers=2, dtype=np.float64, device=device)
    assert {p.dtype for p in layer.parameters()} == {np.dtype(np.float64)}
    assert {p.device for p in layer.parameters()} == {device}


def test_an_input_of_another_float_dtype_is_converted_to_the_weights_dtype_as_linear_does():
    layer = nn.LSTM(3, 4)
    output, (h, c) = layer(Tensor(np.ones((2, 1, 3))), (Tensor(np.zeros((1, 1, 4))), Tensor(np.zeros((1, 1, 4)))))
    assert output.dtype == np.float32 and h.dtype == np.float32 and c.dtype == np.float32


# ============================================================================ dropout between layers

@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_in_eval_mode_changes_nothing_and_matches_torch(kind):
    options = dict(num_layers=3, dropout=0.5, bidirectional=True)
    ours, theirs = twins(kind, "float64", **options)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, kind, layer_input(options, True, "float64"), [], "cpu", "float64")


@pytest.mark.parametrize("one_node", [True, False], ids=["one_node", "lecture_graph"])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_one_in_training_zeroes_every_input_of_the_upper_layers_as_in_torch(kind, one_node):
    options = dict(num_layers=2, dropout=1.0)
    ours, theirs = twins(kind, "float64", **options)
    ours.one_node = one_node
    compare(ours, theirs, kind, layer_input(options, True, "float64"), [], "cpu", "float64")


@pytest.mark.parametrize("one_node", [True, False], ids=["one_node", "lecture_graph"])
def test_dropout_in_training_is_random_between_layers_and_never_after_the_last(one_node):
    with pytest.warns(UserWarning, match="num_layers=1 does nothing"):
        single = nn.LSTM(INPUT, HIDDEN, dropout=0.9)
    x = Tensor(layer_input({}, True, "float32"))
    train, evaluated = single(x)[0].detach().numpy(), single.eval()(x)[0].detach().numpy()
    np.testing.assert_array_equal(train, evaluated)          # no dropout after the last layer

    stacked = nn.LSTM(INPUT, HIDDEN, num_layers=2, dropout=0.5)
    stacked.one_node = one_node
    first, second = stacked(x)[0].detach().numpy(), stacked(x)[0].detach().numpy()
    evaluated = stacked.eval()(x)[0].detach().numpy()
    assert not np.allclose(first, second) and not np.allclose(first, evaluated)
    tinygrad_edu.manual_seed(3)
    again = stacked.train()(x)[0].detach().numpy()
    tinygrad_edu.manual_seed(3)
    np.testing.assert_array_equal(stacked(x)[0].detach().numpy(), again)


# ============================================================================ to / from torch, save / load

MODELS = [("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
          ("LSTM", dict(num_layers=2, batch_first=True, dropout=0.25)), ("GRU", dict(bias=False, bidirectional=True)),
          ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", dict(bias=False)), ("GRUCell", dict())]


def run_forward(layer, x, lib) -> list:
    """Every array a layer or cell returns, in order: [output, h_n (, c_n)], [h, c] or [h]."""
    with (torch.no_grad() if lib is torch else tinygrad_edu.no_grad()):
        result = layer(torch.tensor(x) if lib is torch else Tensor(x))
    parts = result if isinstance(result, tuple) else (result,)
    flat = [t for part in parts for t in (part if isinstance(part, tuple) else (part,))]
    return [t.detach().numpy() for t in flat]


def model_input(kind, options):
    return layer_input(options, True, "float32")[0] if kind.endswith("Cell") else layer_input(options, True, "float32")


@pytest.mark.parametrize("case", MODELS, ids=case_id)
def test_a_layer_goes_to_torch_and_back_with_its_weights_mode_and_flags(case):
    kind, options = case
    ours = getattr(nn, kind)(INPUT, HIDDEN, **options).eval()
    next(ours.parameters()).requires_grad_(False)              # a frozen weight stays frozen
    theirs = to_torch(ours)
    assert type(theirs) is getattr(torch.nn, kind) and repr(theirs) == repr(ours) and not theirs.training
    assert list(theirs.state_dict()) == list(ours.state_dict())
    assert [p.requires_grad for p in theirs.parameters()] == [p.requires_grad for p in ours.parameters()]
    assert getattr(theirs, "nonlinearity", None) == getattr(ours, "nonlinearity", None)
    x = model_input(kind, options)
    for mine, reference in zip(run_forward(ours, x, tinygrad_edu), run_forward(theirs, x, torch)):
        assert_close(mine, reference, rtol=1e-5, atol=1e-6)
    back = from_torch(theirs)
    assert type(back) is type(ours) and repr(back) == repr(ours) and not back.training
    assert getattr(back, "nonlinearity", None) == getattr(ours, "nonlinearity", None)
    assert [p.requires_grad for p in back.parameters()] == [p.requires_grad for p in ours.parameters()]
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_a_float64_torch_lstm_converts_to_a_float64_layer_on_the_device(device):
    theirs = torch.nn.LSTM(3, 4, num_layers=2, dtype=torch.float64)
    ours = from_torch(theirs, device=device)
    assert {p.dtype for p in ours.parameters()} == {np.dtype(np.float64)}
    assert {p.device for p in ours.parameters()} == {device}
    assert next(to_torch(ours).parameters()).dtype == torch.float64


def test_an_lstm_with_projections_does_not_convert():
    with pytest.raises(TypeError, match=r"from_torch: cannot convert .*LSTM.*proj_size=2"):
        from_torch(torch.nn.LSTM(3, 4, proj_size=2))


@pytest.mark.parametrize("case", MODELS, ids=case_id)
def test_save_and_load_round_trip_and_the_file_loads_into_torch(case, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    kind, options = case
    ours = getattr(nn, kind)(INPUT, HIDDEN, **options).eval()
    save(ours.state_dict(), tmp_path / "rnn.safetensors")
    fresh = getattr(nn, kind)(INPUT, HIDDEN, **options).eval()
    fresh.load_state_dict(load(tmp_path / "rnn.safetensors"))
    x = model_input(kind, options)
    for mine, again in zip(run_forward(ours, x, tinygrad_edu), run_forward(fresh, x, tinygrad_edu)):
        np.testing.assert_array_equal(mine, again)
    theirs = getattr(torch.nn, kind)(INPUT, HIDDEN, **options).eval()
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "rnn.safetensors")))
    for mine, reference in zip(run_forward(ours, x, tinygrad_edu), run_forward(theirs, x, torch)):
        assert_close(mine, reference, rtol=1e-5, atol=1e-6)


# ============================================================================ errors

@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.LSTM(0, 4), ValueError, r"LSTM: input_size must be a positive int, got 0"),
    (lambda: nn.GRU(3, -1), ValueError, r"GRU: hidden_size must be a positive int, got -1"),
    (lambda: nn.RNN(3, 4.0), TypeError, r"RNN: hidden_size must be a positive int, got float 4.0"),
    (lambda: nn.LSTM(3, 4, num_layers=0), ValueError, r"LSTM: num_layers must be a positive int, got 0"),
    (lambda: nn.LSTM(3, 4, num_layers=2, dropout=1.5), ValueError, r"LSTM: dropout .* in \[0, 1\]; got 1.5"),
    (lambda: nn.GRU(3, 4, num_layers=2, dropout="0.5"), TypeError, r"GRU: dropout must be a number"),
    (lambda: nn.LSTM(3, 4, bias=1), TypeError, r"LSTM: bias must be True or False, got int 1"),
    (lambda: nn.RNN(3, 4, batch_first="yes"), TypeError, r"RNN: batch_first must be True or False"),
    (lambda: nn.GRU(3, 4, bidirectional=None), TypeError, r"GRU: bidirectional must be True or False"),
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, r"RNN: nonlinearity must be 'tanh' or 'relu', "
                                                               r"got 'sigmoid'"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="gelu"), ValueError, r"RNNCell: nonlinearity must be 'tanh' or 'relu'"),
    (lambda: nn.LSTMCell(0, 4), ValueError, r"LSTMCell: input_size must be a positive int, got 0"),
    (lambda: nn.GRUCell(3, 4, bias="no"), TypeError, r"GRUCell: bias must be True or False"),
])
def test_bad_options_are_errors_naming_the_layer(call, error, message):
    with pytest.raises(error, match=message):
        call()


LSTM_NAME = r"LSTM\(4, 5, num_layers=2\)"


@pytest.mark.parametrize("args, error, message", [
    ((np.zeros((3, 6, 2, 4)),), ValueError,
     LSTM_NAME + r": expected an input of shape \(L, N, input_size\), or \(L, input_size\) for one unbatched "
                 r"sequence, got a 4-D input of shape \(3, 6, 2, 4\)"),
    ((np.zeros(4),), ValueError, LSTM_NAME + r": expected an input of shape .*got a 1-D input"),
    ((np.zeros((6, 2, 3)),), ValueError,
     LSTM_NAME + r": input of shape \(6, 2, 3\) has 3 features on its last axis, but input_size is 4"),
    ((np.zeros((0, 2, 4)),), ValueError, LSTM_NAME + r": input of shape \(0, 2, 4\) has no time steps"),
    ((np.zeros((6, 2, 4)), np.zeros((2, 2, 5))), TypeError,
     LSTM_NAME + r": the initial state must be a pair \(h_0, c_0\) of Tensors, got a Tensor"),
    ((np.zeros((6, 2, 4)), (np.zeros((2, 2, 5)),)), TypeError,
     LSTM_NAME + r": the initial state must be a pair \(h_0, c_0\) of Tensors, got a tuple of length 1"),
    ((np.zeros((6, 2, 4)), (np.zeros((1, 2, 5)), np.zeros((2, 2, 5)))), ValueError,
     LSTM_NAME + r": h_0 of shape \(1, 2, 5\) does not fit an input of shape \(6, 2, 4\): expected "
                 r"\(num_layers \* num_directions, N, hidden_size\) = \(2, 2, 5\)"),
    ((np.zeros((6, 2, 4)), (np.zeros((2, 2, 5)), np.zeros((2, 3, 5)))), ValueError,
     LSTM_NAME + r": c_0 of shape \(2, 3, 5\) does not fit"),
    ((np.zeros((6, 4)), (np.zeros((2, 1, 5)), np.zeros((2, 1, 5)))), ValueError,
     LSTM_NAME + r": h_0 of shape \(2, 1, 5\) does not fit an input of shape \(6, 4\): expected "
                 r"\(num_layers \* num_directions, hidden_size\) for an unbatched input = \(2, 5\)"),
    ((np.zeros((6, 2, 4), np.int64),), TypeError,
     LSTM_NAME + r": expected a float input, got int64; a sequence of token indices goes through nn.Embedding"),
])
def test_a_bad_input_or_initial_state_is_an_error_naming_the_layer_the_shapes_and_the_fix(args, error, message):
    layer = nn.LSTM(4, 5, num_layers=2)
    args = [tuple(Tensor(a) for a in arg) if isinstance(arg, tuple) else Tensor(arg) for arg in args]
    with pytest.raises(error, match=message):
        layer(*args)


def test_the_expected_layout_follows_batch_first_and_a_tuple_state_for_an_rnn_is_an_error():
    with pytest.raises(ValueError, match=r"GRU\(4, 5, batch_first=True\): expected an input of shape "
                                         r"\(N, L, input_size\)"):
        nn.GRU(4, 5, batch_first=True)(Tensor(np.zeros((2, 3, 4, 1))))
    with pytest.raises(ValueError, match=r"GRU\(4, 5, batch_first=True\): h_0 of shape \(1, 3, 5\) does not fit "
                                         r"an input of shape \(2, 3, 4\): .* = \(1, 2, 5\)"):
        nn.GRU(4, 5, batch_first=True)(Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((1, 3, 5))))
    with pytest.raises(TypeError, match=r"RNN\(4, 5\): the initial state is one Tensor h_0, not a tuple "
                                        r"\(only nn.LSTM takes a pair \(h_0, c_0\)\)"):
        nn.RNN(4, 5)(Tensor(np.zeros((2, 3, 4))), (Tensor(np.zeros((1, 3, 5))), Tensor(np.zeros((1, 3, 5)))))
    with pytest.raises(TypeError, match=r"RNN\(4, 5\): the input must be a Tensor, got ndarray"):
        nn.RNN(4, 5)(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("kind, args, error, message", [
    ("GRUCell", (np.zeros((2, 3, 4)),), ValueError,
     r"GRUCell\(4, 5\): expected an input of shape \(N, input_size\), or \(input_size,\) for one sample, got a "
     r"3-D input of shape \(2, 3, 4\)"),
    ("RNNCell", (np.zeros((2, 3)),), ValueError,
     r"RNNCell\(4, 5\): input of shape \(2, 3\) has 3 features on its last axis, but input_size is 4"),
    ("RNNCell", (np.zeros((2, 4)), np.zeros((3, 5))), ValueError,
     r"RNNCell\(4, 5\): hx of shape \(3, 5\) does not fit an input of shape \(2, 4\): expected "
     r"\(N, hidden_size\) = \(2, 5\)"),
    ("GRUCell", (np.zeros(4), np.zeros((1, 5))), ValueError,
     r"GRUCell\(4, 5\): hx of shape \(1, 5\) does not fit the unbatched input of shape \(4,\): expected "
     r"\(hidden_size,\) = \(5,\)"),
    ("LSTMCell", (np.zeros((2, 4)), np.zeros((2, 5))), TypeError,
     r"LSTMCell\(4, 5\): the state must be a pair \(h, c\) of Tensors, got Tensor"),
    ("LSTMCell", (np.zeros((2, 4)), (np.zeros((2, 5)), np.zeros((2, 4)))), ValueError,
     r"LSTMCell\(4, 5\): c of shape \(2, 4\) does not fit an input of shape \(2, 4\): expected "
     r"\(N, hidden_size\) = \(2, 5\)"),
])
def test_a_bad_input_or_state_of_a_cell_is_an_error_naming_the_cell(kind, args, error, message):
    cell = getattr(nn, kind)(4, 5)
    args = [tuple(Tensor(a) for a in arg) if isinstance(arg, tuple) else Tensor(arg) for arg in args]
    with pytest.raises(error, match=message):
        cell(*args)


def test_an_error_in_training_mode_leaves_the_random_stream_and_the_parameters_alone():
    layer = nn.LSTM(4, 5, num_layers=2, dropout=0.5)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    tinygrad_edu.manual_seed(7)
    expected = Tensor.rand(3).numpy()
    tinygrad_edu.manual_seed(7)
    with pytest.raises(ValueError, match="h_0 of shape"):
        layer(Tensor(np.zeros((6, 2, 4))), (Tensor(np.zeros((2, 3, 5))), Tensor(np.zeros((2, 3, 5)))))
    np.testing.assert_array_equal(Tensor.rand(3).numpy(), expected)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key], err_msg=key)


def test_an_input_on_another_device_is_a_runtime_error_naming_both(cuda):
    layer = nn.LSTM(4, 5)
    with pytest.raises(RuntimeError, match=r"LSTM\(4, 5\): expected all tensors to be on the same device, but "
                                           r"found tensors on cpu and cuda"):
        layer(Tensor(np.zeros((6, 2, 4)), device="cuda"))


# ============================================================================ training

def test_an_lstm_language_model_step_with_adam_matches_torch():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4, 6)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    models = {}
    for lib in (torch.nn, nn):
        models[lib] = (lib.LSTM(6, 7, num_layers=2), lib.Linear(7, 3))
    for ours, theirs in zip(models[nn], models[torch.nn]):
        copy_state(ours, theirs)
    ours_opt = optim.Adam([p for m in models[nn] for p in m.parameters()], lr=0.01)
    theirs_opt = torch.optim.Adam([p for m in models[torch.nn] for p in m.parameters()], lr=0.01)
    for _ in range(3):
        for (lstm, head), opt, tensor in ((models[nn], ours_opt, Tensor), (models[torch.nn], theirs_opt,
                                                                          torch.tensor)):
            opt.zero_grad()
            output, _ = lstm(tensor(x))
            loss = ((head(output[-1]) - tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
    for ours, theirs in zip(models[nn], models[torch.nn]):
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key].numpy(), value.numpy(), key, rtol=1e-4, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("one_node", [True, False], ids=["one_node", "lecture_graph"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_a_recurrent_training_step_on_cuda_makes_no_host_copy(kind, one_node, fake_cupy):
    layer = getattr(nn, kind)(4, 5, num_layers=2, dropout=0.2, bidirectional=True).to("cuda")
    layer.one_node = one_node
    head = nn.Linear(10, 2).to("cuda")
    opt = optim.Adam(list(layer.parameters()) + list(head.parameters()), lr=0.01)
    x = Tensor(layer_input({}, True, "float32"), device="cuda")

    def step():
        opt.zero_grad()
        output, _ = layer(x)
        head(output[-1]).sum().backward()
        opt.step()

    step()
    fake_cupy._fake_reset_sync_count()
    for _ in range(2):
        step()
    assert fake_cupy._fake_sync_count == 0
