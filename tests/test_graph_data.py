"""tinygrad_edu.data graphs: Zachary's karate club as shipped, and the stochastic block model generator.

The karate club is checked against facts about Zachary's (1977) graph (34 members, 78 friendships, the
degrees of the instructor and the president, a 17/17 split) and, when networkx is installed, against
networkx.karate_club_graph() edge for edge and club for club. make_sbm is checked for the form of its
edge list and for its statistics: the share of pairs joined inside and between communities is p_in and
p_out within a few standard deviations.
"""
import numpy as np
import pytest

from tinygrad_edu.data import load_karate_club, make_sbm

pytestmark = [pytest.mark.lecture_graphs]

# The degree of every member, 0-based, as in Zachary's matrix.
KARATE_DEGREES = [16, 9, 10, 6, 3, 4, 4, 4, 5, 2, 3, 1, 2, 5, 2, 2, 2, 2, 2, 3, 2, 2, 2, 5, 3, 3, 2, 4, 3,
                  4, 4, 6, 12, 17]
INSTRUCTORS_SIDE = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21]


def assert_simple_edge_list(edges, n):
    """int64 (m, 2), each undirected edge once as (i, j) with i < j, nodes in [0, n), sorted."""
    assert edges.dtype == np.int64 and edges.ndim == 2 and edges.shape[1] == 2
    assert (edges[:, 0] < edges[:, 1]).all(), "an edge must be stored as (i, j) with i < j: no self-loops"
    assert edges.min() >= 0 and edges.max() < n
    assert len(np.unique(edges, axis=0)) == len(edges), "an edge is listed twice"
    assert (np.lexsort((edges[:, 1], edges[:, 0])) == np.arange(len(edges))).all(), "the rows are not sorted"


def test_karate_club_has_34_members_and_78_friendships():
    edges, labels = load_karate_club()
    assert edges.shape == (78, 2) and labels.shape == (34,)
    assert labels.dtype == np.int64
    assert_simple_edge_list(edges, 34)
    assert set(edges.ravel().tolist()) == set(range(34)), "every member has a friend"


def test_karate_club_degrees_are_zacharys():
    edges, _ = load_karate_club()
    degrees = np.bincount(edges.ravel(), minlength=34)
    assert degrees[0] == 16 and degrees[33] == 17          # the instructor and the president
    assert degrees.tolist() == KARATE_DEGREES
    assert degrees.sum() == 2 * 78


def test_karate_club_splits_17_17_with_the_leaders_on_opposite_sides():
    _, labels = load_karate_club()
    assert np.bincount(labels).tolist() == [17, 17]
    assert labels[0] == 0 and labels[33] == 1
    assert np.flatnonzero(labels == 0).tolist() == INSTRUCTORS_SIDE


def test_karate_club_arrays_are_fresh_copies():
    edges, labels = load_karate_club()
    edges[0] = [5, 5]
    labels[:] = 7
    again_edges, again_labels = load_karate_club()
    assert again_edges[0].tolist() == [0, 1] and again_labels[0] == 0


def test_karate_club_is_networkx_karate_club_graph():
    nx = pytest.importorskip("networkx")
    graph = nx.karate_club_graph()
    edges, labels = load_karate_club()
    theirs = sorted((min(u, v), max(u, v)) for u, v in graph.edges())
    assert edges.tolist() == [list(e) for e in theirs]
    clubs = [graph.nodes[i]["club"] for i in range(34)]
    assert [{"Mr. Hi": 0, "Officer": 1}[c] for c in clubs] == labels.tolist()


def test_sbm_shapes_and_communities_in_order():
    edges, X, y = make_sbm((30, 20, 10), p_in=0.3, p_out=0.05, n_features=5, random_state=0)
    assert X.shape == (60, 5) and X.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == [0] * 30 + [1] * 20 + [2] * 10
    assert_simple_edge_list(edges, 60)


def test_sbm_edge_densities_are_p_in_and_p_out():
    sizes, p_in, p_out = (100, 100, 100), 0.2, 0.02
    edges, _, y = make_sbm(sizes, p_in=p_in, p_out=p_out, n_features=0, random_state=1)
    same = y[edges[:, 0]] == y[edges[:, 1]]
    pairs_in = sum(s * (s - 1) // 2 for s in sizes)             # 14850
    pairs_out = (sum(sizes) ** 2 - sum(s * s for s in sizes)) // 2   # 30000
    for count, pairs, p in ((same.sum(), pairs_in, p_in), ((~same).sum(), pairs_out, p_out)):
        sigma = np.sqrt(pairs * p * (1 - p))
        assert abs(count - pairs * p) < 5 * sigma, (count, pairs * p, sigma)


def test_sbm_degrees_average_what_the_probabilities_predict():
    sizes, p_in, p_out = (200, 200), 0.05, 0.01
    edges, _, _ = make_sbm(sizes, p_in=p_in, p_out=p_out, n_features=0, random_state=2)
    mean_degree = 2 * len(edges) / 400
    assert abs(mean_degree - (199 * p_in + 200 * p_out)) < 0.5       # expected 11.95


def test_sbm_features_mark_the_community_under_the_noise():
    _, X, y = make_sbm((400, 400, 400), p_in=0.0, p_out=0.0, n_features=6, noise=0.5, random_state=3)
    means = np.stack([X[y == k].mean(axis=0) for k in range(3)])
    expected = np.zeros((3, 6))
    expected[[0, 1, 2], [0, 1, 2]] = 1.0
    np.testing.assert_allclose(means, expected, atol=0.1)
    assert abs(X[:, 3:].std() - 0.5) < 0.03


def test_sbm_without_noise_or_probability_is_exact():
    edges, X, y = make_sbm((3, 2), p_in=1.0, p_out=0.0, n_features=2, noise=0.0, random_state=0)
    assert edges.tolist() == [[0, 1], [0, 2], [1, 2], [3, 4]]
    assert X.tolist() == [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]]


def test_sbm_is_reproducible_with_a_seed():
    first, second, other = (make_sbm(random_state=s) for s in (7, 7, 8))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


def test_sbm_refuses_bad_arguments():
    with pytest.raises(ValueError, match="p_in"):
        make_sbm(p_in=1.5)
    with pytest.raises(ValueError, match="p_out"):
        make_sbm(p_out=-0.1)
    with pytest.raises(ValueError, match="n_features"):
        make_sbm((10, 10, 10), n_features=2)
    with pytest.raises(ValueError, match="sizes"):
        make_sbm((10, 0))
    with pytest.raises(TypeError, match="sizes"):
        make_sbm((10.5, 3))
