"""One-node recurrent steps and sequences: the LSTM and the GRU as Functions with their backward
written out, beside nn/rnn.py's lstm_cell and gru_cell, which chain Linear, GetItem, Sigmoid,
Tanh, Mul and Add nodes (about 15 of them per time step). One node for speed:

    LSTMStep, GRUStep           one time step (what LSTMCell and GRUCell record)
    LSTMSequence, GRUSequence   one layer in one direction over a whole sequence (what LSTM and
                                GRU record): the loop over time runs inside forward and backward,
                                and the input projections x W_ihᵀ of all time steps, and their
                                gradients, are one matmul each instead of one per step

They compute what lstm_cell and gru_cell compute (the tests run both and compare them); the
sigmoid has the stable form σ(a) = (1 + tanh(a / 2)) / 2, which cannot overflow. A Function has
one output, so an LSTM node returns its new state as one array: [h' | c'] (N, 2H) for a step,
and for a sequence h_1, ..., h_T followed by the last cell state, (T + 1, N, H).
"""
from __future__ import annotations

from .. import backend
from ..autograd import Function

xp = backend.xp


def _sigmoid(a):
    """σ(a) = (1 + tanh(a / 2)) / 2: the same number as 1 / (1 + e^-a), without overflow."""
    y = xp(a).tanh(a * 0.5)
    y += 1
    y *= 0.5
    return y


def _projection(x, w, b):
    """x Wᵀ + b for x (..., in): the pre-activations of every gate, side by side."""
    a = x @ w.T
    if b is not None:
        a += b
    return a


# ----------------------------------------------------------------------------- the LSTM
# The four gates in one tanh: σ(a) = (1 + tanh(a / 2)) / 2, so with s = 1/2 and b = 1/2 on the
# sigmoid gates i, f, o, and s = 1 and b = 0 on the tanh gate g,
#     [i | f | g | o] = s tanh(s a) + b,   and its derivative is s² (1 - tanh²(s a)) = s² - (gate - b)²,
# which is σ (1 - σ) for i, f, o and 1 - g² for g. One pass of tanh over (N, 4H) instead of four calls.

def _one_tanh(H: int, like):
    """s and b of the one-tanh form, each (4H,), in like's dtype and on its device."""
    s = xp(like).full(4 * H, 0.5, dtype=like.dtype)
    s[2 * H:3 * H] = 1
    b = s.copy()
    b[2 * H:3 * H] = 0
    return s, b


def _lstm_gates(a, s, b):
    """a (N, 4H) of pre-activations becomes, in place, the gates [i | f | g | o]; returns the four views."""
    a *= s
    xp(a).tanh(a, out=a)
    a *= s
    a += b
    H = a.shape[-1] // 4
    return a[:, 0 * H:1 * H], a[:, 1 * H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:4 * H]


def _slope(gates, s, b):
    """The derivative of each gate with respect to its pre-activation: s² - (gates - b)²."""
    centred = gates - b
    return s * s - centred * centred


def _dh_dc(gates, tanh_c):
    """dh'/dc' = o (1 - tanh²(c')) for h' = o tanh(c')."""
    H = tanh_c.shape[-1]
    return gates[..., 3 * H:4 * H] * (1 - tanh_c * tanh_c)


def _lstm_gate_gradients(dh, dc, gates, slope, c, tanh_c, dh_dc, d_a):
    """One step back: d_a (N, 4H) is filled with dL/da; returns dL/dc of the cell before the step.

    dh, dc: dL/dh' and dL/dc' from the output and the step after; gates = [i | f | g | o] and
    slope = their derivatives s² - (gates - b)²; c the cell before the step, tanh_c = tanh(c')
    and dh_dc = dh'/dc' = o (1 - tanh²(c'))."""
    m = xp(dh)
    H = c.shape[-1]
    i, f, g = gates[:, 0 * H:1 * H], gates[:, 1 * H:2 * H], gates[:, 2 * H:3 * H]
    dc = dh * dh_dc + dc                                # through h' = o tanh(c'), and from the step after
    m.multiply(dc, g, out=d_a[:, 0 * H:1 * H])          # dL/di
    m.multiply(dc, c, out=d_a[:, 1 * H:2 * H])          # dL/df
    m.multiply(dc, i, out=d_a[:, 2 * H:3 * H])          # dL/dg
    m.multiply(dh, tanh_c, out=d_a[:, 3 * H:4 * H])     # dL/do
    d_a *= slope                                        # through the sigmoids and the tanh
    return dc * f


def _before_each_step(values, first, reverse: bool):
    """The value before each time step, (T, ...): first, then values[t - 1] (values[t + 1] when the
    steps run backwards), from values[t], the value after step t."""
    m = xp(values)
    if reverse:
        return m.concatenate([values[1:], first[None]])
    return m.concatenate([first[None], values[:-1]])


class LSTMStep(Function):
    """One LSTM step for x (N, in), h and c (N, H): with a = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh split
    into [a_i | a_f | a_g | a_o], i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o),
    c' = f c + i g and h' = o tanh(c'); the output is [h' | c'] (N, 2H).

    Backward, for the incoming [dh' | dc']:  dc = dc' + dh' o (1 - tanh²(c')),
    da_i = dc g i (1 - i),  da_f = dc c f (1 - f),  da_g = dc i (1 - g²),  da_o = dh' tanh(c') o (1 - o);
    dx = da W_ih,  dh = da W_hh,  dc_prev = dc f,  dW_ih = daᵀ x,  dW_hh = daᵀ h,  db = Σ_rows da.
    """

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
        s, b = _one_tanh(h.shape[-1], x)
        gates = _projection(x, w_ih, b_ih) + _projection(h, w_hh, b_hh)
        i, f, g, o = _lstm_gates(gates, s, b)
        c_new = f * c + i * g
        tanh_c = xp(x).tanh(c_new)
        ctx.save_for_backward(x, h, c, w_ih, w_hh, gates, tanh_c, s, b)
        return xp(x).concatenate([o * tanh_c, c_new], axis=1)

    @staticmethod
    def backward(ctx, grad):
        x, h, c, w_ih, w_hh, gates, tanh_c, s, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        H = c.shape[-1]
        da = xp(grad).empty(gates.shape, dtype=grad.dtype)
        dc = _lstm_gate_gradients(grad[:, :H], grad[:, H:], gates, _slope(gates, s, b), c, tanh_c,
                                  _dh_dc(gates, tanh_c), da)
        db = da.sum(axis=0) if need[5] or need[6] else None
        return (da @ w_ih if need[0] else None, da @ w_hh if need[1] else None, dc if need[2] else None,
                da.T @ x if need[3] else None, da.T @ h if need[4] else None, db, db)


def _time_order(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


class LSTMSequence(Function):
    """An LSTM layer in one direction over x (T, N, in) from h_0, c_0 (N, H): at each time step t
    (from T-1 down to 0 when reverse), the LSTMStep with a_t = P_t + h W_hhᵀ, where
    P = x W_ihᵀ + b_ih + b_hh for all steps at once. The output is [h_t for every t; c_last],
    (T + 1, N, H).

    Backward runs the steps in the other order (backpropagation through time): at each step
    dL/dh = the output's gradient at t + dh carried from the step after, then LSTMStep's da and
    dc, and dh = da W_hh is carried on. With dA the da of every step (T, N, 4H):
    dx = dA W_ih,  dW_ih = dAᵀ x,  dW_hh = dAᵀ h_prev,  db_ih = db_hh = Σ dA.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        m = xp(x)
        T, N, H = x.shape[0], x.shape[1], h0.shape[-1]
        s, b = _one_tanh(H, x)
        gates = _projection(x, w_ih, b_ih)             # (T, N, 4H): every step's x W_ihᵀ in one matmul
        if b_hh is not None:
            gates += b_hh
        w_hh_t = m.ascontiguousarray(w_hh.T)           # used at every step: a copy that BLAS reads fastest
        out = m.empty((T + 1, N, H), dtype=x.dtype)    # h after every step, then the last c
        cells, tanh_c = m.empty((T, N, H), dtype=x.dtype), m.empty((T, N, H), dtype=x.dtype)
        h, c = h0, c0
        for t in _time_order(T, reverse):
            gates[t] += h @ w_hh_t
            i, f, g, o = _lstm_gates(gates[t], s, b)
            c = m.multiply(f, c, out=cells[t])
            c += i * g                                  # c' = f c + i g
            m.tanh(c, out=tanh_c[t])
            h = m.multiply(o, tanh_c[t], out=out[t])    # h' = o tanh(c')
        out[T] = c
        ctx.reverse = reverse
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, gates, out, cells, tanh_c, s, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, h0, c0, w_ih, w_hh, gates, out, cells, tanh_c, s, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        T, N, H = cells.shape
        h_prev, c_prev = _before_each_step(out[:T], h0, ctx.reverse), _before_each_step(cells, c0, ctx.reverse)
        slope, dh_dc = _slope(gates, s, b), _dh_dc(gates, tanh_c)    # of every step at once, from the forward's
        d_a = xp(grad).empty((T, N, 4 * H), dtype=grad.dtype)
        dh, dc = 0, grad[T]
        for t in _time_order(T, not ctx.reverse):
            dc = _lstm_gate_gradients(grad[t] + dh, dc, gates[t], slope[t], c_prev[t], tanh_c[t], dh_dc[t], d_a[t])
            dh = d_a[t] @ w_hh
        rows = d_a.reshape(T * N, 4 * H)
        db = rows.sum(axis=0) if need[5] or need[6] else None
        return (d_a @ w_ih if need[0] else None, dh if need[1] else None, dc if need[2] else None,
                rows.T @ x.reshape(T * N, -1) if need[3] else None,
                rows.T @ h_prev.reshape(T * N, H) if need[4] else None, db, db)


# ----------------------------------------------------------------------------- the GRU

def _gru_gates(u, v, h):
    """(r, z, n, h') from u = x W_ihᵀ + b_ih and v = h W_hhᵀ + b_hh, each [· _r | · _z | · _n]."""
    H = h.shape[-1]
    r = _sigmoid(u[:, 0 * H:1 * H] + v[:, 0 * H:1 * H])
    z = _sigmoid(u[:, 1 * H:2 * H] + v[:, 1 * H:2 * H])
    n = xp(u).tanh(u[:, 2 * H:3 * H] + r * v[:, 2 * H:3 * H])
    return r, z, n, (1 - z) * n + z * h


def _gru_gate_gradients(dh_new, h, r, z, n, v_n):
    """(dL/du, dL/dv, dL/dh through z h) of one step from dL/dh' (h' = (1 - z) n + z h)."""
    da_n = dh_new * (1 - z) * (1 - n * n)
    da_r = da_n * v_n * r * (1 - r)
    da_z = dh_new * (h - n) * z * (1 - z)
    m = xp(dh_new)
    return (m.concatenate([da_r, da_z, da_n], axis=-1), m.concatenate([da_r, da_z, da_n * r], axis=-1),
            dh_new * z)


class GRUStep(Function):
    """One GRU step for x (N, in) and h (N, H): with u = x W_ihᵀ + b_ih = [u_r | u_z | u_n] and
    v = h W_hhᵀ + b_hh = [v_r | v_z | v_n], r = σ(u_r + v_r), z = σ(u_z + v_z),
    n = tanh(u_n + r v_n) and h' = (1 - z) n + z h.

    Backward, for the incoming dh':  da_n = dh' (1 - z) (1 - n²),  da_z = dh' (h - n) z (1 - z),
    da_r = da_n v_n r (1 - r);  du = [da_r | da_z | da_n],  dv = [da_r | da_z | da_n r];
    dx = du W_ih,  dh = dv W_hh + dh' z,  dW_ih = duᵀ x,  dW_hh = dvᵀ h,  db_ih = Σ du,  db_hh = Σ dv.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        v = _projection(h, w_hh, b_hh)
        r, z, n, h_new = _gru_gates(_projection(x, w_ih, b_ih), v, h)
        ctx.save_for_backward(x, h, w_ih, w_hh, r, z, n, v[:, 2 * h.shape[-1]:])
        return h_new

    @staticmethod
    def backward(ctx, grad):
        x, h, w_ih, w_hh, r, z, n, v_n = ctx.saved_tensors
        need = ctx.needs_input_grad
        du, dv, dh_direct = _gru_gate_gradients(grad, h, r, z, n, v_n)
        return (du @ w_ih if need[0] else None, dv @ w_hh + dh_direct if need[1] else None,
                du.T @ x if need[2] else None, dv.T @ h if need[3] else None,
                du.sum(axis=0) if need[4] else None, dv.sum(axis=0) if need[5] else None)


class GRUSequence(Function):
    """A GRU layer in one direction over x (T, N, in) from h_0 (N, H): at each time step t (from
    T-1 down to 0 when reverse), the GRUStep with u_t = U_t, where U = x W_ihᵀ + b_ih for all steps
    at once. The output is h_t for every t, (T, N, H).

    Backward runs the steps in the other order (backpropagation through time): at each step
    dL/dh' = the output's gradient at t + dh carried from the step after, then GRUStep's du, dv
    and dh = dv W_hh + dh' z is carried on. With dU, dV the du, dv of every step:
    dx = dU W_ih,  dW_ih = dUᵀ x,  dW_hh = dVᵀ h_prev,  db_ih = Σ dU,  db_hh = Σ dV.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        m = xp(x)
        T, N, H = x.shape[0], x.shape[1], h0.shape[-1]
        u = _projection(x, w_ih, b_ih)                 # (T, N, 3H): every step's x W_ihᵀ in one matmul
        out = m.empty((T, N, H), dtype=x.dtype)
        saved = m.empty((4, T, N, H), dtype=x.dtype)   # r, z, n and v_n of every step
        h_prev = m.empty((T, N, H), dtype=x.dtype)
        w_hh_t = m.ascontiguousarray(w_hh.T)           # used at every step: a copy that BLAS reads fastest
        h = h0
        for t in _time_order(T, reverse):
            h_prev[t] = h
            v = h @ w_hh_t if b_hh is None else h @ w_hh_t + b_hh
            r, z, n, h = _gru_gates(u[t], v, h)
            saved[0, t], saved[1, t], saved[2, t], saved[3, t] = r, z, n, v[:, 2 * H:]
            out[t] = h
        ctx.reverse = reverse
        ctx.save_for_backward(x, w_ih, w_hh, saved, h_prev)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w_ih, w_hh, saved, h_prev = ctx.saved_tensors
        need = ctx.needs_input_grad
        T, N, H = h_prev.shape
        m = xp(grad)
        d_u, d_v = m.empty((T, N, 3 * H), dtype=grad.dtype), m.empty((T, N, 3 * H), dtype=grad.dtype)
        dh = 0
        for t in _time_order(T, not ctx.reverse):
            d_u[t], d_v[t], dh_direct = _gru_gate_gradients(grad[t] + dh, h_prev[t], *saved[:, t])
            dh = d_v[t] @ w_hh + dh_direct
        u_rows, v_rows = d_u.reshape(T * N, 3 * H), d_v.reshape(T * N, 3 * H)
        return (d_u @ w_ih if need[0] else None, dh if need[1] else None,
                u_rows.T @ x.reshape(T * N, -1) if need[2] else None,
                v_rows.T @ h_prev.reshape(T * N, H) if need[3] else None,
                u_rows.sum(axis=0) if need[4] else None, v_rows.sum(axis=0) if need[5] else None)
