"""The language lecture's layers against torch.nn 2.13: nn.Embedding, nn.LayerNorm,
F.scaled_dot_product_attention, nn.MultiheadAttention and nn.TransformerEncoderLayer.

The Functions under them (Embedding, LayerNorm) and the attention formula are checked one call at a
time by the op table (tests/reference/op_table.py): drawn shapes, float64 gradchecks and the domain
edges. This file checks what the table cannot see: the modules with weights copied from torch
(outputs and the gradients of every input and parameter, float32 and float64, for each option),
signatures, state_dict names and shapes, initialisation, train and eval mode with dropout, conversion
to and from torch, save / load, the errors a student meets, and that a GPU training step never waits
for the device (on "cuda", fake CuPy included).
"""
from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

import tinygrad_edu
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.functions import Embedding as EmbeddingFunction
from tinygrad_edu.functions import LayerNorm as LayerNormFunction
from tinygrad_edu.functions import MatMul, Softmax
from tinygrad_edu.serialization import from_torch, load, save, to_torch

from .conftest import upstream_gradient

pytestmark = [pytest.mark.lecture_nlp]

TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
DTYPES = [pytest.param(np.float32, id="float32"), pytest.param(np.float64, id="float64")]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def values(shape, seed=0, scale=1.0, dtype=np.float32):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def signature(obj) -> list:
    """(name, default, kind) of every parameter: torch's annotations aside."""
    return [(p.name, p.default, p.kind) for p in inspect.signature(obj).parameters.values()]


def twins(make_ours, make_theirs, device, dtype):
    """Our module and torch's, ours with a copy of torch's weights, both in `dtype`."""
    theirs = make_theirs().to(TORCH_DTYPE[dtype])
    ours = make_ours()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    ours.to(device)
    for name, p in ours.named_parameters():
        assert p.dtype == dtype, f"{name} is {p.dtype}, torch's is {dtype}"
    return ours, theirs


def as_torch(value):
    return torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value


def as_ours(value, device):
    return Tensor(value, device=device) if isinstance(value, np.ndarray) else value


def assert_close(ours, theirs, what, tol):
    ours = ours.detach().numpy() if isinstance(ours, Tensor) else ours
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape}, torch has {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype}, torch has {theirs.dtype}"
    np.testing.assert_allclose(ours, theirs, err_msg=what, equal_nan=True, **tol)


def check_call(ours, theirs, inputs, device, dtype, options=None, ours_module=None, theirs_module=None):
    """Call ours(*inputs, **options) and theirs(...) on the same arrays (the float ones require grad);
    compare the outputs (an output, or (output, weights)), then after backward of a random weighting
    of every output, the gradients of the float inputs and of every parameter of the modules."""
    options = options or {}
    tol = TOL[dtype]
    ours_in = [Tensor(a, requires_grad=a.dtype.kind == "f", device=device) if isinstance(a, np.ndarray) else a
               for a in inputs]
    theirs_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
                 for a in inputs]
    ours_out = ours(*ours_in, **{k: as_ours(v, device) for k, v in options.items()})
    theirs_out = theirs(*theirs_in, **{k: as_torch(v) for k, v in options.items()})
    ours_out = ours_out if isinstance(ours_out, tuple) else (ours_out,)
    theirs_out = theirs_out if isinstance(theirs_out, tuple) else (theirs_out,)
    ours_loss, theirs_loss = 0, 0
    for k, (o, t) in enumerate(zip(ours_out, theirs_out)):
        assert (o is None) == (t is None), f"output {k}: ours is {o!r}, torch's is {t!r}"
        if o is None:
            continue
        assert_close(o, t, f"output {k}", tol)
        g = upstream_gradient(tuple(t.shape), dtype, seed=k + 1)
        ours_loss = ours_loss + (o * Tensor(g, device=device)).sum()
        theirs_loss = theirs_loss + (t * torch.from_numpy(g)).sum()
    ours_loss.backward()
    theirs_loss.backward()
    for k, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert_close(o.grad, t.grad, f"gradient of input {k}", tol)
    ours_module = ours if ours_module is None else ours_module
    theirs_module = theirs if theirs_module is None else theirs_module
    if isinstance(ours_module, nn.Module):
        theirs_params = dict(theirs_module.named_parameters())
        assert [n for n, _ in ours_module.named_parameters()] == list(theirs_params)
        for name, p in ours_module.named_parameters():
            if theirs_params[name].grad is None:
                assert p.grad is None or not p.grad.numpy().any(), f"{name} has a gradient, torch's has none"
            else:
                assert_close(p.grad, theirs_params[name].grad, f"gradient of {name}", tol)
    return ours_out, theirs_out


def check_state_dict(ours, theirs):
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        assert ours_sd[key].shape == tuple(value.shape), key
        assert ours_sd[key].dtype == np.dtype(str(value.dtype).replace("torch.", "")), key


# ============================================================================ Embedding

def test_embedding_signatures_are_torchs():
    assert signature(nn.Embedding) == signature(torch.nn.Embedding)
    assert signature(nn.Embedding.from_pretrained) == signature(torch.nn.Embedding.from_pretrained)
    assert signature(F.embedding) == signature(torch.nn.functional.embedding)


@pytest.mark.parametrize("options", [dict(), dict(padding_idx=0), dict(padding_idx=-2), dict(scale_grad_by_freq=True),
                                     dict(norm_type=3.0)], ids=lambda o: ",".join(o) or "defaults")
def test_embedding_repr_state_dict_and_padding_idx_are_torchs(options):
    ours, theirs = nn.Embedding(10, 4, **options), torch.nn.Embedding(10, 4, **options)
    assert repr(ours) == repr(theirs)
    assert ours.padding_idx == theirs.padding_idx
    check_state_dict(ours, theirs)


def test_embedding_starts_as_standard_normal_with_a_zero_padding_row():
    tinygrad_edu.manual_seed(1)
    table = nn.Embedding(2000, 50, padding_idx=3).weight.detach().numpy()
    assert (table[3] == 0).all()
    rest = np.delete(table, 3, axis=0)
    assert abs(rest.mean()) < 0.01 and abs(rest.std() - 1) < 0.01


INDEX_CASES = {
    "(N,L)": np.array([[1, 2, 4, 2], [4, 3, 2, 9]]),
    "(N,)": np.array([0, 5, 5, 5, 7]),
    "0-d": np.array(6),
    "(N,L,M) int32": np.random.default_rng(0).integers(0, 10, (2, 3, 4)).astype(np.int32),
    "empty": np.zeros((0, 3), dtype=np.int64),
}
EMBEDDING_OPTIONS = [dict(), dict(padding_idx=2), dict(padding_idx=-1), dict(scale_grad_by_freq=True),
                     dict(padding_idx=5, scale_grad_by_freq=True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", EMBEDDING_OPTIONS,
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "plain")
@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_embedding_output_and_weight_gradient_match_torch(case, options, dtype, device):
    ours, theirs = twins(lambda: nn.Embedding(10, 3, dtype=dtype, **options),
                         lambda: torch.nn.Embedding(10, 3, **options), device, dtype)
    check_call(ours, theirs, [INDEX_CASES[case]], device, dtype)


@pytest.mark.parametrize("options", EMBEDDING_OPTIONS[:4], ids=["plain", "padding_idx", "padding_idx=-1", "freq"])
def test_functional_embedding_matches_torch(options, device):
    w = values((7, 5), dtype=np.float64)
    idx = np.array([[0, 6, 6], [2, 0, 1]])
    check_call(lambda i, w: F.embedding(i, w, **options), lambda i, w: torch.nn.functional.embedding(i, w, **options),
               [idx, w], device, np.float64)


def test_embedding_is_one_node_whose_only_input_is_the_weight():
    layer = nn.Embedding(5, 2)
    y = layer(Tensor([[1, 2]]))
    assert isinstance(y.grad_fn, EmbeddingFunction) and y.grad_fn.parents[0] is layer.weight
    assert y.shape == (1, 2, 2)


def test_the_padding_row_gets_no_gradient_and_stays_put_in_training(device):
    layer = nn.Embedding(6, 3, padding_idx=0).to(device)
    with tinygrad_edu.no_grad():
        layer.weight.data[0] = 0.5                # a padding vector of one's own choosing
    opt = optim.SGD(layer.parameters(), lr=1.0)
    tokens = Tensor([[0, 0, 3], [4, 0, 0]], device=device)
    for _ in range(3):
        opt.zero_grad()
        layer(tokens).sum().backward()
        assert not layer.weight.grad.numpy()[0].any()
        opt.step()
    np.testing.assert_array_equal(layer.weight.detach().numpy()[0], np.full(3, 0.5, np.float32))
    assert (layer.weight.detach().numpy()[3] != 0.5).all()


def test_a_row_picked_k_times_gets_the_sum_of_its_k_gradients(device):
    layer = nn.Embedding(4, 2).to(device)
    g = values((5, 2), seed=3)
    layer(Tensor([1, 3, 1, 1, 0], device=device)).backward(Tensor(g, device=device))
    grad = layer.weight.grad.numpy()
    np.testing.assert_allclose(grad[1], g[0] + g[2] + g[3], rtol=1e-6)
    np.testing.assert_allclose(grad[3], g[1], rtol=1e-6)
    assert not grad[2].any()


def test_from_pretrained_copies_the_table_and_freezes_it_by_default():
    vectors = values((4, 3))
    frozen = nn.Embedding.from_pretrained(Tensor(vectors), padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(vectors), padding_idx=1)
    assert repr(frozen) == repr(theirs) and not frozen.weight.requires_grad and not theirs.weight.requires_grad
    np.testing.assert_array_equal(frozen.weight.detach().numpy(), vectors)            # the padding row is kept
    assert nn.Embedding.from_pretrained(vectors, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(frozen(Tensor([[3, 1]])).numpy(), vectors[[[3, 1]]])


@pytest.mark.parametrize("bad", [10, 11, -1], ids=["num_embeddings", "beyond", "negative"])
def test_an_index_outside_the_table_is_an_index_error_naming_the_range(bad):
    layer = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=rf"Embedding\(10, 3\): index {bad} is out of range: the table has 10 rows, "
                                         rf"so every index must be in \[0, 10\)"):
        layer(Tensor([[1, bad, 2]]))
    with pytest.raises(IndexError, match=rf"embedding: index {bad} is out of range.*\[0, 10\)"):
        F.embedding(Tensor([bad]), layer.weight)
    assert layer.weight.grad is None


@pytest.mark.gpu
def test_on_cuda_an_index_outside_the_table_gives_a_nan_row_and_no_gradient(cuda):
    layer = nn.Embedding(4, 2).to(cuda)
    y = layer(Tensor([[1, 7], [-1, 1]], device=cuda))
    rows = y.detach().numpy()
    assert np.isnan(rows[0, 1]).all() and np.isnan(rows[1, 0]).all() and np.isfinite(rows[[0, 1], [0, 1]]).all()
    y.backward(Tensor(np.ones((2, 2, 2), np.float32), device=cuda))
    grad = layer.weight.grad.numpy()
    np.testing.assert_array_equal(grad[1], [2.0, 2.0])
    assert not grad[[0, 2, 3]].any()


def test_the_embedding_function_unchecked_gives_a_nan_row_and_no_gradient_for_a_bad_index(device):
    w = Tensor(values((4, 2)), requires_grad=True, device=device)
    y = EmbeddingFunction.apply(w, Tensor([[1, 4], [-1, 1]], device=device).data, scale_grad_by_freq=True)
    rows = y.detach().numpy()
    assert np.isnan(rows[0, 1]).all() and np.isnan(rows[1, 0]).all()
    np.testing.assert_array_equal(rows[0, 0], w.detach().numpy()[1])
    y.backward(Tensor(np.ones((2, 2, 2), np.float32), device=device))
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [1, 1], [0, 0], [0, 0]])    # row 1: 2 picks / 2


@pytest.mark.parametrize("call, error, message", [
    (lambda w: F.embedding(Tensor([0.0, 1.0]), w), TypeError,
     r"embedding: the indices must be integers \(int64\), got float32; convert them with .astype\('int64'\)"),
    (lambda w: F.embedding(w, Tensor([1, 2])), TypeError,
     r"the arguments look swapped: call embedding\(indices, weight\)"),
    (lambda w: F.embedding(Tensor([0]), Tensor(np.zeros(3, np.float32))), ValueError,
     r"embedding: weight must be a 2-D table \(num_embeddings, embedding_dim\), got \(3,\)"),
    (lambda w: F.embedding(Tensor([0]), w, padding_idx=5), ValueError,
     r"embedding: padding_idx=5 must be within num_embeddings: in \[-5, 5\)"),
    (lambda w: F.embedding(Tensor([0]), w, max_norm=1.0), ValueError, r"embedding: max_norm is not supported"),
    (lambda w: F.embedding(Tensor([0]), w, sparse=True), ValueError, r"embedding: sparse=True .* is not supported"),
    (lambda w: nn.Embedding(5, 2, padding_idx=-6), ValueError,
     r"Embedding: padding_idx=-6 must be within num_embeddings"),
    (lambda w: nn.Embedding(5, 2, padding_idx=1.0), TypeError, r"Embedding: padding_idx must be an int"),
    (lambda w: nn.Embedding(0, 2), ValueError, r"Embedding: num_embeddings must be"),
    (lambda w: nn.Embedding(5, 2, max_norm=2.0), ValueError, r"Embedding: max_norm is not supported"),
    (lambda w: nn.Embedding(5, 2, _weight=np.zeros((5, 3))), ValueError,
     r"Embedding: _weight of shape \(5, 3\) does not fit \(5, 2\)"),
    (lambda w: nn.Embedding.from_pretrained(np.zeros(5)), ValueError, r"embeddings must be 2-D"),
])
def test_bad_embedding_arguments_name_the_layer_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.zeros((5, 2), np.float32)))


# ============================================================================ LayerNorm

def test_layer_norm_signatures_are_torchs():
    assert signature(nn.LayerNorm) == signature(torch.nn.LayerNorm)
    assert signature(F.layer_norm) == signature(torch.nn.functional.layer_norm)


LAYER_NORM_OPTIONS = {
    "(8,)": ((8,), dict()),
    "8": (8, dict()),
    "(3, 8)": ((3, 8), dict(eps=1e-3)),
    "no affine": ((8,), dict(elementwise_affine=False)),
    "no bias": ((8,), dict(bias=False)),
}


@pytest.mark.parametrize("case", list(LAYER_NORM_OPTIONS))
def test_layer_norm_repr_and_state_dict_are_torchs(case):
    shape, options = LAYER_NORM_OPTIONS[case]
    ours, theirs = nn.LayerNorm(shape, **options), torch.nn.LayerNorm(shape, **options)
    assert repr(ours) == repr(theirs)
    check_state_dict(ours, theirs)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(LAYER_NORM_OPTIONS))
def test_layer_norm_matches_torch(case, dtype, device):
    shape, options = LAYER_NORM_OPTIONS[case]
    theirs_layer = torch.nn.LayerNorm(shape, **options)
    with torch.no_grad():
        for p in theirs_layer.parameters():
            p.normal_()
    ours, theirs = twins(lambda: nn.LayerNorm(shape, dtype=dtype, **options), lambda: theirs_layer, device, dtype)
    check_call(ours, theirs, [values((2, 4, 3, 8), scale=3.0, dtype=dtype) + 1], device, dtype)


def test_functional_layer_norm_with_only_a_bias_matches_torch(device):
    x, b = values((4, 6), dtype=np.float64), values((6,), seed=1, dtype=np.float64)
    check_call(lambda x, b: F.layer_norm(x, (6,), None, b),
               lambda x, b: torch.nn.functional.layer_norm(x, (6,), None, b),
               [x, b], device, np.float64)


def test_layer_norm_is_one_node_and_the_same_in_train_and_eval_mode():
    layer = nn.LayerNorm(5)
    x = Tensor(values((3, 5)), requires_grad=True)
    y = layer(x)
    assert isinstance(y.grad_fn, LayerNormFunction) and y.grad_fn.parents[:3] == (x, layer.weight, layer.bias)
    np.testing.assert_array_equal(layer.eval()(x).detach().numpy(), y.detach().numpy())
    assert layer.state_dict().keys() == {"weight", "bias"}           # no running statistics


def test_layer_norm_is_exact_where_float32_torch_loses_digits():
    """x = 1e4 ± 1 in float32: a one-pass mean is off by about 1e-3 relative to the spread, torch's float32
    output by 2e-3; the corrected second pass keeps ours within 1e-6 of the float64 result."""
    x = (1e4 + values((4, 16), seed=2)).astype(np.float32)
    exact = torch.nn.functional.layer_norm(torch.tensor(x, dtype=torch.float64), (16,)).numpy()
    np.testing.assert_allclose(F.layer_norm(Tensor(x), 16).numpy(), exact, atol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: nn.LayerNorm(6)(x), ValueError,
     r"LayerNorm\(\(6,\)\): given normalized_shape=\(6,\), expected input with shape \(\*, 6\), but got input of "
     r"shape \(2, 3, 5\)"),
    (lambda x: F.layer_norm(x, (4, 5)), ValueError, r"layer_norm: given normalized_shape=\(4, 5\), expected input "
                                                  r"with shape \(\*, 4, 5\)"),
    (lambda x: F.layer_norm(x, 5, weight=Tensor(np.ones(4, np.float32))), ValueError,
     r"layer_norm: weight of shape \(4,\) does not fit normalized_shape=\(5,\)"),
    (lambda x: F.layer_norm(x.astype("int64"), 5), TypeError,
     r"layer_norm: expected a floating point input, got int64"),
    (lambda x: F.layer_norm(x, 5, eps=-1.0), ValueError, r"layer_norm: eps"),
    (lambda x: nn.LayerNorm((5, 0)), ValueError, r"LayerNorm: normalized_shape must be"),
    (lambda x: nn.LayerNorm(5, elementwise_affine=1), TypeError,
     r"LayerNorm: elementwise_affine must be True or False"),
])
def test_bad_layer_norm_arguments_name_the_layer_the_shapes_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(values((2, 3, 5))))


# ============================================================================ scaled_dot_product_attention

def attention_inputs(dtype, batch=(2, 3), length=4, keys=5, features=6, value_features=3):
    shapes = [batch + (length, features), batch + (keys, features), batch + (keys, value_features)]
    return [values(shape, seed=seed, dtype=dtype) for seed, shape in enumerate(shapes, start=1)]


def some_allowed(shape, seed=0):
    """A bool mask where every query may attend to at least one key."""
    allowed = np.random.default_rng(seed).random(shape) < 0.5
    allowed[..., 0] = True
    return allowed


def additive(shape, seed=0, dtype=np.float32):
    mask = values(shape, seed=seed, dtype=dtype)
    mask[np.random.default_rng(seed).random(shape) < 0.3] = -np.inf
    mask[..., 1] = 0.5
    return mask


SDPA_OPTIONS = {
    "no mask": lambda dtype: dict(),
    "bool mask (L, S)": lambda dtype: dict(attn_mask=some_allowed((4, 5))),
    "bool mask (N, H, L, S)": lambda dtype: dict(attn_mask=some_allowed((2, 3, 4, 5))),
    "bool mask (N, 1, L, S)": lambda dtype: dict(attn_mask=some_allowed((2, 1, 4, 5))),
    "float mask": lambda dtype: dict(attn_mask=additive((4, 5), dtype=dtype)),
    "is_causal": lambda dtype: dict(is_causal=True),
    "scale": lambda dtype: dict(scale=0.7),
    "float mask and scale": lambda dtype: dict(attn_mask=additive((3, 4, 5), dtype=dtype), scale=2.0),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SDPA_OPTIONS))
def test_scaled_dot_product_attention_matches_torch(case, dtype, device):
    check_call(F.scaled_dot_product_attention, torch.nn.functional.scaled_dot_product_attention,
               attention_inputs(dtype), device, dtype, SDPA_OPTIONS[case](dtype))


@pytest.mark.parametrize("length, keys", [(5, 3), (3, 5), (1, 1)])
def test_is_causal_is_the_top_left_lower_triangle_for_any_lengths_as_in_torch(length, keys, device):
    check_call(lambda *a: F.scaled_dot_product_attention(*a, is_causal=True),
               lambda *a: torch.nn.functional.scaled_dot_product_attention(*a, is_causal=True),
               attention_inputs(np.float64, batch=(2,), length=length, keys=keys), device, np.float64)


def test_is_causal_means_query_i_sees_keys_0_to_i_only():
    q, k, v = [Tensor(a) for a in attention_inputs(np.float64, batch=(), length=4, keys=4)]
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    for i in range(4):                                      # the queries before i cannot see key i change
        v2 = v.numpy().copy()
        v2[i] += 100.0
        changed = F.scaled_dot_product_attention(q, k, Tensor(v2), is_causal=True).numpy()
        np.testing.assert_array_equal(changed[:i], causal[:i])
        assert (changed[i:] != causal[i:]).all()


def test_a_query_that_may_attend_to_no_key_gets_zeros_and_zero_gradients_like_torch(device):
    allowed = some_allowed((4, 5))
    allowed[2] = False
    for mask in (allowed, np.where(allowed, 0.0, -np.inf)):
        (out,), _ = check_call(F.scaled_dot_product_attention, torch.nn.functional.scaled_dot_product_attention,
                               attention_inputs(np.float64), device, np.float64, dict(attn_mask=mask))
        assert not out.detach().numpy()[..., 2, :].any()


def test_attention_is_the_formula_softmax_of_q_k_transposed_over_root_d_times_v():
    q, k, v = [Tensor(a) for a in attention_inputs(np.float64, batch=(2,))]
    scores = q.numpy() @ k.numpy().swapaxes(-1, -2) / math.sqrt(6)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), weights @ v.numpy(), rtol=1e-12)


def test_attention_is_built_from_tensor_ops_a_student_can_draw():
    q, k, v = [Tensor(a, requires_grad=True) for a in attention_inputs(np.float32)]
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    seen, todo, kinds = set(), [out.grad_fn], set()
    while todo:
        node = todo.pop()
        if node is not None and id(node) not in seen:
            seen.add(id(node))
            kinds.add(type(node))
            todo.extend(getattr(p, "grad_fn", None) for p in node.parents)
    assert {MatMul, Softmax} <= kinds


def test_attention_dropout_zeroes_weights_and_scales_the_rest():
    q, k, _ = attention_inputs(np.float64, batch=(40,), length=6, keys=6)
    eye = np.broadcast_to(np.eye(6), (40, 6, 6)).copy()          # V = I: the output is the weights
    plain = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(eye)).numpy()
    dropped = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(eye), dropout_p=0.25).numpy()
    zero = dropped == 0
    np.testing.assert_allclose(dropped[~zero], plain[~zero] / 0.75, rtol=1e-12)
    assert abs(zero.mean() - 0.25) < 0.05


@pytest.mark.parametrize("call, error, message", [
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=some_allowed((4, 5)), is_causal=True),
     ValueError, r"scaled_dot_product_attention: give attn_mask or is_causal=True, not both"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k[..., :5], v), ValueError,
     r"query of shape \(2, 3, 4, 6\) and key of shape \(2, 3, 5, 5\) must have the same number of features E"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v[..., :4, :]), ValueError,
     r"key of shape \(2, 3, 5, 6\) and value of shape \(2, 3, 4, 3\) must have the same length S"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((5, 4), bool)), ValueError,
     r"attn_mask of shape \(5, 4\) does not fit the scores of shape \(2, 3, 4, 5\) \(\.\.\., L, S\)"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 5), np.int64)), TypeError,
     r"attn_mask must be a bool or a float tensor, got int64"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k.astype("float64"), v), TypeError,
     r"query, key and value must have the same dtype"),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=1.5), ValueError,
     r"scaled_dot_product_attention: probability has to be between 0 and 1"),
    (lambda q, k, v: F.scaled_dot_product_attention(q[0, 0, 0], k, v), ValueError,
     r"query must have at least 2 dimensions"),
])
def test_bad_attention_arguments_name_the_shapes_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call(*[Tensor(a) for a in attention_inputs(np.float32)])


# ============================================================================ MultiheadAttention

def test_multihead_attention_signatures_are_torchs():
    assert signature(nn.MultiheadAttention) == signature(torch.nn.MultiheadAttention)
    assert signature(nn.MultiheadAttention.forward) == signature(torch.nn.MultiheadAttention.forward)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_multihead_attention_state_dict_and_initialisation_are_torchs(bias):
    ours, theirs = nn.MultiheadAttention(8, 2, bias=bias), torch.nn.MultiheadAttention(8, 2, bias=bias)
    check_state_dict(ours, theirs)
    assert isinstance(ours.out_proj, nn.Linear)
    bound = math.sqrt(6 / (8 + 24))                                # Xavier-uniform on (3E, E)
    weight = ours.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and weight.std() > bound / 3
    if bias:
        assert not ours.in_proj_bias.detach().numpy().any() and not ours.out_proj.bias.detach().numpy().any()
    assert (ours.embed_dim, ours.num_heads, ours.head_dim, ours.dropout, ours.batch_first) == \
        (theirs.embed_dim, theirs.num_heads, theirs.head_dim, theirs.dropout, theirs.batch_first)


def key_padding(n=3, s=5, seed=0):
    """True = padding; the first key of every sequence is real."""
    mask = np.random.default_rng(seed).random((n, s)) < 0.4
    mask[:, 0] = False
    return mask


def masked_out(shape, seed=0):
    """A bool attn_mask, True = masked out, that leaves every query some key."""
    return ~some_allowed(shape, seed)


MHA_CASES = {
    "self-attention": dict(),
    "key_padding_mask": dict(key_padding_mask=key_padding()),
    "float key_padding_mask": dict(key_padding_mask=np.where(key_padding(), -np.inf, 0.0)),
    "attn_mask (L, S)": dict(attn_mask=masked_out((4, 5))),
    "float attn_mask (N*H, L, S)": dict(attn_mask="float3d"),
    "attn_mask and key_padding_mask": dict(attn_mask=masked_out((4, 5)), key_padding_mask=key_padding()),
    "need_weights=False": dict(need_weights=False, key_padding_mask=key_padding()),
    "per-head weights": dict(average_attn_weights=False, attn_mask=masked_out((4, 5))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["seq_first", "batch_first", "bias=False"])
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case, layout, dtype, device):
    batch_first, bias = layout == "batch_first", layout != "bias=False"
    ours, theirs = twins(lambda: nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first, dtype=dtype),
                         lambda: torch.nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first), device, dtype)
    with torch.no_grad():                                          # non-zero biases, so that their gradients count
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    options = {k: (v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
               for k, v in MHA_CASES[case].items()}
    if isinstance(options.get("attn_mask"), str):
        options["attn_mask"] = additive((3 * 2, 4, 5), dtype=dtype)
    shape = (lambda length: (3, length, 8)) if batch_first else (lambda length: (length, 3, 8))
    inputs = [values(shape(length), seed, dtype=dtype) for seed, length in [(1, 4), (2, 5), (3, 5)]]
    check_call(ours, theirs, inputs, device, dtype, options)


def test_multihead_self_attention_with_one_tensor_for_query_key_and_value_matches_torch(device):
    ours, theirs = twins(lambda: nn.MultiheadAttention(6, 3, dtype=np.float64),
                         lambda: torch.nn.MultiheadAttention(6, 3), device, np.float64)
    x = values((5, 2, 6), dtype=np.float64)
    check_call(lambda x: ours(x, x, x, attn_mask=masked_out((5, 5))),
               lambda x: theirs(x, x, x, attn_mask=torch.from_numpy(masked_out((5, 5)))),
               [x], device, np.float64, ours_module=ours, theirs_module=theirs)


@pytest.mark.parametrize("options", [dict(), dict(key_padding_mask=np.array([False, True, False, False, True]))],
                         ids=["plain", "key_padding_mask (S,)"])
def test_unbatched_multihead_attention_matches_torch(options, device):
    ours, theirs = twins(lambda: nn.MultiheadAttention(4, 2, dtype=np.float64),
                         lambda: torch.nn.MultiheadAttention(4, 2), device, np.float64)
    check_call(ours, theirs, [values((3, 4), 1, dtype=np.float64), values((5, 4), 2, dtype=np.float64),
                              values((5, 4), 3, dtype=np.float64)], device, np.float64, options)


def test_a_causal_attn_mask_with_the_is_causal_hint_matches_torch(device):
    ours, theirs = twins(lambda: nn.MultiheadAttention(4, 2, dtype=np.float64),
                         lambda: torch.nn.MultiheadAttention(4, 2), device, np.float64)
    x = values((5, 2, 4), dtype=np.float64)
    causal = np.triu(np.ones((5, 5), bool), 1)
    check_call(lambda x: ours(x, x, x, attn_mask=Tensor(causal, device=device), is_causal=True),
               lambda x: theirs(x, x, x, attn_mask=torch.from_numpy(causal), is_causal=True),
               [x], device, np.float64, ours_module=ours, theirs_module=theirs)


def test_multihead_attention_dropout_differs_in_training_and_matches_torch_in_eval(device):
    ours, theirs = twins(lambda: nn.MultiheadAttention(8, 2, dropout=0.5),
                         lambda: torch.nn.MultiheadAttention(8, 2, dropout=0.5), device, np.float32)
    x = Tensor(values((6, 2, 8)), device=device)
    first, second = ours(x, x, x)[0].detach().numpy(), ours(x, x, x)[0].detach().numpy()
    assert not np.allclose(first, second)
    ours.eval(), theirs.eval()
    check_call(ours, theirs, [values((6, 2, 8))] * 3, device, np.float32)


def test_a_query_that_may_attend_to_no_key_gets_zero_weights_where_torch_gives_nan():
    """torch 2.13's MultiheadAttention gives NaN there with need_weights=True and 0 with need_weights=False
    (its scaled_dot_product_attention path); ours gives 0 both ways, as scaled_dot_product_attention does."""
    ours, theirs = twins(lambda: nn.MultiheadAttention(4, 2), lambda: torch.nn.MultiheadAttention(4, 2), "cpu",
                         np.float32)
    x = values((3, 1, 4))
    padding = np.ones((1, 3), bool)                                  # every key is padding
    out, weights = ours(Tensor(x), Tensor(x), Tensor(x), key_padding_mask=Tensor(padding))
    theirs_out = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(padding), need_weights=False)[0]
    assert not weights.detach().numpy().any()
    np.testing.assert_allclose(out.detach().numpy(), theirs_out.detach().numpy(), atol=1e-6)
    assert np.isnan(theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(padding))[1].detach().numpy()).all()


@pytest.mark.parametrize("call, error, message", [
    (lambda m, x: nn.MultiheadAttention(8, 3), ValueError,
     r"MultiheadAttention: embed_dim must be divisible by num_heads .* got embed_dim=8 and num_heads=3"),
    (lambda m, x: nn.MultiheadAttention(8, 2, kdim=4), ValueError, r"kdim=4 is not supported"),
    (lambda m, x: nn.MultiheadAttention(8, 2, add_bias_kv=True), ValueError, r"add_bias_kv=True is not supported"),
    (lambda m, x: nn.MultiheadAttention(8, 2, dropout=2.0), ValueError,
     r"dropout probability has to be between 0 and 1"),
    (lambda m, x: m(x[..., :6], x, x), ValueError,
     r"MultiheadAttention\(8, num_heads=2\): query must be \(L, N, E\) \(or \(L, E\) unbatched\) with E = embed_dim "
     r"= 8, got \(5, 3, 6\)"),
    (lambda m, x: m(x, x[0], x[0]), ValueError, r"must all be batched \(3-D\) or all unbatched \(2-D\)"),
    (lambda m, x: m(x, x[:, :2], x[:, :2]), ValueError, r"must have the same batch size N, got 3, 2 and 2"),
    (lambda m, x: m(x, x, x, key_padding_mask=np.zeros((5, 3), bool)), ValueError,
     r"key_padding_mask of shape \(5, 3\) does not fit: expected \(3, 5\), \(N, S\)"),
    (lambda m, x: m(x, x, x, attn_mask=np.zeros((5, 4), bool)), ValueError,
     r"attn_mask of shape \(5, 4\) does not fit: expected \(L, S\) = \(5, 5\) or \(N·num_heads, L, S\) = \(6, 5, 5\)"),
    (lambda m, x: m(x, x, x, is_causal=True), ValueError, r"is_causal=True is only a hint .* give attn_mask too"),
    (lambda m, x: m(x, x, x, attn_mask=np.zeros((5, 5), np.int64)), TypeError, r"attn_mask must be a bool or a float"),
])
def test_bad_multihead_attention_arguments_name_the_layer_the_shapes_and_the_fix(call, error, message):
    with pytest.raises(error, match=message):
        call(nn.MultiheadAttention(8, 2), Tensor(values((5, 3, 8))))


# ============================================================================ TransformerEncoderLayer

def test_transformer_encoder_layer_signatures_are_torchs_but_activation_is_a_name():
    ours, theirs = signature(nn.TransformerEncoderLayer), signature(torch.nn.TransformerEncoderLayer)
    assert [p[0] for p in ours] == [p[0] for p in theirs]
    assert [p for p in ours if p[0] != "activation"] == [p for p in theirs if p[0] != "activation"]
    assert dict((p[0], p[1]) for p in ours)["activation"] == "relu"
    assert signature(nn.TransformerEncoderLayer.forward) == signature(torch.nn.TransformerEncoderLayer.forward)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_transformer_encoder_layer_state_dict_names_and_shapes_are_torchs(bias):
    ours = nn.TransformerEncoderLayer(8, 2, 16, bias=bias)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, bias=bias)
    check_state_dict(ours, theirs)
    assert [name for name, _ in ours.named_children()] == [name for name, _ in theirs.named_children()]


ENCODER_CASES = {
    "post-norm relu": dict(),
    "norm_first": dict(norm_first=True),
    "gelu": dict(activation="gelu"),
    "batch_first, norm_first, gelu": dict(batch_first=True, norm_first=True, activation="gelu"),
    "no bias, eps": dict(bias=False, layer_norm_eps=1e-3),
}
ENCODER_MASKS = {
    "no mask": dict(),
    "causal src_mask": dict(src_mask=np.triu(np.ones((4, 4), bool), 1)),
    "float src_mask": dict(src_mask="float"),
    "src_key_padding_mask": dict(src_key_padding_mask=key_padding(3, 4)),
    "both masks": dict(src_mask=np.triu(np.ones((4, 4), bool), 1), src_key_padding_mask=key_padding(3, 4)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masks", list(ENCODER_MASKS))
@pytest.mark.parametrize("case", list(ENCODER_CASES))
def test_transformer_encoder_layer_matches_torch(case, masks, dtype, device):
    options = dict(dim_feedforward=16, dropout=0.0, **ENCODER_CASES[case])
    ours, theirs = twins(lambda: nn.TransformerEncoderLayer(8, 2, dtype=dtype, **options),
                         lambda: torch.nn.TransformerEncoderLayer(8, 2, **options), device, dtype)
    mask_options = dict(ENCODER_MASKS[masks])
    if isinstance(mask_options.get("src_mask"), str):
        mask_options["src_mask"] = additive((4, 4), dtype=dtype)
    shape = (3, 4, 8) if options.get("batch_first") else (4, 3, 8)
    check_call(ours, theirs, [values(shape, scale=2.0, dtype=dtype)], device, dtype, mask_options)


def test_an_unbatched_sequence_and_the_is_causal_hint_match_torch(device):
    ours, theirs = twins(lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=np.float64),
                         lambda: torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0), device, np.float64)
    causal = np.triu(np.ones((5, 5), bool), 1)
    check_call(ours, theirs, [values((5, 8), dtype=np.float64)], device, np.float64,
               dict(src_mask=causal, is_causal=True))


def test_a_function_or_a_module_as_activation_matches_torchs_gelu(device):
    for ours_act, theirs_act in [(F.gelu, torch.nn.functional.gelu), (nn.GELU(), torch.nn.GELU())]:
        ours, theirs = twins(lambda: nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation=ours_act),
                             lambda: torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation=theirs_act), device,
                             np.float32)
        check_call(ours, theirs, [values((4, 2, 8))], device, np.float32)


def test_encoder_dropout_differs_in_training_and_matches_torch_in_eval(device):
    ours, theirs = twins(lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3),
                         lambda: torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3), device, np.float32)
    x = Tensor(values((4, 3, 8)), device=device)
    first, second = ours(x).detach().numpy(), ours(x).detach().numpy()
    assert not np.allclose(first, second)
    ours.eval(), theirs.eval()
    assert not ours.self_attn.training and not ours.dropout1.training
    check_call(ours, theirs, [values((4, 3, 8))], device, np.float32)


def test_bad_transformer_arguments_name_the_layer_and_the_fix():
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: activation should be 'relu' or 'gelu'.*'tanh'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match=r"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a function"):
        nn.TransformerEncoderLayer(8, 2, activation=3)
    with pytest.raises(ValueError, match=r"embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(8, 3)
    with pytest.raises(ValueError, match=r"src_key_padding_mask|key_padding_mask of shape \(4, 3\) does not fit"):
        nn.TransformerEncoderLayer(8, 2, 16)(Tensor(values((4, 3, 8))), src_key_padding_mask=np.zeros((4, 3), bool))


# ============================================================================ gradchecks (float64)

def test_gradcheck_of_embedding_layer_norm_and_attention():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((6, 3)), requires_grad=True)
    idx = Tensor(rng.integers(0, 6, (2, 4)))
    assert tinygrad_edu.gradcheck(lambda w: F.embedding(idx, w), w)
    x, g, b = (Tensor(rng.standard_normal(s), requires_grad=True) for s in [(2, 3, 4), (3, 4), (3, 4)])
    assert tinygrad_edu.gradcheck(lambda x, g, b: F.layer_norm(x, (3, 4), g, b), x, g, b)
    q, k, v = (Tensor(a, requires_grad=True) for a in attention_inputs(np.float64, batch=(2,), length=3, keys=4))
    mask = Tensor(some_allowed((3, 4)))
    assert tinygrad_edu.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), q, k, v)
    assert tinygrad_edu.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), q, k, v)


def test_gradcheck_of_multihead_attention_and_the_encoder_layer():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, activation="gelu", dtype=np.float64)
    x = Tensor(values((3, 2, 4), dtype=np.float64), requires_grad=True)
    padding = Tensor(np.array([[False, False, True], [False, False, False]]))
    attention = layer.self_attn.in_proj_weight
    assert tinygrad_edu.gradcheck(lambda x, w: layer(x, src_key_padding_mask=padding), x, attention)
    assert tinygrad_edu.gradcheck(lambda x, w: layer(x), x, layer.linear1.weight)


# ============================================================================ conversion and files

def language_model(lib, dtype=None, **options):
    """Token ids (N, L) -> logits (N, L, 11): an embedding, two encoder layers, a LayerNorm, a Linear."""
    typed = {} if dtype is None else {"dtype": dtype}
    layer = dict(dim_feedforward=16, dropout=0.1, batch_first=True, **options, **typed)
    return lib.Sequential(lib.Embedding(11, 8, padding_idx=0, **typed), lib.TransformerEncoderLayer(8, 2, **layer),
                          lib.TransformerEncoderLayer(8, 4, activation="gelu", norm_first=True, **layer),
                          lib.LayerNorm(8, eps=1e-6, **typed), lib.Linear(8, 11, **typed))


TOKENS = np.array([[3, 5, 1, 0], [2, 2, 9, 10]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_language_model_goes_to_torch_and_back(dtype):
    model = language_model(nn, dtype=dtype)
    model[1].self_attn.in_proj_bias.requires_grad_(False)
    model.eval()
    model[2].train()
    theirs = to_torch(model)
    assert [type(m).__name__ for m in theirs] == ["Embedding", "TransformerEncoderLayer", "TransformerEncoderLayer",
                                                  "LayerNorm", "Linear"]
    assert list(theirs.state_dict()) == list(model.state_dict())
    assert theirs[1].self_attn.in_proj_bias.requires_grad is False and theirs[1].self_attn.out_proj.weight.requires_grad
    assert [m.training for m in theirs.modules()] == [m.training for m in model.modules()]
    assert theirs[0].padding_idx == 0 and theirs[2].norm_first and theirs[2].self_attn.num_heads == 4
    assert theirs[2].activation is torch.nn.functional.gelu and theirs[3].eps == 1e-6
    assert next(theirs.parameters()).dtype == TORCH_DTYPE[dtype]
    model[2].eval(), theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(TOKENS)).numpy()
    np.testing.assert_allclose(model(Tensor(TOKENS)).detach().numpy(), expected, **TOL[dtype])
    back = from_torch(theirs)
    assert repr(back) == repr(model)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    assert back[1].self_attn.in_proj_bias.requires_grad is False


def test_a_torch_language_model_converts_with_its_weights_and_predicts_the_same(device):
    theirs = language_model(torch.nn, bias=False).eval()
    model = from_torch(theirs, device=device)
    assert model[1].self_attn.in_proj_bias is None and model[1].norm1.bias is None
    assert isinstance(model[1].self_attn.out_proj, nn.Linear)       # torch's NonDynamicallyQuantizableLinear
    with torch.no_grad():
        expected = theirs(torch.tensor(TOKENS)).numpy()
    np.testing.assert_allclose(model(Tensor(TOKENS, device=device)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_a_standalone_multihead_attention_and_layer_norm_convert_both_ways():
    for theirs in (torch.nn.MultiheadAttention(8, 4, dropout=0.2, bias=False, batch_first=True),
                   torch.nn.LayerNorm((2, 3), elementwise_affine=False), torch.nn.LayerNorm(5, bias=False),
                   torch.nn.Embedding(5, 2, padding_idx=-1, scale_grad_by_freq=True)):
        ours = from_torch(theirs)
        again = to_torch(ours)
        assert type(again) is type(theirs) and repr(again) == repr(theirs)
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(again.state_dict()[key].numpy(), value.numpy(), err_msg=key)


@pytest.mark.parametrize("make, message", [
    (lambda: torch.nn.Embedding(5, 2, max_norm=1.0), r"layer '0' \(torch.nn.Embedding\): max_norm and sparse=True"),
    (lambda: torch.nn.MultiheadAttention(8, 2, kdim=4), r"kdim or vdim other than embed_dim"),
    (lambda: torch.nn.TransformerEncoderLayer(8, 2, activation=torch.nn.functional.silu),
     r"its activation .* is not supported, only relu and gelu"),
])
def test_from_torch_refuses_settings_it_cannot_reproduce_before_building_anything(make, message):
    with pytest.raises(TypeError, match=message):
        from_torch(torch.nn.Sequential(make()))


def test_to_torch_refuses_an_activation_that_torch_cannot_name():
    model = nn.Sequential(nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU("tanh")))
    with pytest.raises(TypeError,
                       match=r"layer '0' \(TransformerEncoderLayer\): its activation .* use activation='relu'"):
        to_torch(model)


def test_save_and_load_keep_every_weight_of_a_language_model(tmp_path):
    pytest.importorskip("safetensors")
    model = language_model(nn)
    save(model.state_dict(), tmp_path / "lm.safetensors")
    fresh = language_model(nn)
    fresh.load_state_dict(load(tmp_path / "lm.safetensors"))
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    theirs = language_model(torch.nn)                  # and the file is torch's state_dict as it is
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in load(tmp_path / "lm.safetensors").items()})


# ============================================================================ the GPU

@pytest.mark.gpu
def test_a_language_model_training_step_on_cuda_makes_no_host_copy(fake_cupy):
    model = language_model(nn).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    tokens = Tensor(TOKENS, device="cuda")
    targets = Tensor(np.roll(TOKENS, -1, axis=1), device="cuda")
    padding = Tensor(TOKENS == 0, device="cuda")
    causal = Tensor(np.triu(np.ones((4, 4), bool), 1), device="cuda")

    def step():
        opt.zero_grad()
        x = model[0](tokens)
        for layer in model[1:3]:
            x = layer(x, src_mask=causal, src_key_padding_mask=padding)
        loss = F.cross_entropy(model[4](model[3](x)).reshape(-1, 11), targets.reshape(-1))
        loss.backward()
        opt.step()

    step()
    fake_cupy._fake_reset_sync_count()
    for _ in range(2):
        step()
    assert fake_cupy._fake_sync_count == 0
