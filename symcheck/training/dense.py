"""Dense mode: every layer's convolution over all pairs as one precomputed sparse operator.

For a fixed geometry, each layer's tensor-product Clebsch–Gordan coefficients contracted with
every pair's spherical harmonics (and the 1/√N and activation-normalisation constants) form one
sparse matrix ``M[(d, w, i, m), (j, a)]`` (d: distance class, w: path weight, i/j: receiving/
sending point, a: input component, m: component of the output irrep copy that w writes to). A
convolution is then ``Y = M @ x`` followed by ``zp[o] = Σ_{(d,w) → o} w_radial[d, w] · Y[(d, w)]``
(:mod:`symcheck.training.fused`). This module builds the operators (:func:`build_dense_layers`)
and bounds their size (:func:`dense_size`); it also holds the bookkeeping of where e3nn puts
each irrep copy and each path weight.
"""

from __future__ import annotations

import functools
import hashlib
import math
import warnings

import numpy as np
import torch

from .. import o3
from . import cache
from .geometry import DenseLayer, Geometry
from .spec import wigner_3j


def dense_size(tps, n: int) -> int:
    """Upper bound on the numbers the dense mode stores for n points (M counted twice: M and its transpose).

    Parameters
    ----------
    tps : the paths of the network's tensor products (:class:`~symcheck.training.spec.PathSpec`), one per layer.
    n : number of points.
    """
    d = n * (n - 1) // 2 + 1
    total = 0
    for tp in tps:
        mmax = max(ir.dim for _, ir in tp.irreps_out)
        per_pair = sum((2 * l1 + 1) * (2 * l3 + 1) for l1, l3 in _path_dims(tp))
        total += 2 * n * n * per_pair + d * tp.weight_numel * n * mmax
    return total


#: Dense operators already built in this process, by geometry key, device and dtype (the demo's
#: Task 3 trains on Task 2's positions; the equivariance check rotates by the same rotations).
_MEMO = cache.Memo(16)
#: Integers stored with each layer's operator: shape (2), n_copies, rows, cols, mmax, has_gather.
_META = 7


def build_dense_layers(net, geo: Geometry, sh, dst, src, inv, d_count: int, x: torch.Tensor | None,
                       pos: torch.Tensor | None = None) -> None:
    """Append every layer's :class:`DenseLayer` to ``geo.layers`` (and bind the fixed first-layer input ``x``).

    With ``pos`` given, the operators are looked up by the geometry's key (the network's paths,
    gates and normalisation, and the exact positions) in this process and in the on-disk
    construction cache (:mod:`symcheck.training.cache`) before they are built, and stored after.

    Parameters
    ----------
    net : the :class:`~symcheck.training.network.SeedNet` the operators are for.
    geo : its geometry of all ordered pairs (``geo.layers`` empty).
    sh, dst, src, inv : spherical harmonics (float64), receiving and sending point and distance
        class of every edge, on the CPU.
    d_count : number of distinct distances.
    x : input features that stay fixed during training, or None.
    pos : the (N, 3) float64 positions (Å) the edges were made from, or None (no caching).
    """
    dtype, device = net.radial_in.dtype, net.radial_in.device
    key = geometry_key(net, geo, pos, d_count) if pos is not None else None
    layers = _MEMO.get((key, str(device), dtype)) if key is not None else None
    if layers is None:
        parts = _load_parts(key, len(net.paths), geo.n, d_count, net.w_max) if key is not None else None
        if parts is None:
            edges = (sh.to(torch.float64), dst, src, inv, d_count)
            parts = [_layer_parts(net, layer, edges, geo) for layer in range(len(net.paths))]
            if key is not None:
                cache.store("dense", key, _pack(parts))
        layers = [_dense_layer(part, device, dtype) for part in parts]
        if key is not None:
            _MEMO.put((key, str(device), dtype), layers)
    geo.layers.extend(layers)
    if x is not None:
        geo.x_bound = x
        with torch.no_grad():
            geo.y_first = torch.mv(geo.layers[0].m, x.detach().to(device, dtype).reshape(-1))


def geometry_key(net, geo: Geometry, pos: torch.Tensor, d_count: int) -> str:
    """Everything the dense operators depend on: the layers' paths, the gates, the weight stride, the
    normalisation, and the exact positions (a hash of their float64 bytes)."""
    layers = ";".join(f"{p.irreps_in1}*{p.irreps_in2}->{p.irreps_out}" for p in net.paths)
    gates = ";".join("-" if g is None else str(g.irreps_in) for g in net.gates)
    positions = hashlib.sha256(pos.detach().to("cpu", torch.float64).contiguous().numpy().tobytes()).hexdigest()
    return (f"layers {layers}; hidden {net.hidden}; gates {gates}; w_max {net.w_max}; norm {geo.norm!r}; "
            f"n {geo.n}; distances {d_count}; positions {positions}")


def _layer_parts(net, layer: int, edges, geo: Geometry) -> dict[str, torch.Tensor]:
    """One layer's operator as CPU arrays: CSR (crow, col, val), copy_of_row, gather and the integers (meta)."""
    tp, gate, d_count = net.paths[layer], net.gates[layer], edges[4]
    in_index, in_size = _input_layout(net, layer, geo.n)
    # Where each e3nn output column goes: (copy, component).
    if gate is not None:
        k_copy, k_comp, mmax, n_copies = gate.col_copy, gate.col_comp, gate.mmax, gate.n_copies
    else:
        _, k_copy, k_comp, mmax = output_copies(tp.irreps_out)
        n_copies = int(k_copy.max()) + 1
    # Copy written by each weight: the copy of the first e3nn column of its target irrep copy.
    copy_of_w = torch.zeros(net.w_max, dtype=torch.long)  # padding weights: any copy, their Y rows are 0
    copy_of_w[: tp.weight_numel] = k_copy[_copy_first_columns(tp.irreps_out)[_weight_targets(tp)]]
    rows, cols, vals, shape = dense_operator(tp, edges, geo.n, net.in_scale(layer, geo.norm), in_index, in_size,
                                             k_comp, mmax, net.w_max)
    crow, col, val = _csr_parts(rows, cols, vals, shape)
    gather = torch.zeros(0, dtype=torch.long)
    if gate is None:
        gather = ((k_copy[None, :] * geo.n + torch.arange(geo.n)[:, None]) * mmax + k_comp[None, :]).reshape(-1)
    meta = torch.tensor([shape[0], shape[1], n_copies, d_count * net.w_max, geo.n * mmax, mmax, int(gate is None)])
    return {"crow": crow, "col": col, "val": val, "copy_of_row": copy_of_w.repeat(d_count), "gather": gather,
            "meta": meta}


def _dense_layer(part: dict[str, torch.Tensor], device, dtype) -> DenseLayer:
    """The :class:`DenseLayer` of one layer's parts, on ``device`` in ``dtype``."""
    shape0, shape1, n_copies, rows, cols, mmax, has_gather = (int(v) for v in part["meta"])
    shape = (shape0, shape1)
    crow, col, val = part["crow"], part["col"], part["val"]
    return DenseLayer(
        m=_csr_tensor(crow, col, val, shape, device, dtype),
        make_mt=functools.partial(_transposed, crow, col, val, shape, device, dtype),
        copy_of_row=part["copy_of_row"].to(device),
        n_copies=n_copies,
        rows=rows,
        cols=cols,
        mmax=mmax,
        gather=part["gather"].to(device) if has_gather else None,
    )


#: The integer arrays of a layer's parts, in the order they are packed.
_INT_PARTS = ("crow", "col", "copy_of_row", "gather", "meta")


def _pack(parts: list[dict[str, torch.Tensor]]) -> dict[str, np.ndarray]:
    """The layers' parts as three arrays (every array in a file costs a header parse when read):
    all integers, all values, and the integer arrays' lengths."""
    ints = [part[name].to(torch.int64).numpy() for part in parts for name in _INT_PARTS]
    return {"ints": np.concatenate(ints), "vals": np.concatenate([part["val"].numpy() for part in parts]),
            "sizes": np.array([len(a) for a in ints], dtype=np.int64)}


def _load_parts(key: str, n_layers: int, n: int, d_count: int, w_max: int) -> list[dict[str, torch.Tensor]] | None:
    """The layers' parts from the on-disk cache, or None when absent or not self-consistent (then rebuilt)."""
    stored = cache.load("dense", key, ("ints", "vals", "sizes"))
    if stored is None:
        return None
    ints, vals, sizes = stored["ints"], stored["vals"], stored["sizes"]
    if (ints.dtype != np.int64 or vals.dtype != np.float64 or sizes.dtype != np.int64 or ints.ndim != 1
            or vals.ndim != 1 or sizes.shape != (n_layers * len(_INT_PARTS),) or (sizes < 0).any()
            or sizes.sum() != len(ints)):
        return None
    parts, start, v_start = [], 0, 0
    for layer in range(n_layers):
        part = {}
        for k, name in enumerate(_INT_PARTS):
            size = int(sizes[layer * len(_INT_PARTS) + k])
            part[name] = torch.from_numpy(ints[start:start + size].copy())
            start += size
        if part["meta"].shape != (_META,):
            return None
        nnz = len(part["col"])
        wraps = any(len(part[k]) and int(part[k].abs().max()) >= 2**31 for k in ("crow", "col"))  # in 32 bits
        if v_start + nnz > len(vals) or wraps:
            return None
        part["crow"], part["col"] = part["crow"].to(torch.int32), part["col"].to(torch.int32)
        part["val"] = torch.from_numpy(vals[v_start:v_start + nnz].copy())
        v_start += nnz
        if not _consistent(part, n, d_count, w_max):
            return None
        parts.append(part)
    return parts if v_start == len(vals) else None


def _consistent(part: dict[str, torch.Tensor], n: int, d_count: int, w_max: int) -> bool:
    """Whether stored parts have the dtypes, shapes and index ranges of an operator for this geometry."""
    crow, col, val, copy_of_row, gather, meta = (part[k] for k in ("crow", "col", "val", "copy_of_row", "gather",
                                                                   "meta"))
    if (crow.dtype, col.dtype, val.dtype) != (torch.int32, torch.int32, torch.float64) or meta.shape != (_META,):
        return False
    if copy_of_row.dtype != torch.long or gather.dtype != torch.long:
        return False
    shape0, shape1, n_copies, rows, cols, mmax, has_gather = (int(v) for v in meta)
    if rows != d_count * w_max or cols != n * mmax or shape0 != rows * cols or min(shape1, n_copies, mmax) < 1:
        return False
    if crow.shape != (shape0 + 1,) or col.shape != val.shape or int(crow[0]) != 0 or int(crow[-1]) != len(col):
        return False
    if bool((crow.diff() < 0).any()) or (len(col) and (int(col.min()) < 0 or int(col.max()) >= shape1)):
        return False
    if copy_of_row.shape != (rows,) or int(copy_of_row.min()) < 0 or int(copy_of_row.max()) >= n_copies:
        return False
    if has_gather and (gather.ndim != 1 or len(gather) == 0 or int(gather.min()) < 0
                       or int(gather.max()) >= n_copies * cols):
        return False
    return bool(torch.isfinite(val).all())


def _input_layout(net, layer: int, n: int):
    """``(in_index, in_size)``: where input column a of point j lives in the flattened layer input, and its size.

    The first layer reads x (N, A) in e3nn's layout; later layers read the previous gate's output
    in copy layout (copies, N, mmax).
    """
    if layer == 0:
        a_dim = net.paths[0].irreps_in1.dim
        return (lambda j, a: j * a_dim + a), n * a_dim
    _, c_of, m_of, mm = output_copies(net.gates[layer - 1].irreps_out)
    return (lambda j, a: (c_of[a] * n + j) * mm + m_of[a]), (int(c_of.max()) + 1) * n * mm


def dense_operator(tp, edges, n, in_scale, in_index, in_size, k_comp, mmax, w_stride):
    """Entries of the sparse operator of one layer, ``(rows, cols, vals, shape)``.

    M[(d, w, i, m), in_index(j, a)] = Σ_{pairs (i,j) of class d} CG_w[a, b, k] sh_ij[b] in_scale[a].

    CG_w is the coefficient tensor of the path that weight w scales, exactly as e3nn's
    generated code applies it (``path_weight`` · Wigner 3j, 'uvw' connection); m = k_comp[k] is
    the component of output column k within its irrep copy; rows are laid out with
    ``w_stride`` (>= weight_numel) weights per distance class. ``edges`` is
    ``(sh, dst, src, inv, d_count)`` as for :func:`build_dense_layers`.
    """
    sh, dst, src, inv, d_count = edges
    in1, in2, out = tp.irreps_in1, tp.irreps_in2, tp.irreps_out
    start1, start_out = [s.start for s in in1.slices()], [s.start for s in out.slices()]
    sh_blocks = [sh[:, s] for s in in2.slices()]
    rows, cols, vals = [], [], []
    w_offset = 0
    for ins in tp.instructions:
        mul1, mul2, mul3 = ins.path_shape
        if ins.connection_mode != "uvw" or not ins.has_weight:
            raise ValueError(f"unsupported tensor-product instruction {ins}")
        (_, ir1), (_, ir2), (_, ir3) = in1[ins.i_in1], in2[ins.i_in2], out[ins.i_out]
        # b[e, i, k] = path_weight * sum_j w3j[i, j, k] sh_e[j]: the path's operator on x for pair e.
        sh_block = sh_blocks[ins.i_in2].reshape(-1, ir2.dim)
        b = (ins.path_weight * (sh_block @ _w3j_matrix(ir1.l, ir2.l, ir3.l))).reshape(-1, mul2, ir1.dim, ir3.dim)
        e_idx, v_idx, i_idx, k_idx = torch.nonzero(b, as_tuple=True)
        val = b[e_idx, v_idx, i_idx, k_idx]
        # every copy u of the input irrep and wo of the output irrep at once: (mul1, mul3, entries)
        u = torch.arange(mul1)[:, None, None]
        wo = torch.arange(mul3)[None, :, None]
        a = start1[ins.i_in1] + u * ir1.dim + i_idx
        w = w_offset + (u * mul2 + v_idx) * mul3 + wo
        k = start_out[ins.i_out] + wo * ir3.dim + k_idx
        shape = (mul1, mul3, len(val))
        rows.append((((inv[e_idx] * w_stride + w) * n + dst[e_idx]) * mmax + k_comp[k]).expand(shape).reshape(-1))
        cols.append(in_index(src[e_idx], a).expand(shape).reshape(-1))
        vals.append((val * in_scale[a]).expand(shape).reshape(-1))
        w_offset += mul1 * mul2 * mul3
    shape = (d_count * w_stride * n * mmax, in_size)
    return torch.cat(rows), torch.cat(cols), torch.cat(vals), shape


def _csr_parts(rows, cols, vals, shape) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """CSR arrays ``(crow, col, val)`` of distinct (row, col) entries, with 32-bit indices.

    MKL's sparse kernels would convert 64-bit indices on every call.
    """
    order = torch.argsort(rows * shape[1] + cols)
    counts = torch.bincount(rows, minlength=shape[0])
    crow = torch.zeros(shape[0] + 1, dtype=torch.long)
    torch.cumsum(counts, 0, out=crow[1:])
    return crow.to(torch.int32), cols[order].to(torch.int32), vals[order].to(torch.float64)


def _csr_tensor(crow, col, val, shape, device, dtype) -> torch.Tensor:
    """A sparse CSR tensor of the arrays of :func:`_csr_parts`, on ``device`` in ``dtype``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(crow, col, val, shape, check_invariants=False).to(device=device, dtype=dtype)


def _transposed(crow, col, val, shape, device, dtype) -> torch.Tensor:
    """The transpose of the CSR matrix (crow, col, val) of ``shape``, as a CSR tensor."""
    rows = torch.repeat_interleave(torch.arange(shape[0]), crow.diff().long())
    return _csr_tensor(*_csr_parts(col.long(), rows, val, (shape[1], shape[0])), (shape[1], shape[0]), device, dtype)


_W3J: dict[tuple[int, int, int], torch.Tensor] = {}


def _w3j_matrix(l1: int, l2: int, l3: int) -> torch.Tensor:
    """e3nn's Wigner 3j symbol (:func:`symcheck.training.spec.wigner_3j`) as a (2l2+1, (2l1+1)(2l3+1)) float64 matrix.

    Entry [j, i·(2l3+1) + k] is w3j[i, j, k]: a spherical-harmonics row times it gives the
    path's (i, k) block. Cached.
    """
    key = (l1, l2, l3)
    if key not in _W3J:
        w3j = torch.from_numpy(wigner_3j(l1, l2, l3).copy())
        _W3J[key] = w3j.transpose(0, 1).reshape(2 * l2 + 1, (2 * l1 + 1) * (2 * l3 + 1)).contiguous()
    return _W3J[key]


def _copy_first_columns(irreps: o3.Irreps) -> torch.Tensor:
    """e3nn column index of the first component of every irrep copy, in e3nn's copy order."""
    cols, k = [], 0
    for mul, ir in irreps:
        for _ in range(mul):
            cols.append(k)
            k += ir.dim
    return torch.tensor(cols, dtype=torch.long)


def _path_dims(tp) -> list[tuple[int, int]]:
    """(l_in, l_out) of every weight of the tensor product (one entry per weight)."""
    out = []
    for ins in tp.instructions:
        l1 = tp.irreps_in1[ins.i_in1].ir.l
        l3 = tp.irreps_out[ins.i_out].ir.l
        out += [(l1, l3)] * math.prod(ins.path_shape)
    return out


def output_copies(irreps_out: o3.Irreps) -> tuple[list[int], torch.Tensor, torch.Tensor, int]:
    """Split irreps into single irrep copies.

    Returns ``(first_copy, k_copy, k_comp, mmax)``: ``first_copy[i]`` is the copy index of the
    first copy of ``irreps_out[i]``; column k of the e3nn layout is component ``k_comp[k]`` of
    copy ``k_copy[k]``; ``mmax`` is the largest irrep dimension.
    """
    first_copy, k_copy, k_comp = [], [], []
    copy = 0
    for mul, ir in irreps_out:
        first_copy.append(copy)
        for _ in range(mul):
            k_copy += [copy] * ir.dim
            k_comp += list(range(ir.dim))
            copy += 1
    mmax = max((ir.dim for _, ir in irreps_out), default=1)
    return first_copy, torch.tensor(k_copy, dtype=torch.long), torch.tensor(k_comp, dtype=torch.long), mmax


def _weight_targets(tp) -> torch.Tensor:
    """Output copy written by each weight of a fully connected ('uvw') tensor product, shape (weight_numel,).

    e3nn stores the weights instruction after instruction, each as a row-major (u, v, w) block.
    """
    first_copy, _, _, _ = output_copies(tp.irreps_out)
    targets = []
    for ins in tp.instructions:
        if not ins.has_weight:
            continue
        if ins.connection_mode != "uvw":
            raise ValueError(f"unsupported tensor-product connection mode {ins.connection_mode!r}")
        mul1, mul2, mul_out = ins.path_shape
        block = torch.arange(mul_out).repeat(mul1 * mul2) + first_copy[ins.i_out]
        targets.append(block)
    return torch.cat(targets) if targets else torch.zeros(0, dtype=torch.long)
