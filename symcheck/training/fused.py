"""Hand-written forward and backward pass of SeedNet on a precomputed all-pairs (dense) geometry.

For the tutorial's 4 points a training step is a few dozen tiny tensor operations; run through
autograd, each one also costs a graph node, saved-tensor bookkeeping and an engine dispatch,
which would be most of the time. This module computes the same output and the same parameter
gradients with the same PyTorch kernels (matrix products, ``softplus_backward`` and friends)
as a single :class:`torch.autograd.Function`. ``tests/test_model.py`` checks output and
gradients against the plain-e3nn reference network.

Notation (see :mod:`symcheck.training.network`): L layers; the radial MLPs of all layers run as
batched products over the D distinct pair distances. Layer l computes ``Y = M_l @ x``
(sparse; stored for the fixed first-layer input), ``zp = index_add(copy_of_row, w_l * Y)``
of shape (copies, N, mmax). A gated layer applies, copy block by copy block,
``[softplus5(even), tanh(odd), gated * sigmoid(gate)]`` and hands the result on in the same
(copy, point, component) layout; the last layer gathers e3nn's output columns.
"""

from __future__ import annotations

import math

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
