"""The batched group search of ``symcheck scan`` (symcheck.groups.batched and the vectorized trivial
precheck) against the search frame by frame: the same groups, the same elements, the same floors and
flags, on G2 (as given, rattled, rotated and permuted), D2h-subgroup molecules made here with noise
around the tolerance, EMT clusters, and whole scans.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcheck as sc
from symcheck.audit.analysis import obviously_trivial, obviously_trivial_batch
from symcheck.fixed import project
from symcheck.groups import symmetry_group
from symcheck.groups.batched import SIGNS, point_groups
from symcheck.groups.stabilizer import stabilizer

TOL = 0.01


def _g2(rattle: float = 0.0, seed: int = 0, moved: bool = False):
    """G2's molecules, rattled by ``rattle`` Å, and (``moved``) rotated, mirrored, translated and permuted."""
    from ase.collections import g2

    rng = np.random.default_rng(seed)
    out = []
    for k, atoms in enumerate(g2):
        a = atoms.copy()
        if rattle:
            a.rattle(rattle, seed=seed * 1000 + k)
        if moved:
            q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
            a = a[rng.permutation(len(a))]
            a.positions = a.positions @ q.T + rng.normal(size=3)
        out.append((a.positions.copy(), a.get_chemical_symbols()))
    return out


def _keys(ops, decimals=6):
    """Each element as (rounded matrix, permutation): equal sets mean equal groups, element by element."""
    return sorted((tuple(np.round(op.matrix, decimals).reshape(-1) + 0.0), tuple(int(i) for i in op.permutation))
                  for op in ops)


def _check_same(frames, tol=TOL) -> int:
    """Every batched answer equals the detector's: name, order, elements, and P_G on 1o and 0e+2e fields.
    Returns how many frames the batched search answered."""
    found = point_groups([p for p, _ in frames], [s for _, s in frames], tol)
    rng = np.random.default_rng(0)
    answered = 0
    for (pos, species), g in zip(frames, found, strict=True):
        if g is None:
            continue
        answered += 1
        G = symmetry_group(sc.Structure(pos, species), tol)
        assert (g.name, g.order) == (G.name, G.order), (species, g.name, G.name)
        assert _keys(g.operations) == _keys(G.operations)
        full = g.point_group()  # the PointGroup made from the batch's elements, as the stabilizer search needs
        assert (full.name, full.order) == (G.name, G.order) and full.same_group(G)
        assert full.equivalent_atoms == G.equivalent_atoms
        # a field breaking the group: the stabilizer search gives the same label group H on both
        z = project(G, "1o", rng.normal(size=(len(pos), 3)), True)
        z[0] += 0.3
        atol = 0.01 * float(np.max(np.abs(z)))
        st = sc.Structure(pos, species)
        assert stabilizer(full, st, z, "1o", True, atol).name == stabilizer(G, st, z, "1o", True, atol).name
        y = rng.normal(size=(len(pos), 3))
        assert np.allclose(project(g, "1o", y, True), project(G, "1o", y, True), atol=1e-12)
        t = rng.normal(size=6)
        assert np.allclose(project(g, "0e+2e", t, False), project(G, "0e+2e", t, False), atol=1e-12)
    return answered


@pytest.mark.parametrize("rattle", [0.0, 0.002, 0.005, 0.01, 0.02, 0.05])
def test_g2_batched_groups_are_the_detectors(rattle):
    frames = _g2(rattle, seed=1) + _g2(rattle, seed=2, moved=True)
    answered = _check_same(frames)
    assert answered >= 60  # the asymmetric tops (the symmetric ones go to the detector)


def test_g2_batched_groups_cover_its_asymmetric_tops():
    """On G2 as given, the batch answers the planar and bent molecules (Cs, C2v, C2h, D2h, C1, C2)."""
    frames = _g2()
    found = point_groups([p for p, _ in frames], [s for _, s in frames], TOL)
    names = {g.name for g in found if g is not None}
    assert {"Cs", "C2v", "C2h", "D2h"} <= names
    assert all(g is None for (p, _), g in zip(frames, found, strict=True) if len(p) < 3)


def _symmetric_molecule(rng, members: list[int], atoms: int, noise: float):
    """A molecule whose group contains the D2h subgroup ``members`` (indices into SIGNS) in a random frame:
    orbits of random atoms under it, then Gaussian noise of ``noise`` Å on every atom."""
    pts, species = [], []
    elements = ["C", "H", "O", "N"]
    while len(pts) < atoms:
        x = rng.normal(scale=1.5, size=3)
        el = elements[int(rng.integers(len(elements)))]
        for s in SIGNS[members]:
            img = s * x
            if all(np.linalg.norm(img - p) > 0.5 for p in pts):
                pts.append(img)
                species.append(el)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    pos = np.array(pts) @ q.T + rng.normal(size=3)
    return pos + rng.normal(scale=noise, size=pos.shape), species


SUBGROUPS = [[0], [0, 4], [0, 3], [0, 7], [0, 3, 4, 7], [0, 3, 5, 6], [0, 1, 2, 3], list(range(8))]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), which=st.integers(0, len(SUBGROUPS) - 1), atoms=st.integers(3, 14),
       noise=st.sampled_from([0.0, 0.001, 0.003, 0.005, 0.008, 0.012, 0.03]))
def test_random_d2h_subgroup_molecules(seed, which, atoms, noise):
    """Molecules with C1 … D2h symmetry and noise below, near and above the tolerance: wherever the
    batch answers, it is the detector's answer."""
    rng = np.random.default_rng(seed)
    frames = [_symmetric_molecule(rng, SUBGROUPS[which], atoms, noise) for _ in range(6)]
    _check_same(frames)


def test_planar_parallelogram_is_c2h_not_d2h():
    """A planar N2C2 parallelogram: the refit of an in-plane C2 candidate lands on the C2 about the normal
    (the same atom mapping); the batch once counted it twice and said D2h. It is C2h."""
    pos = np.array([[0.0, -0.36, 2.56], [0.0, 0.36, -2.56], [0.0, 0.44, 2.07], [0.0, -0.44, -2.07]])
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    frames = [(pos, ["N", "N", "C", "C"]), (pos @ q.T + 1.0, ["N", "N", "C", "C"])]
    found = point_groups([p for p, _ in frames], [s for _, s in frames], TOL)
    assert [g.name for g in found if g is not None] and all(g.name == "C2h" for g in found if g is not None)
    _check_same(frames)


def test_d2h_subgroup_molecules_are_mostly_answered_by_the_batch():
    """The batch answers most such molecules (the test above would pass vacuously if it answered none)."""
    rng = np.random.default_rng(11)
    frames = [_symmetric_molecule(rng, SUBGROUPS[k % 8], 4 + k % 9, [0.0, 0.004, 0.02][k % 3]) for k in range(48)]
    assert _check_same(frames) >= 30


def test_emt_cluster_frames():
    """EMT clusters (a relaxed Cu octahedron, with a vacancy, and MD-like rattled copies)."""
    from ase import Atoms
    from ase.cluster import Octahedron

    base = Atoms(Octahedron("Cu", 3))
    frames = []
    for k, amp in enumerate([0.0, 0.0, 0.003, 0.01, 0.05]):
        a = base.copy()
        if k == 1:
            del a[[0, 5]]
        if amp:
            a.rattle(amp, seed=k)
        frames.append((a.positions.copy(), a.get_chemical_symbols()))
    _check_same(frames)


@pytest.mark.parametrize("rattle", [0.0, 0.01, 0.05])
def test_vectorized_trivial_precheck_is_the_precheck(rattle):
    frames = _g2(rattle, seed=3) + _g2(rattle, seed=4, moved=True)
    by_size: dict[int, list] = {}
    for pos, species in frames:
        by_size.setdefault(len(pos), []).append((pos, species))
    checked = 0
    for group in by_size.values():
        X = np.stack([p for p, _ in group])
        codes = np.stack([np.unique(np.asarray(s), return_inverse=True)[1].reshape(-1) for _, s in group])
        got = obviously_trivial_batch(X, codes, TOL)
        want = [obviously_trivial(sc.Structure(p, s), TOL) for p, s in group]
        assert got.tolist() == want
        checked += sum(want)
    assert checked > (60 if rattle == 0.05 else 0) - 1


def _write(path, frames, rng, perturb=()):
    """frames as extxyz with forces (projected onto the frame's group, perturbed on ``perturb``) and energy."""
    import ase.io
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    out = []
    for k, (pos, species) in enumerate(frames):
        a = Atoms(species, positions=pos)
        G = symmetry_group(sc.Structure(pos, species), TOL)
        f = project(G, "1o", rng.normal(size=(len(a), 3)), True)
        if k in perturb:
            f[0] += 0.5
        a.calc = SinglePointCalculator(a, forces=f, energy=float(rng.normal()))
        out.append(a)
    ase.io.write(path, out)


def _per_frame(monkeypatch):
    """Make the scan search every frame's group one by one (the path before batching)."""
    import symcheck.audit.analysis as analysis

    monkeypatch.setattr(analysis, "_batched_groups", lambda chunk, frames, settings: ([None] * len(frames),) * 3)


def test_scan_batched_equals_per_frame(tmp_path, monkeypatch):
    """Whole scans of G2 (as given, rattled 0.01–0.05 Å, moved) with forces on: the same groups, floors,
    flags (perturbed frames) and per-frame rows as the scan frame by frame."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    frames = _g2()[:60] + _g2(0.01, seed=6)[60:120] + _g2(0.05, seed=7, moved=True)
    path = tmp_path / "g2.extxyz"
    names = [symmetry_group(sc.Structure(p, sp), TOL).name for p, sp in frames]
    perturb = {next(k for k in range(lo, hi) if names[k] not in ("C1", "Kh")) for lo, hi in
               ((0, 60), (60, 120), (120, len(frames)), (200, len(frames)))}
    _write(path, frames, rng, perturb)
    fast = sc.scan(path, workers=1, chunk_size=64, out=tmp_path / "fast")
    with monkeypatch.context() as m:
        _per_frame(m)
        slow = sc.scan(path, workers=1, chunk_size=64, out=tmp_path / "slow")
    a, b = fast.as_dict(), slow.as_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a["groups"] == b["groups"] and a["frames"] == b["frames"] and a["duplicates"] == b["duplicates"]
    key = [(f["index"], f["label"], f["group"], f["label_group"]) for f in a["flagged"]]
    assert key == [(f["index"], f["label"], f["group"], f["label_group"]) for f in b["flagged"]]
    assert [f["floor"] for f in a["flagged"]] == pytest.approx([f["floor"] for f in b["flagged"]], rel=1e-9)
    for name, la in a["labels"].items():
        lb = b["labels"][name]
        assert la["irreps"] == lb["irreps"]
        assert la["floor"] == pytest.approx(lb["floor"], rel=1e-9, abs=1e-12)
    # the checkpoints: every column of every (frame, label) row
    ta = [r for f in sorted((tmp_path / "fast" / "chunks").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    tb = [r for f in sorted((tmp_path / "slow" / "chunks").glob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    assert len(ta) == len(tb) == len(frames) * 2
    group_of = {row["index"]: row["group"] for row in ta}
    assert {f["index"] for f in a["flagged"]} == perturb
    assert all(group_of[k] == names[k] for k in group_of)
    for ra, rb in zip(ta, tb, strict=True):
        assert {k: v for k, v in ra.items() if k not in ("residual", "floor")} == \
            {k: v for k, v in rb.items() if k not in ("residual", "floor")}
        if rb["floor"] is not None:  # rounding only: the label's mean square times 1e-12
            scale = rb["sumsq"] / rb["entries"]
            assert ra["floor"] == pytest.approx(rb["floor"], rel=1e-9, abs=1e-12 * scale + 1e-30)
