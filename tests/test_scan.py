"""symcheck scan: a symmetry audit of training sets, checked on EMT data made here.

Data: ASE's EMT calculator on Cu/Al/Ni clusters and fcc cells (relaxed symmetric clusters,
vacancies, short MD frames, a rattled cell), forces/energy/stress from EMT; a copy of the set with
labels perturbed on known frames; duplicated frames (random rotation, mirror, permutation,
translation) with equal and with different labels.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("pyarrow")

import symcheck as sc  # noqa: E402
from symcheck.errors import SymcheckError  # noqa: E402

CHUNK = 4
PERTURBED_FORCES = (0, 6, 15)  # Cu octahedron (Oh), Al icosahedron with a vacancy (C5v), bulk Cu (Fm-3m)
PERTURBED_STRESS = (16,)  # Cu cell with a vacancy (Pm-3m)


def _labelled(atoms):
    """A copy of atoms with EMT's energy, forces (and stress for cells) as a SinglePointCalculator."""
    from ase.calculators.emt import EMT
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = atoms.copy()
    atoms.calc = EMT()
    res = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
    if atoms.pbc.any():
        res["stress"] = atoms.get_stress()
    out = atoms.copy()
    out.calc = SinglePointCalculator(out, **res)
    return out


def _moved(atoms, rng, forces_noise=None):
    """atoms rotated (proper or improper at random), permuted and translated, forces carried along."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from scipy.spatial.transform import Rotation

    R = Rotation.random(random_state=int(rng.integers(1 << 30))).as_matrix()
    if rng.random() < 0.5:
        R = -R  # an improper rotation: O(3)-equivariant models see the mirror image as the same input
    q = rng.permutation(len(atoms))  # new atom j is old atom q[j]
    f = atoms.get_forces() + (0.0 if forces_noise is None else forces_noise)
    out = atoms[q]
    out.positions = atoms.positions[q] @ R.T + rng.normal(size=3)
    out.calc = SinglePointCalculator(out, energy=atoms.get_potential_energy(), forces=f[q] @ R.T)
    return out


def _frames():
    """(clean frames, perturbed frames, info) — the same structures, labels perturbed on known frames."""
    from ase import Atoms, units
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.cluster import Icosahedron, Octahedron
    from ase.md.verlet import VelocityVerlet
    from ase.optimize import BFGS

    frames = []
    md = []
    for build in (lambda: Octahedron("Cu", 3), lambda: Icosahedron("Al", 2), lambda: Octahedron("Ni", 2)):
        a = Atoms(build())  # a plain Atoms (ASE's Cluster does not copy without its surfaces)
        a.center()
        a.calc = EMT()
        BFGS(a, logfile=None).run(fmax=0.05, steps=8)  # a symmetric start relaxes symmetrically
        frames.append(_labelled(a))
        v = a.copy()
        del v[len(v) - 1]  # a vacancy lowers the group
        frames.append(_labelled(v))
        m = a.copy()
        m.rattle(0.05, seed=len(frames))
        m.calc = EMT()
        m.set_momenta(np.random.default_rng(len(frames)).normal(scale=3.0, size=(len(m), 3)))
        dyn = VelocityVerlet(m, 2 * units.fs)
        for _ in range(3):
            dyn.run(5)  # about 0.05 Å between frames: distinct structures at tol = 0.01 Å
            md.append(len(frames))
            frames.append(_labelled(m))
    cu = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    frames.append(_labelled(cu))  # 15
    vac = cu.copy()
    del vac[0]
    frames.append(_labelled(vac))  # 16
    al = bulk("Al", "fcc", a=4.05, cubic=True).repeat((2, 2, 2))
    al.rattle(0.05, seed=3)
    frames.append(_labelled(al))  # 17
    rng = np.random.default_rng(7)
    noise = rng.normal(scale=0.05, size=(len(frames[md[0]]), 3))
    dups = {
        len(frames): (md[0], noise),  # equal structure, forces differ by `noise`: a conflict
        len(frames) + 1: (md[4], None),  # equal structure and labels: a duplicate, no conflict
        len(frames) + 2: (5, None),  # the Al icosahedron (Ih), with labels carried along
    }
    for _, (src, nz) in dups.items():
        frames.append(_moved(frames[src], rng, nz))
    perturbed = [_copy(f) for f in frames]
    for k in PERTURBED_FORCES:
        f = perturbed[k].get_forces().copy()
        f[1] += [0.3, -0.2, 0.1]
        _set(perturbed[k], forces=f)
    for k in PERTURBED_STRESS:
        s = perturbed[k].get_stress().copy()
        s[5] += 0.01  # an xy shear on a cubic cell
        _set(perturbed[k], stress=s)
    return frames, perturbed, {"md": md, "dups": dups, "noise": noise}


def _copy(atoms):
    from ase.calculators.singlepoint import SinglePointCalculator

    out = atoms.copy()
    out.calc = SinglePointCalculator(out, **dict(atoms.calc.results))
    return out


def _set(atoms, **kw):
    from ase.calculators.singlepoint import SinglePointCalculator

    res = dict(atoms.calc.results)
    res.update(kw)
    atoms.calc = SinglePointCalculator(atoms, **res)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import ase.io

    folder = tmp_path_factory.mktemp("scan-data")
    clean, perturbed, info = _frames()
    ase.io.write(folder / "clean.extxyz", clean)
    ase.io.write(folder / "perturbed.extxyz", perturbed)
    return folder, info


@pytest.fixture(scope="module")
def baseline(data):
    folder, _ = data
    return sc.scan(folder / "perturbed.extxyz", workers=1, chunk_size=CHUNK)


def _same(a, b):
    da, db = a.as_dict(), b.as_dict()
    da.pop("seconds")
    db.pop("seconds")
    assert json.dumps(da, sort_keys=True) == json.dumps(db, sort_keys=True)


def test_flagged_frames_are_exactly_the_perturbed_ones(data, baseline):
    folder, _ = data
    clean = sc.scan(folder / "clean.extxyz", workers=1, chunk_size=CHUNK)
    assert clean.flagged == ()
    assert {(f.index, f.label) for f in baseline.flagged} == (
        {(k, "forces") for k in PERTURBED_FORCES} | {(k, "stress") for k in PERTURBED_STRESS})
    floors = [f.floor for f in baseline.flagged]
    assert floors == sorted(floors, reverse=True) and min(floors) > 0
    by_index = {f.index: f for f in baseline.flagged}
    assert by_index[0].group == "Oh" and by_index[15].group == "Fm-3m" and by_index[16].group == "Pm-3m"
    assert by_index[16].label_group != "Pm-3m"  # the shear keeps a tetragonal/orthorhombic subgroup
    # the group counts: symmetric clusters and cells, and C1 for MD frames and their duplicates
    assert baseline.frames == 21
    assert baseline.groups == {"C1": 11, "C4v": 2, "Ih": 2, "Oh": 2, "C5v": 1, "Fm-3m": 1, "P1": 1, "Pm-3m": 1}


def test_dataset_floor_is_the_mean_of_independent_per_frame_floors(data, baseline):
    """Per label: Σ‖y − P_G y‖² over frames (groups and projections by the public API) / entries,
    plus the duplicates' conflict — computed here from the file, not from the scan's tables."""
    import ase.io

    from symcheck.audit.labels import SYMMETRIC_TO_0E2E
    from symcheck.fixed import project
    from symcheck.groups import symmetry_group

    folder, info = data
    residual = {"forces": 0.0, "stress": 0.0, "energy": 0.0}
    entries = {"forces": 0, "stress": 0, "energy": 0}
    Q = SYMMETRIC_TO_0E2E
    for atoms in ase.io.read(folder / "perturbed.extxyz", index=":"):
        G = symmetry_group(sc.from_ase(atoms, features={}), 0.01)
        f = atoms.get_forces()
        residual["forces"] += float(np.sum((f - project(G, "1o", f, True)) ** 2))
        entries["forces"] += f.size
        entries["energy"] += 1
        if atoms.pbc.any():
            y = Q @ atoms.get_stress(voigt=False).reshape(-1)
            residual["stress"] += float(np.sum((y - project(G, "0e+2e", y, False)) ** 2))
            entries["stress"] += 6
    # the one conflicting duplicate: C1 frames, so the added floor is ½‖noise‖² (forces)
    added = 0.5 * float(np.sum(info["noise"] ** 2))
    expect = {k: residual[k] / entries[k] for k in residual}
    expect["forces"] += added / entries["forces"]
    for name, value in expect.items():
        assert baseline.labels[name].floor == pytest.approx(value, rel=1e-9, abs=1e-30)
    assert baseline.labels["energy"].floor == 0.0
    assert baseline.labels["forces"].irreps == "1o" and baseline.labels["stress"].irreps == "0e+2e"
    v = baseline.labels["forces"]
    assert v.floor_fraction == pytest.approx(v.floor / v.variance)


def test_duplicates_under_rotation_mirror_and_permutation(data, baseline):
    _, info = data
    noisy = next(k for k, (_, nz) in info["dups"].items() if nz is not None)
    src = info["dups"][noisy][0]
    assert baseline.duplicate_pairs == 3
    assert [(d.indices, d.label) for d in baseline.duplicates] == [((src, noisy), "forces")]
    n = info["noise"].size
    assert baseline.duplicates[0].conflict == pytest.approx(0.5 * np.sum(info["noise"] ** 2) / (2 * n), rel=1e-9)


def test_alignment_recovers_rotation_and_permutation():
    from symcheck.audit.duplicates import align

    rng = np.random.default_rng(3)
    A = rng.normal(size=(12, 3)) * 2
    species = ["C"] * 6 + ["H"] * 6
    R = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    q = rng.permutation(12)
    B = A[q] @ R.T + [1.0, -2.0, 0.5]
    al = align(A, species, B, [species[i] for i in q], 0.01)
    assert al is not None and al.max_deviation < 1e-9
    assert np.allclose(al.R, R) and np.array_equal(q[al.perm], np.arange(12))
    B2 = B.copy()
    B2[0] += 0.05  # beyond tol: not the same structure
    assert align(A, species, B2, [species[i] for i in q], 0.01) is None


def test_process_pool_gives_the_same_result(data, baseline):
    folder, _ = data
    _same(sc.scan(folder / "perturbed.extxyz", workers=2, chunk_size=CHUNK), baseline)


def test_duplicates_checked_on_the_pool_in_batches_give_the_serial_result(tmp_path):
    """Many clusters of copies (rotated, mirrored, permuted, with other forces): the pool checks them in
    batches of whole clusters and finds the same equal pairs and conflicts, in the same order."""
    import ase.io
    from ase.build import molecule
    from ase.calculators.singlepoint import SinglePointCalculator

    from symcheck.audit.duplicates import batches

    rng = np.random.default_rng(7)
    frames = []
    for name in ("CH4", "NH3", "H2O", "C2H6", "CH3OH", "C6H6", "CCl4", "PF3"):
        base = molecule(name)
        for copy in range(3):
            a = base.copy()
            if copy:
                q = rng.permutation(len(a))
                a = a[q]
                R = np.linalg.qr(rng.normal(size=(3, 3)))[0]
                a.positions = a.positions @ R.T + rng.normal(size=3)
            a.calc = SinglePointCalculator(a, forces=rng.normal(size=(len(a), 3)), energy=1.0)
            frames.append(a)
    path = tmp_path / "copies.extxyz"
    ase.io.write(path, frames, format="extxyz")
    serial = sc.scan(path, workers=1, chunk_size=4)
    pool = sc.scan(path, workers=2, chunk_size=4)
    assert len(serial.duplicates) >= 16 and serial.duplicate_pairs == 16
    _same(pool, serial)
    pairs = [(i, j) for k in range(8) for i, j in ((3 * k, 3 * k + 1), (3 * k, 3 * k + 2), (3 * k + 1, 3 * k + 2))]
    parts = batches(pairs, {i: ("x", i) for i in range(24)}, 8)
    assert len(parts) == 3 and sorted(p for b in parts for p in b.pairs) == pairs
    assert all(len({i // 3 for p in b.pairs for i in p}) * 3 == len(b.pairs) for b in parts)  # whole clusters


def test_dask_local_cluster_gives_the_same_result(data, baseline):
    pytest.importorskip("distributed")
    folder, _ = data
    _same(sc.scan(folder / "perturbed.extxyz", workers=2, scheduler="local", chunk_size=CHUNK), baseline)


def test_dask_scheduler_and_worker_on_loopback(data, baseline, tmp_path):
    pytest.importorskip("distributed")
    folder, _ = data
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        deadline = time.time() + 120
        while not sched_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert sched_file.exists(), "the dask scheduler did not start"
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                       "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
                                       "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env))
        _same(sc.scan(folder / "perturbed.extxyz", scheduler=address, chunk_size=CHUNK), baseline)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_resume_after_kill_gives_identical_output(data, tmp_path):
    import pyarrow.parquet as pq

    folder, _ = data
    src = folder / "perturbed.extxyz"
    ref = sc.scan(src, workers=1, chunk_size=2, out=tmp_path / "ref")
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "symcheck", "scan", str(src), "--workers", "1", "--chunk-size", "2",
           "--out", str(out), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = out / "chunks" / "000000.parquet"
    deadline = time.time() + 240
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.exists(), proc.stderr.read().decode()
    done = sorted(p.name for p in (out / "chunks").glob("*.parquet"))
    assert 0 < len(done) < 11 and not (out / "summary.json").exists()  # killed mid-scan
    seen = []
    resumed = sc.scan(src, workers=1, chunk_size=2, out=out, progress=lambda d, t: seen.append(d))
    assert seen[0] == 2 * len(done)  # the finished chunks are skipped (2 frames each), not scanned again
    _same(resumed, ref)
    assert pq.read_table(out / "frames.parquet").equals(pq.read_table(tmp_path / "ref" / "frames.parquet"))
    assert (out / "frames.csv").read_text() == (tmp_path / "ref" / "frames.csv").read_text()
    for name in ("groups.png", "floors.png", "summary.json"):
        assert (out / name).is_file()
    # a different setting on the same folder is refused, not mixed in
    with pytest.raises(SymcheckError, match="other data or settings"):
        sc.scan(src, workers=1, chunk_size=2, out=out, tol=0.02)


def test_ase_database_input(data, baseline, tmp_path):
    import ase.db
    import ase.io

    folder, _ = data
    path = tmp_path / "set.db"
    with ase.db.connect(path) as db:
        for atoms in ase.io.read(folder / "perturbed.extxyz", index=":"):
            db.write(atoms)
    result = sc.scan(path, workers=1, chunk_size=CHUNK)
    assert result.groups == baseline.groups
    assert [(f.index, f.label) for f in result.flagged] == [(f.index, f.label) for f in baseline.flagged]
    for name in ("forces", "stress"):
        assert result.labels[name].floor == pytest.approx(baseline.labels[name].floor, rel=1e-6)
    assert [d.indices for d in result.duplicates] == [d.indices for d in baseline.duplicates]


def test_directory_and_explicit_labels(data, tmp_path):
    import ase.io

    folder, _ = data
    frames = ase.io.read(folder / "clean.extxyz", index=":3")
    for k, a in enumerate(frames):
        a.info["dipole"] = np.array([0.0, 0.0, 0.1 if k == 0 else 0.0])  # a dipole breaks Oh (frame 0)
        ase.io.write(tmp_path / f"f{k}.extxyz", a)
    result = sc.scan(tmp_path, labels=["dipole:1o", "forces"], workers=1)
    assert result.frames == 3 and set(result.labels) == {"dipole", "forces"}
    assert [(f.index, f.label, f.group, f.label_group) for f in result.flagged] == [(0, "dipole", "Oh", "C4v")]
    with pytest.raises(SymcheckError, match="mystery"):
        sc.scan(tmp_path, labels=["mystery:7q"], workers=1)


def test_stress_to_0e2e_matches_e3nn():
    torch = pytest.importorskip("torch")
    from e3nn import io

    from symcheck.audit.labels import tensor_to_0e2e

    rng = np.random.default_rng(0)
    ct = io.CartesianTensor("ij=ji")
    for _ in range(5):
        A = rng.normal(size=(3, 3))
        S = (A + A.T) / 2
        ours, anti = tensor_to_0e2e(S)
        theirs = ct.from_cartesian(torch.as_tensor(S, dtype=torch.float64)).numpy()
        assert np.allclose(ours, theirs, atol=1e-12) and anti == 0.0
        voigt = [S[0, 0], S[1, 1], S[2, 2], S[1, 2], S[0, 2], S[0, 1]]
        assert np.allclose(tensor_to_0e2e(voigt)[0], theirs, atol=1e-12)
        assert np.isclose(np.sum(ours ** 2), np.sum(S ** 2))  # norm preserving: floors keep the units²
        # a non-symmetric tensor: its symmetric part is converted, the antisymmetric part measured
        y, anti = tensor_to_0e2e(A)
        assert np.allclose(y, theirs, atol=1e-12) and np.isclose(anti, np.sum(((A - A.T) / 2) ** 2))


def test_antisymmetric_stress_is_flagged(tmp_path):
    from ase.build import bulk

    cell = bulk("Cu", "fcc", a=3.6, cubic=True)
    stress = np.diag([0.1, 0.1, 0.1])
    stress[0, 1], stress[1, 0] = 0.02, -0.02  # purely antisymmetric off-diagonal part
    cell.info["virial"] = stress
    import ase.io

    ase.io.write(tmp_path / "a.extxyz", cell)
    result = sc.scan(tmp_path / "a.extxyz", workers=1)
    assert [f.label for f in result.flagged] == ["virial (antisymmetric part)"]
    # the symmetric part is isotropic: fixed by Fm-3m
    assert result.labels["virial"].floor == pytest.approx(0.0, abs=1e-25)


def test_trivial_precheck_agrees_with_the_group_search(data):
    import ase.io

    from symcheck.audit.analysis import obviously_trivial
    from symcheck.groups import symmetry_group

    folder, info = data
    for k, atoms in enumerate(ase.io.read(folder / "clean.extxyz", index=":15")):
        s = sc.from_ase(atoms, features={})
        name = symmetry_group(s, 0.01).name
        if obviously_trivial(s, 0.01):
            assert name == "C1", k
        if k in info["md"]:
            assert name == "C1"


def test_trivial_precheck_on_rattled_molecules():
    """Rattled G2 molecules (MD-like): the distance-profile precheck says C1 only where the search does,
    and for most of the C1 frames (the radii alone caught 14 of 96 here)."""
    from ase.collections import g2

    from symcheck.audit.analysis import obviously_trivial
    from symcheck.groups import symmetry_group

    c1 = caught = 0
    for seed, atoms in enumerate(g2):
        atoms = atoms.copy()
        atoms.rattle(0.05, seed=seed)
        s = sc.from_ase(atoms, features={})
        name = symmetry_group(s, 0.01).name
        c1 += name == "C1"
        if obviously_trivial(s, 0.01):
            assert name == "C1", atoms.get_chemical_formula()
            caught += 1
    assert c1 == 96 and caught >= 80


def test_stabilizer_of_near_axial_tensors_on_linear_molecules():
    """Rank-2 labels (0e+2e) that almost keep the axis of HCN (scan recorded 'operations do not close
    into a finite group'): the label's group exists, and every element of it (every generator of an
    infinite one) keeps the label within the threshold."""
    from ase.build import molecule

    from symcheck.audit.labels import tensor_to_0e2e
    from symcheck.groups import symmetry_group
    from symcheck.groups.stabilizer import field_change, stabilizer

    rng = np.random.default_rng(1)
    s = sc.from_ase(molecule("HCN"), features={})
    G = symmetry_group(s, 0.01)
    z = np.array([0.0, 0.0, 1.0])
    for t in range(60):
        eps = 10 ** rng.uniform(-3, -0.5)
        u = np.cross(z, rng.normal(size=3))
        u /= np.linalg.norm(u)
        T = np.eye(3) + np.outer(z, z) + eps * (np.outer(u, z) + np.outer(z, u) if t % 2 else np.outer(u, u))
        y, _ = tensor_to_0e2e(T)
        atol = 0.01 * np.abs(y).max()
        H = stabilizer(G, s, y, "0e+2e", False, atol)
        assert np.all(field_change(H, y, "0e+2e", False) <= atol * (1 + 1e-9)), (t, H.name)


def test_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\n\nH 0 0 0\nH 1 0 0\n")
    with pytest.raises(SymcheckError, match="bad.xyz"):
        sc.scan(bad, workers=1)
    with pytest.raises(SymcheckError, match="no such file"):
        sc.scan(tmp_path / "missing.extxyz", workers=1)
    proc = subprocess.run([sys.executable, "-m", "symcheck", "scan", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2 and "bad.xyz" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_failure_in_the_group_code_is_recorded_not_fatal(data, monkeypatch):
    """A stabilizer search that raises marks that label (label_group 'error'); the floor and the scan stand."""
    import symcheck.groups.stabilizer as stab

    def broken(*args, **kwargs):
        raise RuntimeError("internal error: simulated")

    monkeypatch.setattr(stab, "stabilizer", broken)
    folder, _ = data
    result = sc.scan(folder / "perturbed.extxyz", workers=1, chunk_size=CHUNK)
    assert {f.index for f in result.flagged} == set(PERTURBED_FORCES) | set(PERTURBED_STRESS)
    assert {f.label_group for f in result.flagged} == {"error"}
    assert sorted(i for i, _ in result.errors) == sorted(PERTURBED_FORCES + PERTURBED_STRESS)
    assert all("simulated" in msg for _, msg in result.errors)


def test_exact_copies_are_paired_with_their_first_not_with_each_other(tmp_path):
    """300 copies of one molecule (forces changed on three of them) give 299 candidate pairs, not
    44,850, and exactly those three conflicts; a 100,000-copy set once needed 23 GB here."""
    from ase.build import molecule
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from symcheck.audit.duplicates import candidate_pairs

    path = tmp_path / "copies.extxyz"
    rng = np.random.default_rng(0)
    base = rng.normal(scale=0.1, size=(3, 3))
    with open(path, "w") as f:
        for i in range(300):
            atoms = molecule("H2O")
            forces = base + (rng.normal(scale=0.5, size=(3, 3)) if i in (17, 150, 299) else 0.0)
            atoms.calc = SinglePointCalculator(atoms, forces=forces)
            write(f, atoms, format="extxyz")
    keys = [("H2O", i, np.array([0.5, 0.6, 0.6])) for i in range(300)]
    pairs = candidate_pairs(keys, 0.01)
    assert pairs == [(0, i) for i in range(1, 300)]
    result = sc.scan([str(path)], labels=["forces:1o"], workers=1)
    assert result.duplicate_pairs == 299 and result.warnings == ()
    assert sorted({d.indices[1] for d in result.duplicates}) == [17, 150, 299]


def test_too_many_near_copies_are_refused_before_any_pair_is_listed():
    """Thousands of distinct fingerprints all within reach of each other: the search says how many pairs
    there would be and lists none (the scan then reports a warning instead of running out of memory)."""
    from symcheck.audit.duplicates import TooManyCandidates, candidate_pairs

    rng = np.random.default_rng(1)
    keys = [("H2O", i, np.array([0.5, 0.6, 0.6]) + rng.uniform(0, 0.005, 3)) for i in range(3000)]
    with pytest.raises(TooManyCandidates) as info:
        candidate_pairs(keys, 0.01, max_pairs=100_000)
    assert info.value.count == 3000 * 2999 // 2
    assert len(candidate_pairs(keys[:200], 0.01, max_pairs=100_000)) == 200 * 199 // 2


def test_rounding_level_forces_of_a_perfect_crystal_are_not_flagged(tmp_path):
    """EMT forces on a perfect fcc cell are zero up to ~1e-15: relative to themselves they break Fm-3m,
    but not beyond rounding relative to the dataset's forces, so no flag (in the summary and in
    frames.parquet alike); a real perturbation of the same cell still is one."""
    import ase.io
    import pyarrow.parquet as pq
    from ase.build import bulk

    perfect = _labelled(bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2)))
    assert 0 < np.abs(perfect.get_forces()).max() < 1e-12
    rattled = perfect.copy()
    rattled.rattle(0.05, seed=1)
    perturbed = _copy(perfect)
    f = perturbed.get_forces().copy()
    f[0] += [0.1, 0.0, 0.0]
    _set(perturbed, forces=f)
    path = tmp_path / "cells.extxyz"
    ase.io.write(path, [perfect, _labelled(rattled), perturbed])
    result = sc.scan(path, workers=1, labels=["forces"], out=tmp_path / "out")
    assert [(f.index, f.label) for f in result.flagged] == [(2, "forces")]
    rows = pq.read_table(tmp_path / "out" / "frames.parquet").to_pylist()
    assert [r["forces_flagged"] for r in rows] == [False, False, True]
    assert rows[0]["forces_group"] == rows[0]["group"] == "Fm-3m"


def test_a_frame_the_group_search_refuses_is_recorded_not_fatal(tmp_path):
    """A frame the group search refuses at this tol (four points within tol/2 of a line, two of which would
    merge on it) made the whole scan exit 2; it is a valid frame: recorded as group "error", the other
    frames scanned. Hostile input (NaN positions) still stops the scan."""
    import ase.io
    from ase import Atoms
    from ase.build import molecule

    c2h = Atoms("C2H", positions=[[0.00456813, 0.01167811, -0.47173187], [0.03281392, 0.01942646, 0.71056609],
                                  [-0.01166151, 0.01603387, -1.52610272]])  # was refused; a rattled line: Cs
    merging = Atoms("C4", positions=[[0, 0, 0], [1, 0.004, 0], [1.008, -0.004, 0], [2.5, 0, 0]])
    with pytest.raises(SymcheckError, match="line"):
        from symcheck.groups import symmetry_group

        symmetry_group(sc.from_ase(merging, features={}), 0.01)
    path = tmp_path / "mixed.extxyz"
    ase.io.write(path, [molecule("H2O"), merging, molecule("CH4"), c2h])
    result = sc.scan(path, workers=1)
    assert result.groups == {"C2v": 1, "Td": 1, "Cs": 1, "error": 1}
    assert [i for i, _ in result.errors] == [1] and "line" in result.errors[0][1]
    proc = subprocess.run([sys.executable, "-m", "symcheck", "scan", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0 and "1 frame the group search refused" in proc.stdout
    nan = tmp_path / "nan.xyz"
    nan.write_text("3\n\nH 0 0 0\nH nan 0 0\nO 0 1 0\n")
    proc = subprocess.run([sys.executable, "-m", "symcheck", "scan", str(nan)], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and "nan.xyz" in proc.stderr


def test_duplicate_invariants_keep_every_true_copy_and_reject_swapped_species():
    """The per-species invariants checked before aligning a candidate pair (sorted radii within tol,
    sorted distances per pair of species within 2·tol) hold for every structure equal within tol, and
    reject a copy with two atoms of different species swapped (which the species-blind fingerprint
    lets through as a candidate)."""
    from ase.build import molecule
    from scipy.spatial.transform import Rotation

    from symcheck.audit.duplicates import _invariants_agree, align

    rng = np.random.default_rng(3)
    tol = 0.01
    for name in ("CH3CH2OH", "H2O", "CH3CN", "C6H6"):
        a = molecule(name)
        A, sa = a.positions, np.array(a.get_chemical_symbols())
        for _ in range(20):
            perm = rng.permutation(len(A))
            noise = rng.normal(size=A.shape)
            noise *= 0.45 * tol * rng.uniform() / np.linalg.norm(noise, axis=1, keepdims=True)
            R = Rotation.random(random_state=rng).as_matrix() * rng.choice([1, -1])
            B = (A @ R.T + noise + rng.normal(size=3))[perm]
            sb = sa[perm]
            assert _invariants_agree(A - A.mean(0), sa, B - B.mean(0), sb, tol)
            assert align(A, sa, B, sb, tol) is not None
    a = molecule("CH3CH2OH")
    A, sa = a.positions, np.array(a.get_chemical_symbols())
    swapped = sa.copy()
    c, o = int(np.flatnonzero(sa == "C")[0]), int(np.flatnonzero(sa == "O")[0])
    swapped[[c, o]] = swapped[[o, c]]
    assert not _invariants_agree(A - A.mean(0), sa, A - A.mean(0), swapped, tol)
    assert align(A, sa, A, swapped, tol) is None
