"""What the network takes from e3nn's construction, computed without importing e3nn.

Importing ``e3nn.o3`` costs about a second on top of torch (it pulls in ``torch._dynamo``), and
building e3nn's tensor products generates and compiles code for each layer. The dense network
(:mod:`symcheck.training.dense`, :mod:`symcheck.training.fused`) never runs that code: it needs
only *which* paths a fully connected tensor product has, their normalisation constants, the
Wigner 3j symbols, e3nn's activation-normalisation constants and where e3nn's Gate reads and
writes its columns. This module computes exactly those, following e3nn 0.5–0.6 line by line:

* :class:`PathSpec` — the instructions of ``o3.FullyConnectedTensorProduct(in1, in2, out)``
  (``"component"`` irrep and ``"element"`` path normalisation, e3nn's defaults);
* :func:`wigner_3j` — ``o3.wigner_3j`` (SU(2) Clebsch–Gordan coefficients in exact fractions,
  turned real by e3nn's change of basis, normalised to norm 1);
* :func:`act_constant` — ``e3nn.math.normalize2mom`` (the same 10^6 seeded normal samples);
* :func:`soft_one_hot_cosine` — ``e3nn.math.soft_one_hot_linspace(..., basis="cosine", cutoff=True)``;
* :func:`gate_irreps` — the input and output irreps of e3nn's ``nn.Gate`` and its column map.

e3nn stays the reference: ``tests/test_verdict_spec.py`` checks every function here against
e3nn (instructions and constants exactly, 3j symbols to 1e-14), and ``tests/test_model.py``
checks the whole network against the plain-e3nn one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import numpy as np
import torch

from .. import o3
from . import cache


class Irreps(o3.Irreps):
    """:class:`symcheck.o3.Irreps` whose ``D_from_matrix`` takes and returns torch tensors, as e3nn's does.

    Compares equal to an e3nn ``o3.Irreps`` with the same terms.
    """

    def __new__(cls, irreps=None) -> Irreps:
        if isinstance(irreps, cls):
            return irreps
        return tuple.__new__(cls, o3.Irreps(irreps))

    def D_from_matrix(self, R) -> torch.Tensor:  # noqa: N802 (e3nn's name)
        """Block-diagonal Wigner matrix of orthogonal ``R`` (..., 3, 3), a tensor of R's dtype (float64 for arrays)."""
        if isinstance(R, torch.Tensor):
            d = o3.irreps_D(self, R.detach().cpu().to(torch.float64).numpy())
            return torch.as_tensor(d, dtype=R.dtype, device=R.device)
        return torch.as_tensor(o3.irreps_D(self, R), dtype=torch.float64)

    @staticmethod
    def spherical_harmonics(lmax: int) -> Irreps:
        """``1x0e+1x1o+1x2e+…`` up to ``lmax`` (parity (-1)^l), e3nn's ``Irreps.spherical_harmonics``."""
        return Irreps([(1, (l, (-1) ** l)) for l in range(int(lmax) + 1)])


def simplify(irreps) -> o3.Irreps:
    """e3nn's ``Irreps.simplify``: neighbouring terms of the same irrep merged, empty terms dropped."""
    out: list[tuple[int, o3.Irrep]] = []
    for mul, ir in o3.Irreps(irreps):
        if out and out[-1][1] == ir:
            out[-1] = (out[-1][0] + mul, ir)
        elif mul > 0:
            out.append((mul, ir))
    return o3.Irreps(out)


def sort_irreps(irreps) -> tuple[o3.Irreps, tuple[int, ...]]:
    """e3nn's ``Irreps.sort``: ``(sorted irreps, p)``, p[i] the new position of term i.

    Terms are ordered by (l, p) as tuples (so 0o before 0e), ties kept in their order.
    """
    terms = list(o3.Irreps(irreps))
    inv = sorted(range(len(terms)), key=lambda i: (tuple(terms[i].ir), i))
    p = [0] * len(inv)
    for new, old in enumerate(inv):
        p[old] = new
    return o3.Irreps([terms[i] for i in inv]), tuple(p)


def product_irreps(ir1: o3.Irrep, ir2: o3.Irrep) -> list[o3.Irrep]:
    """The irreps in ``ir1 ⊗ ir2``: l from |l1 − l2| to l1 + l2, parity p1·p2 (e3nn's ``Irrep.__mul__``)."""
    return [o3.Irrep(l, ir1.p * ir2.p) for l in range(abs(ir1.l - ir2.l), ir1.l + ir2.l + 1)]


class Instruction(NamedTuple):
    """One path of a tensor product, with e3nn's field names (``path_weight``: the normalisation constant)."""

    i_in1: int
    i_in2: int
    i_out: int
    connection_mode: str
    has_weight: bool
    path_weight: float
    path_shape: tuple[int, ...]


class PathSpec:
    """The paths of ``e3nn.o3.FullyConnectedTensorProduct(irreps_in1, irreps_in2, irreps_out)``.

    Every (term of in1, term of in2, term of out) with ir_out ∈ ir1 ⊗ ir2 is a "uvw" path with
    its own weights; its constant is √(dim ir_out / Σ_{paths to the same out term} mul1·mul2)
    (e3nn's "component" irrep normalisation and "element" path normalisation, unit variances).

    Parameters
    ----------
    irreps_in1, irreps_in2, irreps_out : the irreps of the two inputs and of the output.
    """

    def __init__(self, irreps_in1, irreps_in2, irreps_out):
        self.irreps_in1, self.irreps_in2 = o3.Irreps(irreps_in1), o3.Irreps(irreps_in2)
        self.irreps_out = o3.Irreps(irreps_out)
        raw = [
            (i1, i2, i_out)
            for i1, (_, ir1) in enumerate(self.irreps_in1)
            for i2, (_, ir2) in enumerate(self.irreps_in2)
            for i_out, (_, ir_out) in enumerate(self.irreps_out)
            if ir_out in product_irreps(ir1, ir2)
        ]

        mul1, mul2 = [m for m, _ in self.irreps_in1], [m for m, _ in self.irreps_in2]
        # e3nn's "element" normalisation: Σ over the paths into the same output of in1_var · in2_var ·
        # num_elements (mul1 · mul2 for "uvw"), summed as floats in e3nn's order
        fan_in: dict[int, float] = {}
        for i1, i2, i_out in raw:
            fan_in[i_out] = fan_in.get(i_out, 0) + 1.0 * 1.0 * (mul1[i1] * mul2[i2])
        self.instructions: list[Instruction] = []
        for i1, i2, i_out in raw:
            alpha = float(self.irreps_out[i_out].ir.dim)  # the same float operations as e3nn, in its order
            x = fan_in[i_out]
            if x > 0.0:
                alpha /= x
            alpha *= 1.0  # out_var
            alpha *= 1.0  # the instruction's own path weight
            shape = (mul1[i1], mul2[i2], self.irreps_out[i_out].mul)
            self.instructions.append(Instruction(i1, i2, i_out, "uvw", True, math.sqrt(alpha), shape))
        self.weight_numel = sum(math.prod(ins.path_shape) for ins in self.instructions)
        ls1, ls2, ls_out = ([ir.l for _, ir in irreps] for irreps in (self.irreps_in1, self.irreps_in2,
                                                                         self.irreps_out))
        #: the (l1, l2, l_out) of every path: the Wigner 3j symbols this product needs
        self.triples = sorted({(ls1[i1], ls2[i2], ls_out[i_out]) for i1, i2, i_out in raw})

    def __repr__(self) -> str:
        return f"PathSpec({self.irreps_in1} x {self.irreps_in2} -> {self.irreps_out}, {self.weight_numel} weights)"


_PATHS: dict[tuple[str, str, str], PathSpec] = {}


def path_spec(irreps_in1, irreps_in2, irreps_out) -> PathSpec:
    """:class:`PathSpec` of these irreps, made once per process (treat as read-only)."""
    key = (str(o3.Irreps(irreps_in1)), str(o3.Irreps(irreps_in2)), str(o3.Irreps(irreps_out)))
    if key not in _PATHS:
        _PATHS[key] = PathSpec(*key)
    return _PATHS[key]


_W3J: dict[tuple[int, int, int], np.ndarray] = {}


def wigner_3j(l1: int, l2: int, l3: int) -> np.ndarray:
    """e3nn's Wigner 3j symbol ``o3.wigner_3j(l1, l2, l3)``, float64 (2l1+1, 2l2+1, 2l3+1); cached, read-only.

    The SU(2) Clebsch–Gordan coefficients are exact fractions; e3nn's real-to-complex change of
    basis (with its factor (−i)^l) makes them real, and the tensor is normalised to norm 1.
    """
    key = (int(l1), int(l2), int(l3))
    if key not in _W3J:
        _W3J[key] = _compute_wigner_3j(*key)
    return _W3J[key]


def preload_wigner_3j(triples) -> None:
    """Put the 3j symbols of ``triples`` ((l1, l2, l3), …) in :func:`wigner_3j`'s cache, from disk when there.

    The set a network needs is stored as one file of the construction cache
    (:mod:`symcheck.training.cache`); a missing or damaged file is recomputed and rewritten.
    """
    missing = sorted({tuple(int(v) for v in t) for t in triples} - set(_W3J))
    if not missing:
        return
    key = " ".join(f"{a},{b},{c}" for a, b, c in missing)
    shapes = [(2 * a + 1, 2 * b + 1, 2 * c + 1) for a, b, c in missing]
    sizes = [math.prod(shape) for shape in shapes]
    # one flat array for all tables: every array of a file costs a header parse when read
    stored = cache.load("w3j", key, ("tables",))
    flat = None if stored is None else stored["tables"]
    if flat is None or flat.dtype != np.float64 or flat.shape != (sum(sizes),) or not np.isfinite(flat).all():
        flat = np.concatenate([_compute_wigner_3j(*t).reshape(-1) for t in missing])
        cache.store("w3j", key, {"tables": flat})
    start = 0
    for t, shape, size in zip(missing, shapes, sizes, strict=True):
        table = np.array(flat[start:start + size], dtype=np.float64).reshape(shape)
        table.setflags(write=False)
        _W3J[t] = table
        start += size


def _compute_wigner_3j(l1: int, l2: int, l3: int) -> np.ndarray:
    """:func:`wigner_3j` computed."""
    if not abs(l1 - l2) <= l3 <= l1 + l2:
        raise ValueError(f"no Wigner 3j symbol for l = ({l1}, {l2}, {l3})")
    q1, q2, q3 = _real_to_complex(l1), _real_to_complex(l2), _real_to_complex(l3)
    # e3nn's einsum("ij,kl,mn,ikn->jlm", q1, q2, conj(q3.T), cg), one index at a time (100× faster)
    c = np.tensordot(q1, _su2_clebsch_gordan(l1, l2, l3).astype(np.complex128), axes=([0], [0]))  # j k n
    c = np.tensordot(c, q2, axes=([1], [0]))  # j n l
    c = np.tensordot(c, np.conj(q3.T), axes=([1], [1]))  # j l m
    if np.abs(c.imag).max() >= 1e-5:  # e3nn asserts the same
        raise AssertionError(f"Wigner 3j ({l1}, {l2}, {l3}) is not real")
    c = c.real
    c = c / np.linalg.norm(c)
    c.setflags(write=False)
    return c


def _real_to_complex(l: int) -> np.ndarray:
    """e3nn's ``change_basis_real_to_complex(l)`` (complex128, (2l+1, 2l+1))."""
    q = np.zeros((2 * l + 1, 2 * l + 1), dtype=np.complex128)
    for m in range(-l, 0):
        q[l + m, l + abs(m)] = 1 / 2**0.5
        q[l + m, l - abs(m)] = -1j / 2**0.5
    q[l, l] = 1
    for m in range(1, l + 1):
        q[l + m, l + abs(m)] = (-1) ** m / 2**0.5
        q[l + m, l - abs(m)] = 1j * (-1) ** m / 2**0.5
    return (-1j) ** l * q


def _su2_clebsch_gordan(j1: int, j2: int, j3: int) -> np.ndarray:
    """SU(2) Clebsch–Gordan matrix for integer j's, as e3nn's ``_su2_clebsch_gordan``."""
    mat = np.zeros((2 * j1 + 1, 2 * j2 + 1, 2 * j3 + 1))
    if abs(j1 - j2) <= j3 <= j1 + j2:
        for m1 in range(-j1, j1 + 1):
            for m2 in range(-j2, j2 + 1):
                if abs(m1 + m2) <= j3:
                    mat[j1 + m1, j2 + m2, j3 + m1 + m2] = _su2_cg_coefficient(j1, m1, j2, m2, j3, m1 + m2)
    return mat


def _su2_cg_coefficient(j1: int, m1: int, j2: int, m2: int, j3: int, m3: int) -> float:
    """⟨j1 m1 j2 m2 | j3 m3⟩ by Racah's formula, exact up to the final square root (e3nn's expression)."""
    f = math.factorial
    vmin = int(max([-j1 + j2 + m3, -j1 + m1, 0]))
    vmax = int(min([j2 + j3 + m1, j3 - j1 + j2, j3 + m3]))
    c = ((2.0 * j3 + 1.0) * Fraction(
        f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3) * f(j3 + m3) * f(j3 - m3),
        f(j1 + j2 + j3 + 1) * f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2),
    )) ** 0.5
    s = 0
    for v in range(vmin, vmax + 1):
        s += (-1) ** int(v + j2 + m2) * Fraction(
            f(j2 + j3 + m1 - v) * f(j1 - m1 + v), f(v) * f(j3 - j1 + j2 - v) * f(j3 + m3 - v) * f(v + j1 - j2 - m3)
        )
    return float(c * s)


_ACT_CONSTANTS: dict = {}
_SAMPLES: list[torch.Tensor] = []


def act_constant(f: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """e3nn's second-moment normalisation constant of an activation, ``normalize2mom(f).cst``; cached.

    1.0 where e3nn leaves the activation as it is (constant within 1e-4 of 1). The moment is
    taken over the same 10^6 normal samples e3nn draws (CPU generator seeded 0, float64), so the
    number is e3nn's (up to the last bit of the mean, which depends on torch's thread count, in
    e3nn as here); the samples are drawn once for all activations.
    """
    if f not in _ACT_CONSTANTS:
        # a named function's constant is kept on disk (keyed by torch's version, whose sampler it uses)
        name = f"{getattr(f, '__module__', '')}.{getattr(f, '__qualname__', '')}"
        named = "<" not in name and name != "."
        stored = cache.load("act", name, ("cst",)) if named else None
        if stored is not None and stored["cst"].shape == () and np.isfinite(stored["cst"]):
            cst = float(stored["cst"])
        else:
            with torch.no_grad():
                if not _SAMPLES:
                    gen = torch.Generator(device="cpu").manual_seed(0)
                    _SAMPLES.append(torch.randn(1_000_000, generator=gen, dtype=torch.float64))
                cst = f(_SAMPLES[0]).pow(2).mean().pow(-0.5).item()
            if named:
                cache.store("act", name, {"cst": np.array(cst)})
        _ACT_CONSTANTS[f] = 1.0 if abs(cst - 1) < 1e-4 else cst
    return _ACT_CONSTANTS[f]


def soft_one_hot_cosine(x: torch.Tensor, start: float, end: float, number: int) -> torch.Tensor:
    """e3nn's ``soft_one_hot_linspace(x, start, end, number, basis="cosine", cutoff=True)``: (..., number)."""
    values = torch.linspace(start, end, number + 2, dtype=x.dtype, device=x.device)
    step = values[1] - values[0]
    values = values[1:-1]
    diff = (x[..., None] - values) / step
    return torch.cos(math.pi / 2 * diff) * (diff < 1) * (-1 < diff)


class GateIrreps(NamedTuple):
    """What e3nn's ``nn.Gate(scalars, acts, gates, [sigmoid], gated)`` reads and writes.

    ``irreps_in``/``irreps_out`` as e3nn's Gate has them; ``scalars``, ``gates`` and ``gated``
    list the input columns its cut hands to the scalar activations, the gate activations and
    the gated irreps (what ``gate.sc(arange(dim))`` returns).
    """

    irreps_in: o3.Irreps
    irreps_out: o3.Irreps
    scalars: list[int]
    gates: list[int]
    gated: list[int]


def gate_irreps(hidden) -> GateIrreps:
    """The irreps and column map of the tutorial's gate for ``hidden`` (see :func:`symcheck.training.gate.make_gate`).

    e3nn's Gate simplifies its three parts, concatenates, sorts (:func:`sort_irreps`) and
    simplifies again to get its input; its output is the scalars (activations keep the parity
    of 0e and of 0o under tanh) followed by the gated irreps (each times a 0e gate, so unchanged).
    """
    hidden = o3.Irreps(hidden)
    scalars = o3.Irreps([(m, ir) for m, ir in hidden if ir.l == 0])
    gated = o3.Irreps([(m, ir) for m, ir in hidden if ir.l > 0])
    gates = o3.Irreps(f"{gated.num_irreps}x0e") if gated.num_irreps else o3.Irreps("")
    parts = [simplify(scalars), simplify(gates), simplify(gated)]
    joined = o3.Irreps(tuple(t for part in parts for t in part))
    ordered, p = sort_irreps(joined)
    starts = [s.start for s in ordered.slices()]
    columns, term = [], 0
    for part in parts:
        cols: list[int] = []
        for mul_ir in part:
            start = starts[p[term]]
            cols.extend(range(start, start + mul_ir.dim))
            term += 1
        columns.append(cols)
    irreps_out = o3.Irreps(tuple(scalars) + tuple(simplify(gated)))
    return GateIrreps(simplify(ordered), irreps_out, *columns)
