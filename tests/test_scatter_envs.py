"""scatter_add and index_add (the graph lecture's message passing) and envs.CartPole (the RL lecture).

scatter_add and index_add also have rows in the op table (tests/reference/op_table.py: forward and
backward against torch, float64 gradchecks, repeated indices in the edges). Here: drawn shapes against
torch 2.13, index shapes smaller than src (whose backward torch cannot do), a GCN's aggregation against
the adjacency matrix, integer counts, the errors, and what "cuda" does with an index it does not check.

CartPole: one step against the equations written out below, termination, truncation, seeding, the
actions it refuses, and, when gymnasium is installed, whole trajectories against CartPole-v1.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.envs import CartPole

from .conftest import assert_close, upstream_gradient

torch = pytest.importorskip("torch")

GRAPHS = pytest.mark.lecture_graphs
RL = pytest.mark.lecture_rl

DRAWN = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _values(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ============================================================================ scatter_add

@st.composite
def scatter_case(draw):
    """self's shape, an axis, src's shape and an index no larger than src (nor than self off the axis)."""
    target = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axis = draw(st.integers(0, len(target) - 1))
    index = tuple(draw(st.integers(0, 5) if d == axis else st.integers(0, n)) for d, n in enumerate(target))
    src = tuple(n + draw(st.integers(0, 2)) for n in index)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    return target, axis, rng.integers(0, target[axis], size=index), src, seed


def _scatter_reference(target, axis, index, src):
    """scatter_add written out: one entry of index at a time (the definition, not the fast code)."""
    out = target.copy()
    for p in np.ndindex(*index.shape):
        q = list(p)
        q[axis] = index[p]
        out[tuple(q)] += src[p]
    return out


@GRAPHS
@DRAWN
@given(case=scatter_case())
def test_scatter_add_matches_torch_and_its_definition(case):
    shape, axis, index, src_shape, seed = case
    x, src = _values(shape, seed), _values(src_shape, seed + 1)
    ours = Tensor(x).scatter_add(axis, Tensor(index), Tensor(src))
    theirs = torch.from_numpy(x).scatter_add(axis, torch.from_numpy(index), torch.from_numpy(src))
    assert_close(ours, theirs)
    assert_close(ours, _scatter_reference(x, axis, index, src))


@GRAPHS
@DRAWN
@given(case=scatter_case())
def test_scatter_add_gradients_are_the_gradient_and_its_gather_at_index(case):
    shape, axis, index, src_shape, seed = case
    x = Tensor(_values(shape, seed), requires_grad=True)
    src = Tensor(_values(src_shape, seed + 1), requires_grad=True)
    g = upstream_gradient(shape, np.float64, seed)
    x.scatter_add(axis, Tensor(index), src).backward(g)
    expected = np.zeros(src_shape)                  # src entries that index does not reach get no gradient
    for p in np.ndindex(*index.shape):
        q = list(p)
        q[axis] = index[p]
        expected[p] = g[tuple(q)]
    assert_close(x.grad, g)
    assert_close(src.grad, expected)


@GRAPHS
def test_scatter_add_adds_repeated_indices_up():
    out = Tensor.zeros(3).scatter_add(0, Tensor([0, 2, 0, 0]), Tensor([1.0, 2.0, 3.0, 4.0]))
    assert out.tolist() == [8.0, 0.0, 2.0]


@GRAPHS
def test_scatter_add_takes_dim_and_keyword_arguments_like_torch():
    x, index, src = Tensor.zeros(2, 3), Tensor([[0, 1, 0], [1, 1, 1]]), Tensor.ones(2, 3)
    assert_close(x.scatter_add(dim=0, index=index, src=src), x.scatter_add(0, index, src))
    assert_close(x.scatter_add(-2, index, src), [[1.0, 0.0, 1.0], [1.0, 2.0, 1.0]])


@GRAPHS
def test_scatter_add_leaves_self_alone():
    x = Tensor([1.0, 2.0])
    x.scatter_add(0, Tensor([1]), Tensor([5.0]))
    assert x.tolist() == [1.0, 2.0]


# ============================================================================ index_add

@st.composite
def index_add_case(draw):
    """self's shape, an axis, a vector index (0 to 5 entries, repeats likely), source's shape, alpha."""
    target = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(target), len(target) - 1))
    count = draw(st.integers(0, 5))
    source = tuple(count if d == axis % len(target) else n for d, n in enumerate(target))
    seed = draw(st.integers(0, 2**16))
    index = np.random.default_rng(seed).integers(0, target[axis], size=count)
    alpha = draw(st.sampled_from([1, 1.0, 2.5, -0.5]))
    return target, axis, index, source, alpha, seed


@GRAPHS
@DRAWN
@given(case=index_add_case())
def test_index_add_matches_torch_values_and_gradients(case):
    shape, axis, index, source_shape, alpha, seed = case
    x, source = _values(shape, seed), _values(source_shape, seed + 1)
    ours_x, ours_s = Tensor(x, requires_grad=True), Tensor(source, requires_grad=True)
    their_x = torch.tensor(x, requires_grad=True)
    their_s = torch.tensor(source, requires_grad=True)
    ours = ours_x.index_add(axis, Tensor(index), ours_s, alpha=alpha)
    theirs = their_x.index_add(axis, torch.from_numpy(index), their_s, alpha=alpha)
    assert_close(ours, theirs)
    g = upstream_gradient(shape, np.float64, seed)
    ours.backward(g)
    theirs.backward(torch.from_numpy(g))
    assert_close(ours_x.grad, their_x.grad)
    assert_close(ours_s.grad, their_s.grad)


@GRAPHS
def test_index_add_gradient_to_source_is_the_index_select_of_the_gradient():
    source = Tensor(_values((4, 2)), requires_grad=True)
    g = upstream_gradient((3, 2), np.float64)
    Tensor.zeros(3, 2, dtype="float64").index_add(0, Tensor([2, 0, 2, 1]), source, alpha=3.0).backward(g)
    assert_close(source.grad, 3.0 * g[[2, 0, 2, 1]])


@GRAPHS
def test_index_add_along_a_later_axis_adds_columns():
    out = Tensor.zeros(2, 3).index_add(1, Tensor([2, 2]), Tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert out.tolist() == [[0.0, 0.0, 3.0], [0.0, 0.0, 7.0]]


@GRAPHS
def test_scatter_add_with_an_expanded_index_is_index_add():
    x, source = Tensor(_values((4, 3))), Tensor(_values((6, 3), 1))
    index = np.array([3, 0, 3, 1, 3, 0])
    expanded = Tensor(np.broadcast_to(index[:, None], (6, 3)).copy())
    assert_close(x.scatter_add(0, expanded, source), x.index_add(0, Tensor(index), source))


# ============================================================================ message passing

def _graph():
    """A small directed graph with a repeated edge (2 -> 0 twice) and a self loop (3 -> 3)."""
    sources = np.array([0, 1, 2, 2, 3, 1, 3])
    targets = np.array([1, 2, 0, 0, 3, 0, 2])
    return sources, targets, 4


@GRAPHS
def test_summing_messages_over_incoming_edges_is_the_adjacency_matmul(device):
    sources, targets, nodes = _graph()
    adjacency = np.zeros((nodes, nodes))
    np.add.at(adjacency, (targets, sources), 1.0)          # A[i, j] = number of edges j -> i
    h = Tensor(_values((nodes, 3)), requires_grad=True, device=device)
    w = Tensor(_values((3, 2), 1), requires_grad=True, device=device)
    g = upstream_gradient((nodes, 2), np.float64)

    messages = (h @ w)[Tensor(sources, device=device)]
    zeros = Tensor.zeros(nodes, 2, dtype="float64", device=device)
    out = zeros.index_add(0, Tensor(targets, device=device), messages)
    out.backward(Tensor(g, device=device))
    dense_h = Tensor(h.detach().numpy(), requires_grad=True)
    dense_w = Tensor(w.detach().numpy(), requires_grad=True)
    dense = Tensor(adjacency) @ (dense_h @ dense_w)
    dense.backward(g)
    assert_close(out.detach().numpy(), dense.detach().numpy())
    assert_close(h.grad.numpy(), dense_h.grad.numpy())
    assert_close(w.grad.numpy(), dense_w.grad.numpy())


@GRAPHS
def test_in_degrees_count_in_int64(device):
    _, targets, nodes = _graph()
    index = Tensor(targets, device=device)
    ones = Tensor.ones(len(targets), dtype="int64", device=device)
    counted = Tensor.zeros(nodes, dtype="int64", device=device).index_add(0, index, ones)
    assert counted.dtype == np.int64
    assert counted.tolist() == np.bincount(targets, minlength=nodes).tolist()
    scattered = Tensor.zeros(nodes, dtype="int64", device=device).scatter_add(0, index, ones)
    assert scattered.tolist() == counted.tolist()


@GRAPHS
def test_the_cuda_results_match_the_cpu(cuda):
    x, source = _values((5, 3)), _values((7, 3), 1)
    index = np.array([4, 0, 4, 4, 1, 0, 2])
    for op, idx in (("index_add", index), ("scatter_add", np.broadcast_to(index[:, None], (7, 3)).copy())):
        results = []
        for device in ("cpu", cuda):
            xs = Tensor(x, requires_grad=True, device=device)
            ss = Tensor(source, requires_grad=True, device=device)
            out = getattr(xs, op)(0, Tensor(idx, device=device), ss)
            out.backward(Tensor(upstream_gradient((5, 3), np.float64), device=device))
            results.append([out.detach().numpy(), xs.grad.numpy(), ss.grad.numpy()])
        for got, expected in zip(*results):
            assert_close(got, expected, op)


@GRAPHS
def test_on_cuda_an_index_outside_the_axis_adds_nothing_and_gets_no_gradient(cuda):
    """On "cuda" the indices are not read back to check them (that would make every step wait)."""
    source = Tensor([1.0, 2.0, 4.0, 8.0], requires_grad=True, device=cuda)
    out = Tensor.zeros(3, device=cuda).index_add(0, Tensor([0, 3, -1, 2], device=cuda), source)
    assert out.tolist() == [1.0, 0.0, 8.0]
    out.backward(Tensor([1.0, 2.0, 3.0], device=cuda))
    assert source.grad.tolist() == [1.0, 0.0, 0.0, 3.0]
    src = Tensor([1.0, 2.0, 4.0], requires_grad=True, device=cuda)
    out = Tensor.zeros(2, device=cuda).scatter_add(0, Tensor([1, 5, 1], device=cuda), src)
    assert out.tolist() == [0.0, 5.0]
    out.backward(Tensor([1.0, 2.0], device=cuda))
    assert src.grad.tolist() == [2.0, 0.0, 2.0]


@GRAPHS
def test_message_passing_on_cuda_never_waits_for_the_gpu(fake_cupy):
    """No index is read back to the host (the fake CuPy counts every device-to-host copy)."""
    sources, targets, nodes = _graph()
    h = Tensor(_values((nodes, 3)), requires_grad=True, device="cuda")
    src, dst = Tensor(sources, device="cuda"), Tensor(targets, device="cuda")
    fake_cupy._fake_reset_sync_count()
    summed = Tensor.zeros(nodes, 3, dtype="float64", device="cuda").index_add(0, dst, h[src])
    scattered = summed.scatter_add(0, Tensor(np.broadcast_to(targets[:, None], (7, 3)).copy(), device="cuda"), h[src])
    scattered.sum().backward()
    assert fake_cupy._fake_sync_count == 0


@GRAPHS
def test_the_fake_cupy_refuses_an_int64_scatter_add_as_cupy_does(fake_cupy):
    """CuPy's atomic add has no int64 (backend.scatter_add adds int64 as uint64 for that reason)."""
    import cupyx
    with pytest.raises(TypeError, match="only supports int32"):
        cupyx.scatter_add(fake_cupy.zeros(3, dtype=np.int64), fake_cupy.asarray([0, 0]),
                          fake_cupy.ones(2, dtype=np.int64))


@GRAPHS
def test_mixing_devices_is_a_runtime_error_naming_both(cuda):
    with pytest.raises(RuntimeError, match="cpu and cuda"):
        Tensor.zeros(3).index_add(0, Tensor([0], device=cuda), Tensor([1.0]))


# ============================================================================ errors

@GRAPHS
@pytest.mark.parametrize("op", ["scatter_add", "index_add"])
def test_a_float_index_is_a_type_error_naming_its_dtype(op):
    with pytest.raises(TypeError, match=rf"{op}: the index must hold integers \(int64\), got float32"):
        getattr(Tensor.zeros(3), op)(0, Tensor([0.0]), Tensor([1.0]))


@GRAPHS
@pytest.mark.parametrize("op", ["scatter_add", "index_add"])
@pytest.mark.parametrize("bad", [3, -1])
def test_an_index_outside_the_axis_is_an_index_error_naming_the_range(op, bad):
    with pytest.raises(IndexError, match=rf"{op}: index {bad} is out of range for axis 1 of size 3: "
                                         r"every index must be in \[0, 3\)"):
        getattr(Tensor.zeros(2, 3), op)(1, Tensor([[0, bad]] if op == "scatter_add" else [0, bad]),
                                        Tensor.ones(1, 2) if op == "scatter_add" else Tensor.ones(2, 2))


@GRAPHS
def test_a_scatter_index_larger_than_src_is_a_value_error_naming_both_shapes():
    with pytest.raises(ValueError, match=r"index of shape \(2, 3\) is larger than src \(2, 2\)"):
        Tensor.zeros(4, 3).scatter_add(0, Tensor.zeros(2, 3, dtype="int64"), Tensor.ones(2, 2))
    with pytest.raises(ValueError, match=r"than self \(4, 3\) along axis 1"):
        Tensor.zeros(4, 3).scatter_add(0, Tensor.zeros(2, 4, dtype="int64"), Tensor.ones(2, 5))


@GRAPHS
def test_a_scatter_index_of_another_rank_is_a_value_error():
    with pytest.raises(ValueError, match=r"self \(4, 3\), index \(2,\) and src \(2, 3\) must have the same number"):
        Tensor.zeros(4, 3).scatter_add(0, Tensor([0, 1]), Tensor.ones(2, 3))


@GRAPHS
def test_index_add_shape_errors_name_the_shapes():
    x = Tensor.zeros(4, 3)
    with pytest.raises(ValueError, match=r"the index must be a vector \(1-D\), got shape \(2, 1\)"):
        x.index_add(0, Tensor([[0], [1]]), Tensor.ones(2, 3))
    with pytest.raises(ValueError, match=r"index of shape \(3,\) has 3 entries, but source of shape \(2, 3\) has 2"):
        x.index_add(0, Tensor([0, 1, 2]), Tensor.ones(2, 3))
    with pytest.raises(ValueError, match=r"source of shape \(2, 2\) must have the shape of self \(4, 3\) except "
                                         r"along axis 0"):
        x.index_add(0, Tensor([0, 1]), Tensor.ones(2, 2))


@GRAPHS
@pytest.mark.parametrize("op", ["scatter_add", "index_add"])
def test_src_of_another_dtype_is_a_type_error_naming_both(op):
    with pytest.raises(TypeError, match=r"self \(float32\) and (src|source) \(float64\) must have the same dtype"):
        getattr(Tensor.zeros(3), op)(0, Tensor([1]), Tensor([1.0], dtype="float64"))


@GRAPHS
@pytest.mark.parametrize("op", ["scatter_add", "index_add"])
def test_an_axis_outside_self_is_an_index_error(op):
    with pytest.raises(IndexError, match=rf"{op}: axis 2 is out of range"):
        getattr(Tensor.zeros(3, 2), op)(2, Tensor([[0]]), Tensor([[1.0]]))


@GRAPHS
def test_a_missing_index_or_src_is_a_type_error():
    with pytest.raises(TypeError, match=r"give the index and the src"):
        Tensor.zeros(3).scatter_add(0, Tensor([1]))
    with pytest.raises(TypeError, match=r"must be tensors"):
        Tensor.zeros(3).index_add(0, Tensor([1]), 1.0)


@GRAPHS
def test_a_fractional_alpha_for_an_integer_tensor_is_a_type_error():
    x = Tensor.zeros(3, dtype="int64")
    assert x.index_add(0, Tensor([1]), Tensor([2]), alpha=3).tolist() == [0, 6, 0]
    with pytest.raises(TypeError, match="alpha must be an int"):
        x.index_add(0, Tensor([1]), Tensor([2]), alpha=0.5)


# ============================================================================ CartPole: the physics

G, M_CART, M_POLE, HALF_LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02


def reference_step(state, action):
    """The classic cart-pole step (Barto, Sutton and Anderson 1983; gymnasium's CartPole-v1), written out."""
    x, x_dot, theta, theta_dot = state
    force = FORCE if action == 1 else -FORCE
    total = M_POLE + M_CART
    temp = (force + M_POLE * HALF_LENGTH * theta_dot ** 2 * math.sin(theta)) / total
    theta_acc = (G * math.sin(theta) - math.cos(theta) * temp) / (
        HALF_LENGTH * (4 / 3 - M_POLE * math.cos(theta) ** 2 / total))
    x_acc = temp - M_POLE * HALF_LENGTH * theta_acc * math.cos(theta) / total
    return np.array([x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc])


STATES = [(0.0, 0.0, 0.0, 0.0), (0.01, -0.02, 0.03, 0.04), (-1.0, 1.5, -0.2, 2.0), (2.3, -3.0, 0.2, -1.0),
          (0.5, 0.0, 0.1, -0.3)]


@RL
@pytest.mark.parametrize("action", [0, 1])
@pytest.mark.parametrize("state", STATES)
def test_one_step_follows_the_cart_pole_equations(state, action):
    env = CartPole()
    env.reset(seed=0)
    env.state = np.array(state)
    obs, reward, terminated, truncated, info = env.step(action)
    expected = reference_step(state, action)
    np.testing.assert_allclose(env.state, expected, rtol=1e-12, atol=1e-15)
    assert obs.dtype == np.float32 and obs.shape == (4,)
    np.testing.assert_array_equal(obs, env.state.astype(np.float32))
    assert reward == 1.0 and info == {} and truncated is False
    assert terminated == (abs(expected[0]) > 2.4 or abs(expected[2]) > 12 * math.pi / 180)


@RL
def test_pushing_the_upright_pole_right_tips_it_left_and_moves_the_cart_right():
    env = CartPole()
    env.reset(seed=0)
    env.state = np.zeros(4)
    env.step(1)
    _, x_dot, _, theta_dot = env.state
    assert x_dot > 0 and theta_dot < 0


@RL
def test_the_constants_are_cartpole_v1s():
    env = CartPole()
    assert (env.gravity, env.masscart, env.masspole, env.length, env.force_mag, env.tau) == (9.8, 1.0, 0.1, 0.5,
                                                                                              10.0, 0.02)
    assert env.theta_threshold_radians == pytest.approx(0.2094395, abs=1e-7) and env.x_threshold == 2.4
    assert env.max_episode_steps == 500


# ============================================================================ CartPole: episodes

def _balance(obs):
    """A hand-tuned linear controller that keeps the pole up for 500 steps from these starts."""
    x, x_dot, theta, theta_dot = obs
    return int(theta + 0.5 * theta_dot + 0.1 * x + 0.1 * x_dot > 0)


@RL
def test_reset_draws_the_state_uniformly_in_plus_minus_0_05():
    env = CartPole()
    starts = np.array([env.reset(seed=s)[0] for s in range(200)])
    assert starts.dtype == np.float32 and starts.shape == (200, 4)
    assert np.all(np.abs(starts) <= 0.05) and np.all(starts.max(axis=0) > 0.04) and np.all(starts.min(axis=0) < -0.04)
    assert env.reset(seed=0)[1] == {}


@RL
def test_pushing_one_way_terminates_the_episode_where_the_pole_passes_12_degrees():
    env = CartPole()
    env.reset(seed=1)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(1)
        rewards.append(reward)
        if terminated:
            break
        assert abs(env.state[2]) <= env.theta_threshold_radians and abs(env.state[0]) <= 2.4
        assert not truncated
    assert abs(env.state[2]) > env.theta_threshold_radians
    assert rewards == [1.0] * len(rewards) and 5 < len(rewards) < 500     # the falling step still counts


@RL
def test_leaving_the_track_terminates_the_episode():
    env = CartPole()
    env.reset(seed=0)
    env.state = np.array([2.39, 1.0, 0.0, 0.0])
    assert env.step(1)[2] is True


@RL
def test_stepping_on_after_termination_warns_and_gives_no_reward():
    env = CartPole()
    env.reset(seed=0)
    while not env.step(0)[2]:
        pass
    with pytest.warns(RuntimeWarning, match="already terminated"):
        assert env.step(0)[1] == 0.0


@RL
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_balanced_pole_is_truncated_after_500_steps(seed):
    env = CartPole()
    obs, _ = env.reset(seed=seed)
    for step in range(1, 501):
        obs, reward, terminated, truncated, _ = env.step(_balance(obs))
        assert not terminated and reward == 1.0
        assert truncated == (step == 500)


@RL
def test_max_episode_steps_sets_the_time_limit():
    env = CartPole(max_episode_steps=10)
    obs, _ = env.reset(seed=0)
    flags = [env.step(_balance(obs))[3] for _ in range(10)]
    assert flags == [False] * 9 + [True]
    env.reset()
    assert env.step(0)[3] is False                  # reset starts the count again


# ============================================================================ CartPole: seeding

def _trajectory(env, seed):
    """The observations of one episode under random actions drawn from `seed`."""
    observations = [env.reset(seed=seed)[0]]
    actions = np.random.default_rng(seed)
    while True:
        obs, _, terminated, truncated, _ = env.step(int(actions.integers(0, 2)))
        observations.append(obs)
        if terminated or truncated:
            return observations


@RL
def test_the_same_seed_gives_the_same_episode():
    a, b = _trajectory(CartPole(), 7), _trajectory(CartPole(), 7)
    np.testing.assert_array_equal(np.array(a), np.array(b))
    assert not np.array_equal(CartPole().reset(seed=7)[0], CartPole().reset(seed=8)[0])


@RL
def test_the_start_is_numpys_default_rng_of_the_seed_as_in_gymnasium():
    expected = np.random.default_rng(42).uniform(-0.05, 0.05, size=(4,))
    np.testing.assert_array_equal(CartPole().reset(seed=42)[0], expected.astype(np.float32))


@RL
def test_reset_without_a_seed_goes_on_with_the_seeded_stream():
    env, other = CartPole(), CartPole()
    first, second = env.reset(seed=3)[0], env.reset()[0]
    assert not np.array_equal(first, second)
    rng = np.random.default_rng(3)
    rng.uniform(-0.05, 0.05, 4)
    np.testing.assert_array_equal(second, rng.uniform(-0.05, 0.05, 4).astype(np.float32))
    other.reset(seed=3)
    np.testing.assert_array_equal(other.reset()[0], second)


@RL
@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_a_bad_seed_is_refused(seed, error):
    with pytest.raises(error, match="seed"):
        CartPole().reset(seed=seed)


# ============================================================================ CartPole: actions and spaces

@RL
@pytest.mark.parametrize("action", [2, -1, 0.5, 1.0, True, "1", None, np.array([0, 1]), Tensor([0.0])],
                         ids=["2", "-1", "0.5", "1.0", "True", "str", "None", "two", "float tensor"])
def test_an_action_other_than_0_or_1_is_a_value_error(action):
    env = CartPole()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"CartPole.step: the action must be 0 \(push left\) or 1 \(push right\)"):
        env.step(action)


@RL
@pytest.mark.parametrize("action", [1, np.int64(1), np.array(1), Tensor(1), Tensor([1]), Tensor([0.0, 1.0]).argmax()],
                         ids=["int", "np.int64", "0-d array", "0-d tensor", "1-element tensor", "argmax"])
def test_integer_scalars_arrays_and_tensors_are_actions(action):
    env, reference = CartPole(), CartPole()
    env.reset(seed=0)
    reference.reset(seed=0)
    np.testing.assert_array_equal(env.step(action)[0], reference.step(1)[0])


@RL
def test_step_before_reset_is_a_runtime_error():
    with pytest.raises(RuntimeError, match=r"call reset\(\) before the first step"):
        CartPole().step(0)


@RL
def test_the_spaces_describe_the_actions_and_observations():
    env = CartPole()
    assert env.action_space.n == 2
    env.action_space.seed(0)
    samples = [env.action_space.sample() for _ in range(50)]
    assert set(samples) == {0, 1}
    env.action_space.seed(0)
    assert [env.action_space.sample() for _ in range(50)] == samples
    assert env.action_space.contains(1) and not env.action_space.contains(2)
    assert env.observation_space.shape == (4,) and env.observation_space.dtype == np.float32
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.observation_space.contains(env.observation_space.sample())


@RL
def test_envs_is_part_of_the_package():
    assert tg.envs.CartPole is CartPole


# ============================================================================ CartPole against gymnasium

@RL
@pytest.mark.parametrize("seed", range(5))
def test_trajectories_match_gymnasiums_cartpole_v1(seed):
    gymnasium = pytest.importorskip("gymnasium")
    theirs, ours = gymnasium.make("CartPole-v1"), CartPole()
    their_obs, _ = theirs.reset(seed=seed)
    our_obs, _ = ours.reset(seed=seed)
    np.testing.assert_array_equal(our_obs, their_obs)
    controller = _balance if seed % 2 else (lambda obs: int(obs[2] > 0.05))     # a long episode, a short one
    while True:
        action = controller(their_obs)
        their_obs, *their_rest = theirs.step(action)
        our_obs, *our_rest = ours.step(action)
        np.testing.assert_array_equal(our_obs, their_obs)
        assert our_rest[:3] == list(their_rest[:3])
        if their_rest[1] or their_rest[2]:
            break
