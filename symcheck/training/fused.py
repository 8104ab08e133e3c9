"""Hand-written forward and backward pass of SeedNet on a precomputed all-pairs (dense) geometry.

Two forms of the same computation:

* :class:`DenseNetFunction` (with :func:`dense_forward` / :func:`dense_backward`): the whole
  network as one :class:`torch.autograd.Function`, for ``net(x, geo)`` and ``SeedNet.mse_step``
  on any device. For the tutorial's 4 points a step is a few dozen tiny tensor operations; run
  through autograd, each would also cost a graph node, saved-tensor bookkeeping and an engine
  dispatch. ``tests/test_model.py`` checks output and gradients against the plain-e3nn
  reference network.
* :class:`DenseStep`: a whole training step on the CPU (loss, gradients, Adam) with no autograd
  at all, preallocated buffers, NumPy for the small dense arithmetic and compressed sparse
  operators; what ``symcheck train`` runs on dense geometries (``tests/test_step_dense.py``
  checks it against the autograd path and torch.optim.Adam).

Notation (see :mod:`symcheck.training.network`): L layers; the radial MLPs of all layers run as
batched products over the D distinct pair distances. Layer l computes ``Y = M_l @ x``
(sparse; stored for the fixed first-layer input), ``zp = index_add(copy_of_row, w_l * Y)``
of shape (copies, N, mmax). A gated layer applies, copy block by copy block,
``[softplus5(even), tanh(odd), gated * sigmoid(gate)]`` and hands the result on in the same
(copy, point, component) layout; the last layer gathers e3nn's output columns.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

_softplus_backward = torch.ops.aten.softplus_backward
_sigmoid_backward = torch.ops.aten.sigmoid_backward
_tanh_backward = torch.ops.aten.tanh_backward
_THRESHOLD = 20.0  # torch.nn.functional.softplus's default: linear where beta * x > 20


def _gate_forward(gate, zp: torch.Tensor) -> tuple[torch.Tensor, tuple]:
    """Gate on zp (copies, N, mmax) ordered [even, odd, gated, gates] -> (even + odd + gated, N, mmax)."""
    e, o, g = gate.n_even, gate.n_odd, gate.n_gated
    s = e + o
    out = torch.empty(s + g, zp.shape[1], zp.shape[2], dtype=zp.dtype, device=zp.device)
    out[:e] = torch.nn.functional.softplus(zp[:e], beta=5)
    tanh = None
    if o:
        tanh = torch.tanh(zp[e:s])
        out[e:s] = tanh
    sig = torch.sigmoid(zp[s + g :, :, :1])  # each gate is a scalar: component 0 of its copy
    torch.mul(zp[s : s + g], sig, out=out[s:])
    return out, (tanh, sig)


def _gate_backward(gate, zp: torch.Tensor, saved: tuple, grad: torch.Tensor) -> torch.Tensor:
    """Gradient with respect to zp of :func:`_gate_forward`, given the gradient ``grad`` of its output."""
    e, o, g = gate.n_even, gate.n_odd, gate.n_gated
    s = e + o
    tanh, sig = saved
    gz = torch.zeros_like(zp)
    gz[:e] = _softplus_backward(grad[:e], zp[:e], 5, _THRESHOLD)
    if o:
        gz[e:s] = _tanh_backward(grad[e:s], tanh)
    g_gated = grad[s:]
    torch.mul(g_gated, sig, out=gz[s : s + g])
    gz[s + g :, :, :1] = _sigmoid_backward((g_gated * zp[s : s + g]).sum(-1, keepdim=True), sig)
    return gz


def dense_forward(net, geo, x, use_bound, w_in, w_mid, w_out) -> tuple[torch.Tensor, tuple]:
    """Network output (N, K_out) on a dense geometry, and the state :func:`dense_backward` needs."""
    s_in = 1.0 / math.sqrt(net.n_basis)
    cs = net._c_softplus / math.sqrt(net.radial_hidden)
    softplus = torch.nn.functional.softplus

    # Radial MLPs of all layers at once, on the distinct distances: (L, D, H).
    pre = [torch.bmm(geo.emb_layers, w_in).mul_(s_in)]
    hs = [softplus(pre[0])]
    for wm in w_mid:
        pre.append(torch.bmm(hs[-1], wm).mul_(cs))
        hs.append(softplus(pre[-1]))
    w_all = torch.bmm(hs[-1], w_out).mul_(cs)  # (L, D, w_max)
    weights = [w.view(-1, 1) for w in w_all]  # row q = d * w_max + w of each layer's Y

    n = geo.n
    ys, zps, gate_saved = [], [], []
    feat = x.reshape(-1)
    out = None
    for layer, lay in enumerate(geo.layers):
        if layer == 0 and use_bound:
            y = geo.y_first.view(lay.rows, lay.cols)
        else:
            y = torch.mv(lay.m, feat).view(lay.rows, lay.cols)
        zp = torch.zeros(lay.n_copies, lay.cols, dtype=y.dtype, device=y.device)
        zp.index_add_(0, lay.copy_of_row, y * weights[layer])
        ys.append(y)
        zps.append(zp)
        gate = net.gates[layer]
        if gate is not None:
            g_out, saved = _gate_forward(gate, zp.view(lay.n_copies, n, lay.mmax))
            gate_saved.append(saved)
            feat = g_out.view(-1)
        else:
            gate_saved.append(None)
            out = zp.view(-1).index_select(0, lay.gather).view(n, -1)
    return out, (pre, hs, w_mid, w_out, s_in, cs, weights, ys, zps, gate_saved)


def dense_backward(net, geo, state: tuple, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of (radial_in, radial_mid, radial_out) given d loss / d output ``grad`` (N, K_out)."""
    pre, hs, w_mid, w_out, s_in, cs, weights, ys, zps, gate_saved = state
    n = geo.n
    d_count = geo.emb.shape[0]
    n_layers = len(geo.layers)

    g_w_all = torch.empty(n_layers, d_count, net.w_max, dtype=grad.dtype, device=grad.device)
    g_feat = None
    for layer in reversed(range(n_layers)):
        lay = geo.layers[layer]
        gate = net.gates[layer]
        if gate is None:
            g_zp = torch.zeros(lay.n_copies * lay.cols, dtype=grad.dtype, device=grad.device)
            g_zp.index_add_(0, lay.gather, grad.reshape(-1))
            g_zp = g_zp.view(lay.n_copies, lay.cols)
        else:
            shape = (lay.n_copies, n, lay.mmax)
            g_zp = _gate_backward(gate, zps[layer].view(shape), gate_saved[layer], g_feat.view(-1, n, lay.mmax))
            g_zp = g_zp.view(lay.n_copies, lay.cols)
        g_rows = g_zp.index_select(0, lay.copy_of_row)  # (rows, cols): gradient reaching each Y row
        torch.sum(g_rows * ys[layer], 1, out=g_w_all[layer].view(-1))
        if layer > 0:
            g_feat = torch.mv(lay.mt, (g_rows * weights[layer]).view(-1))

    g_out = torch.bmm(hs[-1].transpose(1, 2), g_w_all).mul_(cs)
    g_h = torch.bmm(g_w_all, w_out.transpose(1, 2)).mul_(cs)
    g_mid = torch.empty_like(w_mid)
    for k in reversed(range(len(w_mid))):
        g_a = _softplus_backward(g_h, pre[k + 1], 1, _THRESHOLD)
        torch.bmm(hs[k].transpose(1, 2), g_a, out=g_mid[k]).mul_(cs)
        g_h = torch.bmm(g_a, w_mid[k].transpose(1, 2)).mul_(cs)
    g_a = _softplus_backward(g_h, pre[0], 1, _THRESHOLD)
    g_in = torch.bmm(geo.emb_layers.transpose(1, 2), g_a).mul_(s_in)
    return g_in, g_mid, g_out


class DenseNetFunction(torch.autograd.Function):
    """The whole network on a dense geometry as one autograd node.

    ``apply(net, geo, x, use_bound, radial_in, radial_mid, radial_out)`` -> (N, K_out).
    Gradients flow to the radial weights only (the input features are data here; the model
    uses the edge path when ``x`` needs a gradient).
    """

    @staticmethod
    def forward(ctx, net, geo, x, use_bound, w_in, w_mid, w_out):
        out, state = dense_forward(net, geo, x, use_bound, w_in, w_mid, w_out)
        ctx.net, ctx.geo, ctx.state = net, geo, state
        return out

    @staticmethod
    def backward(ctx, grad):
        state = ctx.state
        del ctx.state
        g_in, g_mid, g_out = dense_backward(ctx.net, ctx.geo, state, grad.contiguous())
        return (None, None, None, None, g_in, g_mid, g_out)


# ---------------------------------------------------------------------------------------------
# The whole training step on the CPU, without autograd: DenseStep.
#
# On the CPU a PyTorch call on tensors of a few hundred numbers costs 2-15 µs of dispatch (and
# PyTorch's MKL matrix products are slow on this size), far more than the arithmetic; NumPy's
# matrix products (OpenBLAS) and elementwise calls cost 0.4-7 µs. So the step keeps every
# intermediate in a preallocated buffer that is both a torch tensor and a NumPy array (same
# memory): matrix products, activations (torch's softplus semantics, threshold included) and
# elementwise arithmetic run in NumPy; the sparse products, the gates' sigmoid and Adam's fused
# kernel in PyTorch (scipy.sparse would cost 0.2 s to import).
# The operators are also stored compressed: only the rows of M that can be non-zero are
# kept (a third of them for the tutorial), and the weighted sum over paths, zp = Σ_w w_radial·Y,
# is itself a sparse product whose stored values ARE the buffer Y (a CSR matrix sharing memory
# with it), so computing Y updates that matrix in place.
# ---------------------------------------------------------------------------------------------


def _buffer(shape, dtype) -> tuple[torch.Tensor, np.ndarray]:
    """A zero-filled CPU tensor and the NumPy array that shares its memory."""
    t = torch.zeros(shape, dtype=dtype)
    return t, t.numpy()


def _sparse(crow: np.ndarray, col: np.ndarray, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """CSR tensor with 32-bit indices whose values are the given tensor (no copy: it shares its memory)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        m = torch.sparse_csr_tensor(
            torch.from_numpy(crow.astype(np.int32)), torch.from_numpy(col.astype(np.int32)), values, shape,
            check_invariants=False,
        )
    if m.values().data_ptr() != values.data_ptr():  # the in-place updates below rely on it
        raise RuntimeError("sparse_csr_tensor copied its values")
    return m


def _crow(row_of_entry: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointers of entries sorted by row."""
    crow = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of_entry, minlength=n_rows), out=crow[1:])
    return crow


_max = np.maximum.reduce


def _softplus_np(x: np.ndarray, out: np.ndarray, deriv: np.ndarray, work: np.ndarray, mask: np.ndarray,
                 beta: float, scale: float) -> None:
    """out = scale · softplus_β(x) and deriv = scale · d softplus_β / dx, as torch computes them.

    torch's softplus is x where β·x > 20 (its threshold), else log1p(exp(β·x)) / β; its derivative
    is 1 there, else sigmoid(β·x) = z / (1 + z) with z = exp(β·x). ``work`` and ``mask`` are
    scratch arrays of x's shape; x is left unchanged.
    """
    u = x
    if beta != 1.0:
        u = np.multiply(x, beta, out=work)
    if _max(u, axis=None) <= _THRESHOLD:  # the usual case: no entry takes the linear branch
        np.exp(u, out=work)
        np.log1p(work, out=out)
        np.multiply(out, scale / beta, out=out)
        np.add(work, 1.0, out=deriv)
        np.divide(work, deriv, out=deriv)
        np.multiply(deriv, scale, out=deriv)
        return
    np.greater(u, _THRESHOLD, out=mask)
    np.minimum(u, _THRESHOLD, out=work)  # exp cannot overflow; the entries above are replaced below
    np.exp(work, out=work)
    np.log1p(work, out=out)
    np.multiply(out, scale / beta, out=out)
    np.multiply(x, scale, out=out, where=mask)
    np.add(work, 1.0, out=deriv)
    np.divide(work, deriv, out=deriv)
    np.multiply(deriv, scale, out=deriv)
    np.copyto(deriv, scale, where=mask)


class _Layer:
    """One convolution of :class:`DenseStep`: compressed operators and the buffers of its step.

    Rows of M that are structurally zero are dropped and the rest sorted by (t, q), where q =
    d·w_max + w is the radial weight that scales the row and t = copy(w)·cols + (i·mmax + m) its
    entry of zp. Then ``zp = Ymat @ w_radial`` with Ymat[t, q] = Y[row] (CSR, values = Y), the
    gradient of the radial weights is ``Ymat^T @ g_zp`` (for all layers at once, see
    :class:`DenseStep`) and the gradient reaching Y is ``g_zp[t] * w_radial[q]``.
    """

    def __init__(self, lay, dtype, fixed: bool):
        crow = lay.m.crow_indices().numpy().astype(np.int64)
        col = lay.m.col_indices().numpy().astype(np.int64)
        val = lay.m.values().detach().cpu().to(dtype).numpy()
        counts = np.diff(crow)
        rows = np.flatnonzero(counts)
        q, c = np.divmod(rows, lay.cols)
        t = lay.copy_of_row.cpu().numpy()[q] * lay.cols + c
        order = np.lexsort((q, t))
        self.rows, self.q_idx, self.t_idx = rows[order], q[order], t[order]
        self.n_y = n_y = len(rows)
        self.n_zp, self.n_q, n_in = lay.n_copies * lay.cols, lay.rows, lay.m.shape[1]
        self.fixed = fixed
        self.mc = self.mct = None
        if not fixed:
            # Mc = M restricted to the kept rows, in their order; and its transpose for the backward pass.
            lens = counts[self.rows]
            mc_crow = np.zeros(n_y + 1, dtype=np.int64)
            np.cumsum(lens, out=mc_crow[1:])
            entry = np.repeat(crow[self.rows] - mc_crow[:-1], lens) + np.arange(mc_crow[-1])
            mc_col, mc_val = col[entry], val[entry]
            self.mc = _sparse(mc_crow, mc_col, torch.from_numpy(mc_val), (n_y, n_in))
            mc_row = np.repeat(np.arange(n_y), lens)
            tr = np.argsort(mc_col, kind="stable")
            self.mct = _sparse(_crow(mc_col[tr], n_in), mc_row[tr], torch.from_numpy(mc_val[tr].copy()), (n_in, n_y))
        self.g_y_t, self.g_y = _buffer(n_y, dtype)
        self.w_g = np.zeros(n_y, dtype=self.g_y.dtype)
        self.g_in_t, self.g_in = _buffer(n_in, dtype)
        self.zp_t, self.zp = _buffer(self.n_zp, dtype)
        self.n_copies, self.cols, self.mmax = lay.n_copies, lay.cols, lay.mmax
        self.gather = None if lay.gather is None else lay.gather.cpu().numpy()

    def bind(self, y_t: torch.Tensor, g_zp_t: torch.Tensor) -> None:
        """Use ``y_t`` (n_y,) for Y, the values of Ymat, and ``g_zp_t`` (n_zp,) for the gradient of zp."""
        self.y_t, self.y = y_t, y_t.numpy()
        self.g_zp_t, self.g_zp = g_zp_t, g_zp_t.numpy()
        self.ymat = _sparse(_crow(self.t_idx, self.n_zp), self.q_idx, y_t, (self.n_zp, self.n_q))


class _Gate:
    """One gate of :class:`DenseStep` on zp in (copies, N, mmax) layout, and its gradient.

    Scalar copies (even: softplus β=5, odd: tanh) and gates (sigmoid) use component 0 only; the
    other components of those copies are never read by the next layer, and their gradients stay 0.
    """

    def __init__(self, gate, layer: _Layer, n: int, dtype):
        self.e, self.o, self.g = e, o, g = gate.n_even, gate.n_odd, gate.n_gated
        s = e + o
        shape = (layer.n_copies, n, layer.mmax)
        zp, gz = layer.zp.reshape(shape), layer.g_zp.reshape(shape)
        self.out_t, self.out = _buffer((s + g, n, layer.mmax), dtype)
        self.zp_even, self.zp_odd, self.zp_gated = zp[:e, :, 0], zp[e:s, :, 0], zp[s : s + g]
        self.zp_gate_t = layer.zp_t.view(shape)[s + g :, :, :1]
        self.out_even, self.out_odd, self.out_gated = self.out[:e, :, 0], self.out[e:s, :, 0], self.out[s:]
        self.gz_even, self.gz_odd = gz[:e, :, 0], gz[e:s, :, 0]
        self.gz_gated, self.gz_gate = gz[s : s + g], gz[s + g :, :, :1]
        real = self.out.dtype
        self.d_even, self.work, self.mask = np.zeros((e, n), real), np.zeros((e, n), real), np.zeros((e, n), bool)
        self.d_odd = np.zeros((o, n), real)
        self.sig_t, self.sig = _buffer((g, n, 1), dtype)
        self.d_sig = np.zeros((g, n, 1), real)
        self.prod = np.zeros((g, n, layer.mmax), real)
        self.prod_sum = np.zeros((g, n, 1), real)
        self.grad_shape = (s + g, n, layer.mmax)
        self.s = s

    def forward(self) -> None:
        """out = [softplus5(even), tanh(odd), gated · sigmoid(gate)] of zp; the derivatives for backward."""
        if self.e:
            _softplus_np(self.zp_even, self.out_even, self.d_even, self.work, self.mask, 5.0, 1.0)
        if self.o:
            np.tanh(self.zp_odd, out=self.out_odd)
            np.multiply(self.out_odd, self.out_odd, out=self.d_odd)
            np.subtract(1.0, self.d_odd, out=self.d_odd)  # tanh' = 1 - tanh²
        torch.sigmoid(self.zp_gate_t, out=self.sig_t)
        np.multiply(self.zp_gated, self.sig, out=self.out_gated)
        np.subtract(1.0, self.sig, out=self.d_sig)
        np.multiply(self.d_sig, self.sig, out=self.d_sig)  # sigmoid' = (1 - σ) σ

    def backward(self, grad: np.ndarray) -> None:
        """g_zp from the gradient of the gate's output (``grad`` in the layout of ``out``)."""
        grad = grad.reshape(self.grad_shape)
        e, s = self.e, self.s
        if e:
            np.multiply(grad[:e, :, 0], self.d_even, out=self.gz_even)
        if self.o:
            np.multiply(grad[e:s, :, 0], self.d_odd, out=self.gz_odd)
        g_gated = grad[s:]
        np.multiply(g_gated, self.sig, out=self.gz_gated)
        np.multiply(g_gated, self.zp_gated, out=self.prod)
        np.add.reduce(self.prod, axis=-1, keepdims=True, out=self.prod_sum)
        np.multiply(self.prod_sum, self.d_sig, out=self.gz_gate)


class DenseStep:
    """Training steps of SeedNet on a dense geometry on the CPU: MSE loss, its gradients and Adam, without autograd.

    The same numbers as ``loss = mse(net(x, geo), target); loss.backward(); torch.optim.Adam.step()``
    (to rounding: ``tests/test_step_dense.py``), at a fraction of the cost. The network's three
    parameters become views into one flat buffer (and their ``.grad`` views into one flat
    gradient buffer, overwritten by every :meth:`loss_and_grad`), so that Adam is a single fused
    call over all of them (:class:`~symcheck.training.optim.FlatAdam`). It runs on one torch
    thread, whatever torch's setting (:func:`_on_one_thread`).

    Parameters
    ----------
    net : a :class:`~symcheck.training.network.SeedNet` on the CPU.
    geo : its dense geometry (``geo.mode == "dense"``).
    x : (N, irreps_in.dim) input features, fixed for the whole run.
    target : (N, irreps_out.dim) target, or (irreps_out.dim,) with ``pool``.
    pool : the prediction is the mean of the output over points.
    lr, betas, eps : Adam's settings (torch.optim.Adam's defaults).
    """

    def __init__(self, net, geo, x: torch.Tensor, target: torch.Tensor, pool: bool = False, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        from .optim import FlatAdam

        if not supports_dense_step(net, geo):
            raise ValueError("DenseStep needs a dense geometry and a network on the CPU")
        dtype = net.radial_in.dtype
        self.net, self.geo, self.pool = net, geo, pool
        # The parameters become views of one flat buffer (same values), their gradients views of
        # another. radial_out is stored as (L, w_max, H), one run of H numbers per weight column,
        # so that Adam can leave out the columns whose gradient is always exactly zero (below).
        params = [net.radial_in, net.radial_mid, net.radial_out]
        n_layers, h, w_max = net.radial_out.shape
        n_in, n_mid = net.radial_in.numel(), net.radial_mid.numel()
        self.out_offset = n_in + n_mid
        flat = torch.cat([p.detach().reshape(-1) for p in params[:2]]
                         + [net.radial_out.detach().transpose(1, 2).reshape(-1)])
        grad = torch.zeros_like(flat)
        for buf, attr in ((flat, "data"), (grad, "grad")):
            setattr(net.radial_in, attr, buf[:n_in].view_as(net.radial_in))
            setattr(net.radial_mid, attr, buf[n_in : self.out_offset].view_as(net.radial_mid))
            setattr(net.radial_out, attr, buf[self.out_offset :].view(n_layers, w_max, h).transpose(1, 2))
        self.w_in, self.w_mid, self.w_out = (p.detach().numpy() for p in params)
        self.g_in, self.g_mid = net.radial_in.grad.numpy(), net.radial_mid.grad.numpy()
        self.g_out_t = grad[self.out_offset :].view(n_layers, w_max, h).numpy()  # (L, w_max, H)
        self.w_mid_t = [w.transpose(0, 2, 1) for w in self.w_mid]
        self.w_out_t = self.w_out.transpose(0, 2, 1)  # contiguous (L, w_max, H)

        # Radial MLPs of all layers on the distinct distances: (L, D, H) per hidden layer. The
        # activations are stored times cs = c_softplus / √H, the factor the next product applies.
        d_count, n_hidden = geo.emb.shape[0], net.radial_mid.shape[0] + 1
        real = self.w_in.dtype
        self.emb_s = (geo.emb.detach().cpu().to(dtype) * (1.0 / math.sqrt(net.n_basis))).numpy()
        self.emb_s_t = np.ascontiguousarray(self.emb_s.T)
        self.cs = net._c_softplus / math.sqrt(h)
        shape = (n_layers, d_count, h)
        self.pre = [np.zeros(shape, real) for _ in range(n_hidden)]
        self.act = [np.zeros(shape, real) for _ in range(n_hidden)]
        self.act_t = [a.transpose(0, 2, 1) for a in self.act]
        self.deriv = [np.zeros(shape, real) for _ in range(n_hidden)]
        self.work, self.mask = np.zeros(shape, real), np.zeros(shape, bool)
        self.g_pre, self.g_act = np.zeros(shape, real), np.zeros(shape, real)
        self.w_all_t, self.w_all = _buffer((n_layers, d_count, net.w_max), dtype)
        self.w_rows_t = list(self.w_all_t.view(n_layers, -1))  # layer k's radial weights, row q = d * w_max + w
        self.w_rows = [w.numpy() for w in self.w_rows_t]
        self.g_w_all_t, self.g_w_all = _buffer((n_layers, d_count, net.w_max), dtype)

        # Convolutions; the first one's Y is fixed, since x is.
        if geo.y_first is not None and x is geo.x_bound:
            y_first = geo.y_first
        else:
            with torch.no_grad():
                y_first = torch.mv(geo.layers[0].m, x.detach().to(geo.layers[0].m).reshape(-1))
        self.layers = layers = [_Layer(lay, dtype, fixed=k == 0) for k, lay in enumerate(geo.layers)]
        # Y and g_zp of all layers in one buffer each, so that the radial-weight gradients of all
        # layers are one sparse product: blockdiag(Ymat_k^T) @ g_zp, with Y permuted to (q, t) order.
        y_off = np.cumsum([0] + [lay.n_y for lay in layers])
        zp_off = np.cumsum([0] + [lay.n_zp for lay in layers])
        self.y_all_t, self.y_all = _buffer(int(y_off[-1]), dtype)
        self.g_zp_all_t, _ = _buffer(int(zp_off[-1]), dtype)
        for k, lay in enumerate(layers):
            lay.bind(self.y_all_t[y_off[k] : y_off[k + 1]], self.g_zp_all_t[zp_off[k] : zp_off[k + 1]])
        layers[0].y[:] = y_first.detach().cpu().to(dtype).numpy()[layers[0].rows]
        perm = [np.argsort(lay.q_idx, kind="stable") for lay in layers]
        pairs = list(enumerate(zip(layers, perm, strict=True)))
        row_t = np.concatenate([k * lay.n_q + lay.q_idx[p] for k, (lay, p) in pairs])
        col_t = np.concatenate([zp_off[k] + lay.t_idx[p] for k, (lay, p) in pairs])
        self.perm = np.concatenate([y_off[k] + p for k, p in enumerate(perm)])
        self.yt_all_t, self.yt_all = _buffer(int(y_off[-1]), dtype)
        self.yt_all[:] = self.y_all[self.perm]
        # Only the layers after the first (whose Y is fixed) need refreshing.
        self.n_fixed = int(y_off[1])
        self.perm_free, self.yt_free = self.perm[self.n_fixed :], self.yt_all[self.n_fixed :]
        self.ymat_t = _sparse(_crow(row_t, n_layers * layers[0].n_q), col_t, self.yt_all_t,
                              (n_layers * layers[0].n_q, int(zp_off[-1])))
        self.g_w_flat_t = self.g_w_all_t.view(-1)
        self.optimizer = FlatAdam(flat, grad, lr, betas, eps, segments=self._live_segments(w_max, h))
        self.gates = [
            _Gate(gate, layer, geo.n, dtype) if gate is not None else None
            for gate, layer in zip(net.gates, self.layers, strict=True)
        ]
        # each layer's input (the previous gate's output) as a flat tensor
        self.feat_t = [None] + [g.out_t.view(-1) for g in self.gates[:-1]]

        last = self.layers[-1]
        self.gather = last.gather
        self.out = np.zeros((geo.n, len(self.gather) // geo.n), real)
        self.out_flat = self.out.reshape(-1)
        self.target = target.detach().cpu().to(dtype).numpy().copy()
        self.pred = np.zeros(self.target.shape, real) if pool else self.out
        self.diff = np.zeros(self.target.shape, real)
        self.diff_flat = self.diff.reshape(-1)
        self.g_pred = np.zeros(self.out.shape, real)
        self.numel = self.target.size
        # d mean(diff²) / d pred = 2 diff / numel; the pooled mean spreads it evenly over the points.
        self.g_scale = 2.0 / self.numel / (geo.n if pool else 1)

    def _live_segments(self, w_max: int, h: int) -> list[tuple[int, int]]:
        """Ranges of the flat buffer that Adam updates: all but radial_out's columns of zero gradient.

        A column w of layer k's radial output gets the gradient Σ Y[(d, w), :] · g_zp: exactly 0 at
        every step when that layer has no Y row for w (padding columns, paths that never occur
        here), or, for the first layer, whose Y is fixed by the input, when all its rows for w are
        0. Adam leaves such a parameter unchanged anyway (its moments stay 0), so skipping it gives
        the same numbers.
        """
        live = np.zeros((len(self.layers), w_max), bool)
        for k, layer in enumerate(self.layers):
            q = layer.q_idx if k else layer.q_idx[layer.y != 0]
            live[k, np.unique(q % w_max)] = True
        segments = [[0, self.out_offset]]
        for chunk in np.flatnonzero(live.reshape(-1)):
            start = self.out_offset + int(chunk) * h
            if segments[-1][1] == start:
                segments[-1][1] = start + h
            else:
                segments.append([start, start + h])
        return [(a, b) for a, b in segments]

    # ------------------------------------------------------------------ the step
    def loss_and_grad(self) -> float:
        """MSE loss at the current parameters; their gradients are written to the parameters' ``.grad``."""
        return _on_one_thread(self._loss_and_grad)

    def _loss_and_grad(self) -> float:
        self._radial_forward()
        for layer, gate, feat_t, w_t in zip(self.layers, self.gates, self.feat_t, self.w_rows_t, strict=True):
            if not layer.fixed:
                torch.mv(layer.mc, feat_t, out=layer.y_t)
            torch.mv(layer.ymat, w_t, out=layer.zp_t)
            if gate is not None:
                gate.forward()

        last = self.layers[-1]
        last.zp.take(self.gather, out=self.out_flat, mode="clip")
        if self.pool:
            np.mean(self.out, axis=0, out=self.pred)
        np.subtract(self.pred, self.target, out=self.diff)
        loss = float(np.dot(self.diff_flat, self.diff_flat)) / self.numel
        np.multiply(self.diff, self.g_scale, out=self.g_pred)  # broadcast over points when pooled
        last.g_zp[self.gather] = self.g_pred.reshape(-1)

        for k in range(len(self.layers) - 1, 0, -1):
            layer = self.layers[k]
            layer.g_zp.take(layer.t_idx, out=layer.g_y, mode="clip")  # indices are in range: no checks
            self.w_rows[k].take(layer.q_idx, out=layer.w_g, mode="clip")
            np.multiply(layer.g_y, layer.w_g, out=layer.g_y)
            torch.mv(layer.mct, layer.g_y_t, out=layer.g_in_t)
            self.gates[k - 1].backward(layer.g_in)
        self.y_all.take(self.perm_free, out=self.yt_free, mode="clip")
        torch.mv(self.ymat_t, self.g_zp_all_t, out=self.g_w_flat_t)
        self._radial_backward()
        return loss

    def update(self) -> None:
        """One Adam step with the gradients of the last :meth:`loss_and_grad`."""
        _on_one_thread(self.optimizer.step)

    def step(self) -> float:
        """Loss and gradients at the current parameters, then one Adam update; returns that loss."""
        return _on_one_thread(self._step)

    def _step(self) -> float:
        loss = self._loss_and_grad()
        self.optimizer.step()
        return loss

    # ------------------------------------------------------------------ radial MLPs
    def _radial_forward(self) -> None:
        """w_all = radial MLP of every layer on the distinct distances (e3nn's FullyConnectedNet)."""
        pre, act, deriv, cs = self.pre, self.act, self.deriv, self.cs
        np.matmul(self.emb_s, self.w_in, out=pre[0])
        _softplus_np(pre[0], act[0], deriv[0], self.work, self.mask, 1.0, cs)
        for k, wm in enumerate(self.w_mid):
            np.matmul(act[k], wm, out=pre[k + 1])
            _softplus_np(pre[k + 1], act[k + 1], deriv[k + 1], self.work, self.mask, 1.0, cs)
        np.matmul(act[-1], self.w_out, out=self.w_all)

    def _radial_backward(self) -> None:
        """Parameter gradients of the radial MLPs from g_w_all (d loss / d w_all)."""
        g_pre, g_act = self.g_pre, self.g_act
        np.matmul(self.g_w_all.transpose(0, 2, 1), self.act[-1], out=self.g_out_t)  # radial_out's, transposed
        np.matmul(self.g_w_all, self.w_out_t, out=g_act)
        for k in range(len(self.w_mid) - 1, -1, -1):
            np.multiply(g_act, self.deriv[k + 1], out=g_pre)
            np.matmul(self.act_t[k], g_pre, out=self.g_mid[k])
            np.matmul(g_pre, self.w_mid_t[k], out=g_act)
        np.multiply(g_act, self.deriv[0], out=g_pre)
        np.matmul(self.emb_s_t, g_pre, out=self.g_in)


def _on_one_thread(fn):
    """``fn()`` with torch on one CPU thread (the caller's setting restored afterwards).

    Every torch call of a step is small (sparse products of ~10^4 entries; Adam on ~10^5 numbers,
    ~0.1 ms): on a busy 2-core machine a second thread made such a call wait milliseconds for a
    core (the tutorial's step: 6 ms with two threads, 1.2 ms with one, measured in the same run);
    on an idle one it would save ~0.06 ms of Adam.
    """
    threads = torch.get_num_threads()
    if threads == 1:
        return fn()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(threads)


def supports_dense_step(net, geo) -> bool:
    """Whether :class:`DenseStep` can train ``net`` on ``geo``: a dense geometry, everything on the CPU."""
    return geo.mode == "dense" and net.radial_in.device.type == "cpu"
