"""The network's construction without e3nn (symcheck.training.spec) is e3nn's, piece by piece.

The training path builds the tutorial network without importing e3nn (issue 14: time to
verdict); e3nn stays the reference, so every piece is checked against it here: tensor-product
paths and their constants (exactly), Wigner 3j symbols, activation constants, the radial basis,
the gate's irreps and column map, spherical harmonics as the network uses them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
o3 = pytest.importorskip("e3nn.o3")

from e3nn.math import normalize2mom, soft_one_hot_linspace  # noqa: E402

from symcheck.training import spec  # noqa: E402
from symcheck.training.gate import gate_layout, make_gate, softplus_beta5  # noqa: E402
from symcheck.training.network import SeedNet, default_hidden  # noqa: E402

HIDDEN = ["0e+1o+2e+3o+4e+5o", "0e+0o+1o+1e+2e+2o+3o+3e", "2x0e+1o", "0e+1o+1o+0e+2x2e", "3x1o+0e", "0o+1e"]


def test_wigner_3j_is_e3nns():
    for l1 in range(7):
        for l2 in range(7):
            for l3 in range(abs(l1 - l2), l1 + l2 + 1):
                ours = spec.wigner_3j(l1, l2, l3)
                theirs = o3.wigner_3j(l1, l2, l3, dtype=torch.float64).numpy()
                assert abs(ours - theirs).max() < 1e-14, (l1, l2, l3)
    with pytest.raises(ValueError):
        spec.wigner_3j(1, 1, 3)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_gate_irreps_and_columns_are_e3nns(hidden):
    gate = make_gate(o3.Irreps(hidden))
    ours = spec.gate_irreps(hidden)
    scalars, gates, gated = (t.long().tolist() for t in gate.sc(torch.arange(gate.irreps_in.dim, dtype=torch.float64)))
    assert str(ours.irreps_in) == str(gate.irreps_in) and str(ours.irreps_out) == str(gate.irreps_out)
    assert (ours.scalars, ours.gates, ours.gated) == (scalars, gates, gated)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("lmax", [1, 3, 5])
def test_tensor_product_paths_are_e3nns(hidden, lmax):
    """Same instructions (indices, shapes, normalisation constants to the bit) and weight count."""
    gate = spec.gate_irreps(hidden)
    sh = spec.Irreps.spherical_harmonics(lmax)
    for in1, out in ((hidden, gate.irreps_in), (gate.irreps_out, gate.irreps_in), (gate.irreps_out, "1o+2x0e+1e")):
        tp = o3.FullyConnectedTensorProduct(str(in1), str(sh), str(out), shared_weights=False, _optimize_einsums=False)
        paths = spec.PathSpec(in1, sh, out)
        assert [tuple(ins) for ins in paths.instructions] == [tuple(ins) for ins in tp.instructions]
        assert paths.weight_numel == tp.weight_numel


def test_activation_constants_and_radial_basis_are_e3nns():
    for f in (torch.nn.functional.softplus, softplus_beta5, torch.tanh, torch.sigmoid, torch.abs):
        norm = normalize2mom(f)
        # the same samples; the last bit of the mean depends on torch's thread count, in e3nn as here
        assert spec.act_constant(f) == pytest.approx(1.0 if norm._is_id else norm.cst, rel=1e-15, abs=0)
    x = torch.linspace(-1.0, 4.0, 101, dtype=torch.float64)
    assert torch.equal(spec.soft_one_hot_cosine(x, 0.0, 3.0, 3),
                       soft_one_hot_linspace(x, 0.0, 3.0, 3, basis="cosine", cutoff=True))


def test_gate_layout_and_irreps_compare_with_e3nn():
    layout = gate_layout(spec.Irreps("0e+0o+1o+1e+2e"))
    assert layout.irreps_in == o3.Irreps("1x0o+4x0e+1x1o+1x1e+1x2e")
    assert default_hidden(3, "0e", "1o") == o3.Irreps.spherical_harmonics(3)
    assert o3.Irreps(spec.Irreps("2x0e+1o")) == o3.Irreps("2x0e+1o")
    R = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))[0]
    for irreps in ("0e+1o+2e+3o", "0o+1e+2x2o"):
        ours = spec.Irreps(irreps).D_from_matrix(-R)
        assert ours.dtype == torch.float64 and torch.allclose(ours, o3.Irreps(irreps).D_from_matrix(-R), atol=1e-12)


def test_network_geometry_spherical_harmonics_are_e3nns():
    torch.manual_seed(0)
    net = SeedNet("0e", "1o", network_lmax=5).double()
    pos = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    geo = net.geometry(pos, graph="pairs")
    vec = pos[geo.dst] - pos[geo.src]
    theirs = o3.spherical_harmonics(o3.Irreps.spherical_harmonics(5), vec, normalize=True, normalization="component")
    assert (geo.sh - theirs).abs().max() < 1e-12


def test_training_path_does_not_import_e3nn():
    """`symcheck train` on the tutorial's Task 1 runs without e3nn (nor sympy, scipy or ase.io)."""
    code = (
        "import sys, symcheck as sc\n"
        "task = sc.Task.from_files(sys.argv[1], sys.argv[2])\n"
        "r = sc.train(task, steps=5)\n"
        "assert r.equivariance_error < 1e-9\n"
        "print(sorted(m for m in ('e3nn', 'sympy', 'scipy', 'ase.io') if m in sys.modules))\n"
    )
    from conftest import EXAMPLES

    run = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "rectangle.xyz"), str(EXAMPLES / "square.xyz")],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"
