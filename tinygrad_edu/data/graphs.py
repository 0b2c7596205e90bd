"""Graphs for the graph-networks lecture (notebook 20): Zachary's karate club and a stochastic block model.

    from tinygrad_edu.data import load_karate_club, make_sbm
    edges, labels = load_karate_club()       # edges (78, 2) int64, labels (34,) int64
    edges, X, y = make_sbm((50, 50, 50), p_in=0.1, p_out=0.01, n_features=8, random_state=0)

A graph is given as its edge list: row (i, j) is one undirected edge between nodes i and j, stored once,
with i < j, the rows sorted. A graph layer that sends messages both ways uses the list and its mirror
`edges[:, ::-1]`. Node numbers start at 0.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import arguments
from .toy import _rng

# Zachary's karate club: the friendships outside the club's meetings among its 34 members, as
# recorded by W. W. Zachary, "An information flow model for conflict and fission in small groups",
# Journal of Anthropological Research 33(4), 452-473 (1977), the unweighted matrix of his paper.
# Members are numbered from 0 here (Zachary numbers them from 1): node 0 is the instructor, "Mr. Hi",
# node 33 the club's president, "John A." (the officer). The same 78 edges and the same numbering
# are networkx's karate_club_graph().
KARATE_EDGES = (
    (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (0, 8), (0, 10), (0, 11), (0, 12), (0, 13),
    (0, 17), (0, 19), (0, 21), (0, 31),
    (1, 2), (1, 3), (1, 7), (1, 13), (1, 17), (1, 19), (1, 21), (1, 30),
    (2, 3), (2, 7), (2, 8), (2, 9), (2, 13), (2, 27), (2, 28), (2, 32),
    (3, 7), (3, 12), (3, 13),
    (4, 6), (4, 10),
    (5, 6), (5, 10), (5, 16),
    (6, 16),
    (8, 30), (8, 32), (8, 33),
    (9, 33),
    (13, 33),
    (14, 32), (14, 33),
    (15, 32), (15, 33),
    (18, 32), (18, 33),
    (19, 33),
    (20, 32), (20, 33),
    (22, 32), (22, 33),
    (23, 25), (23, 27), (23, 29), (23, 32), (23, 33),
    (24, 25), (24, 27), (24, 31),
    (25, 31),
    (26, 29), (26, 33),
    (27, 33),
    (28, 31), (28, 33),
    (29, 32), (29, 33),
    (30, 32), (30, 33),
    (31, 32), (31, 33),
    (32, 33),
)
# The club each member belonged to after the split: 0 = the instructor's new club ("Mr. Hi"),
# 1 = the officers' club ("Officer"). 17 and 17; networkx calls this node attribute 'club'.
KARATE_CLUBS = (
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0,
    0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
)


def load_karate_club() -> tuple[np.ndarray, np.ndarray]:
    """Zachary's karate club (1977): 34 members, 78 friendships, and the club each member joined after the split.

    Returns `edges`, int64 of shape (78, 2), each undirected edge once as (i, j) with i < j, and `labels`,
    int64 of shape (34,): 0 for the instructor's side (node 0, "Mr. Hi"), 1 for the officer's (node 33).
    Fresh arrays on every call, so a caller may change them."""
    return np.array(KARATE_EDGES, dtype=np.int64), np.array(KARATE_CLUBS, dtype=np.int64)


def make_sbm(sizes: Sequence[int] = (50, 50, 50, 50), p_in: float = 0.1, p_out: float = 0.01,
             n_features: int = 16, noise: float = 1.0,
             random_state: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stochastic block model graph with noisy node features.

    The nodes come in communities ("blocks") of the given sizes, numbered in order: the first sizes[0]
    nodes are community 0, and so on. Each pair of nodes i < j is joined by an edge independently, with
    probability p_in when they are in the same community and p_out when they are not. Each node also
    gets n_features numbers: feature k is 1 for the nodes of community k and 0 for the others, then
    Gaussian noise of standard deviation `noise` is added to every feature (features past the number
    of communities are noise alone). With much noise the features alone say little; the edges say more.

    Returns `edges` int64 (m, 2), each edge once as (i, j) with i < j, sorted; `X` float32
    (n, n_features); `y` int64 (n,), the community of each node. The same random_state gives the same
    graph; None draws from tinygrad_edu's global generator (reproducible after manual_seed)."""
    op = "make_sbm"
    sizes = arguments.int_tuple(sizes, op, what="sizes")
    if not sizes or min(sizes) < 1:
        raise ValueError(f"{op}: sizes must be one or more positive community sizes, got {sizes}")
    p_in = arguments.number(p_in, "p_in", op, minimum=0)
    p_out = arguments.number(p_out, "p_out", op, minimum=0)
    for name, p in (("p_in", p_in), ("p_out", p_out)):
        if p > 1:
            raise ValueError(f"{op}: {name} is a probability and must be in [0, 1], got {p}")
    n_features = arguments.int_arg(n_features, "n_features", op, minimum=0)
    if 0 < n_features < len(sizes):
        raise ValueError(f"{op}: n_features must be 0 or at least the number of communities "
                         f"({len(sizes)}): feature k marks community k; got {n_features}")
    noise = arguments.number(noise, "noise", op, minimum=0)
    rng = _rng(random_state, op)

    y = np.repeat(np.arange(len(sizes)), sizes)
    i, j = np.triu_indices(len(y), k=1)                    # every pair once, i < j, in sorted order
    p = np.where(y[i] == y[j], p_in, p_out)
    keep = rng.random(len(i)) < p
    edges = np.stack([i[keep], j[keep]], axis=1)
    X = np.zeros((len(y), n_features))
    if n_features:
        X[np.arange(len(y)), y] = 1.0
        X += rng.normal(0.0, noise, size=X.shape)
    return edges.astype(np.int64), X.astype(np.float32), y.astype(np.int64)
