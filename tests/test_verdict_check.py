"""The cheaper equivariance check (one proper and one improper rotation) still catches a broken network.

The check after training (symcheck.training.equivariance, N_ROTATIONS = 2) was cut from four
rotations to two to save geometry builds (issue 14). These tests break the network on purpose —
a wrong Clebsch–Gordan block, a wrong spherical harmonic, a mislabelled parity — and require the
check to report an error far above its 1e-9 pass level, while the intact network passes.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from symcheck.training import cache, dense, equivariance  # noqa: E402
from symcheck.training import network as network_module  # noqa: E402
from symcheck.training.equivariance import N_ROTATIONS, default_dtype, equivariance_error  # noqa: E402
from symcheck.training.network import SeedNet  # noqa: E402

IRREPS_IN = "0e+1o+2e"
IRREPS_OUT = "0e+1o+2e+3o"


@pytest.fixture(autouse=True)
def _no_construction_cache(monkeypatch):
    """Every network built from scratch: a broken piece must not be hidden behind operators cached intact."""
    monkeypatch.setenv(cache.ENV, "off")
    dense._MEMO.clear()
    yield
    dense._MEMO.clear()


def _setup():
    torch.manual_seed(0)
    net = SeedNet(IRREPS_IN, IRREPS_OUT, network_lmax=3)
    gen = torch.Generator().manual_seed(4)
    pos = 1.2 * torch.randn(5, 3, generator=gen, dtype=torch.float64)
    x = torch.randn(5, net.irreps_in.dim, generator=gen, dtype=torch.float64)
    return net, x, pos


def _error(irreps_in=IRREPS_IN) -> float:
    with default_dtype(torch.float64):
        net, x, pos = _setup()
        net = net.double()
        return equivariance_error(net, x, pos, irreps_in, graph="dense")


def test_check_uses_a_proper_and_an_improper_rotation_and_passes_the_intact_network():
    assert N_ROTATIONS == 2
    assert _error() < 1e-9


def test_a_wrong_clebsch_gordan_block_is_caught(monkeypatch):
    intact = dense._w3j_matrix

    def broken(l1, l2, l3):
        m = intact(l1, l2, l3)
        if (l1, l2, l3) == (1, 2, 1):
            m = m.flip(0)  # the l = 2 harmonic's components in reverse order
        return m

    monkeypatch.setattr(dense, "_w3j_matrix", broken)
    assert _error() > 1e-4


def test_a_wrong_spherical_harmonic_is_caught(monkeypatch):
    intact = network_module.np_o3.spherical_harmonics

    def broken(ls, vectors, **kwargs):
        sh = intact(ls, vectors, **kwargs).copy()
        sh[:, 1] *= -1.0  # first component of l = 1 flipped
        return sh

    monkeypatch.setattr(network_module.np_o3, "spherical_harmonics", broken)
    assert _error() > 1e-4


def test_a_wrong_parity_is_caught_by_the_improper_rotation():
    """Input 1o read as 1e: every proper rotation acts alike on both, only the improper one differs."""
    assert _error("0e+1e+2e") > 1e-4
    with default_dtype(torch.float64), torch.no_grad():
        net, x, pos = _setup()
        net = net.double()
        _, (rotation, _) = equivariance.rotated_outputs(net, x, pos, "0e+1e+2e", "dense", None, None, 0, False, 2)
    assert torch.linalg.det(torch.as_tensor(rotation)) > 0  # the first rotation (the figure's) is proper
