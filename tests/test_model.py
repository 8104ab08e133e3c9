"""SeedNet computes the plain-e3nn tutorial network's function, with the same gradients, and is equivariant."""

from __future__ import annotations

import ast
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
o3 = pytest.importorskip("e3nn.o3")

from reference_net import (  # noqa: E402
    ReferenceNetwork,
    as_reference_state_dict,
    load_reference_state_dict,
    tutorial_task,
)

from symcheck.training.network import SeedNet, default_hidden  # noqa: E402
from symcheck.training.optim import Adam  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: The baseline vendored into the repository, and the shared copy it was taken from (outside the repository).
VENDORED_BASELINE = ROOT / "benchmarks" / "seednet_baseline.py"
SHARED_BASELINE = ROOT.parent / "shared" / "bench" / "seednet_baseline.py"

TUTORIAL = "0e+1o+2e+3o+4e+5o"
TOL = 1e-10

warnings.filterwarnings("ignore", message=".*[Ss]parse.*")


pytestmark = pytest.mark.usefixtures("torch_float64")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).detach())


def _pair(irreps_in=TUTORIAL, irreps_out=TUTORIAL, seed=0):
    """A reference network and a SeedNet with the same weights."""
    torch.manual_seed(seed)
    net = SeedNet(irreps_in, irreps_out)
    ref = ReferenceNetwork(irreps_in=irreps_in, irreps_out=irreps_out, hidden=net.hidden)
    load_reference_state_dict(net, ref.state_dict())
    return ref, net


def _compare(ref, net, x, pos, target, graph, bind=True) -> tuple[float, float]:
    """Max relative difference of outputs and of every parameter gradient (MSE loss)."""
    ref.zero_grad()
    net.zero_grad()
    out_ref = ref(x, pos)
    ((out_ref - target) ** 2).mean().backward()
    geo = net.geometry(pos, x if bind else None, graph=graph)
    out = net(x, geo)
    ((out - target) ** 2).mean().backward()
    grads = as_reference_state_dict(net, grad=True)
    g_err = max(_rel(grads[name], p.grad) for name, p in ref.named_parameters())
    return _rel(out, out_ref), g_err


def test_seeded_construction_draws_the_reference_weights():
    torch.manual_seed(3)
    ref = ReferenceNetwork()
    torch.manual_seed(3)
    net = SeedNet(TUTORIAL, TUTORIAL)
    mine = as_reference_state_dict(net)
    for name, p in ref.named_parameters():
        assert torch.equal(mine[name], p.detach()), name


@pytest.mark.parametrize("task", [1, 2, 3])
@pytest.mark.parametrize("graph", ["dense", "pairs"])
def test_tutorial_task_same_output_and_gradients(task, graph):
    ref, net = _pair()
    x, pos, target = tutorial_task(task)
    out_err, grad_err = _compare(ref, net, x, pos, target, graph)
    assert out_err < TOL and grad_err < TOL, (out_err, grad_err)


@pytest.mark.parametrize("graph", ["dense", "pairs"])
@pytest.mark.parametrize("bind", [True, False])
def test_random_seven_points_same_output_and_gradients(graph, bind):
    ref, net = _pair(seed=1)
    gen = torch.Generator().manual_seed(7)
    pos = 1.2 * torch.randn(7, 3, generator=gen)
    x = torch.randn(7, net.irreps_in.dim, generator=gen)
    target = torch.randn(7, net.irreps_out.dim, generator=gen)
    out_err, grad_err = _compare(ref, net, x, pos, target, graph, bind)
    assert out_err < TOL and grad_err < TOL, (out_err, grad_err)


def test_pseudotensor_io_gets_both_parities_and_matches_reference():
    irreps_in, irreps_out = "2x0e+1e", "1o+1e+0o"
    assert default_hidden(5, irreps_in, irreps_out) == o3.Irreps("0e+0o+1o+1e+2e+2o+3o+3e+4e+4o+5o+5e")
    assert default_hidden(5, "0e+2e", "1o") == o3.Irreps(TUTORIAL)
    ref, net = _pair(irreps_in, irreps_out, seed=2)
    gen = torch.Generator().manual_seed(5)
    pos = torch.randn(5, 3, generator=gen)
    x = torch.randn(5, net.irreps_in.dim, generator=gen)
    target = torch.randn(5, net.irreps_out.dim, generator=gen)
    for graph in ("dense", "pairs"):
        out_err, grad_err = _compare(ref, net, x, pos, target, graph)
        assert out_err < TOL and grad_err < TOL, (graph, out_err, grad_err)


def test_radius_graph_equals_all_pairs_when_everything_is_within_the_cutoff():
    _, net = _pair()
    x, pos, _ = tutorial_task(2)  # largest distance √2 < 3 Å
    dense = net(x, net.geometry(pos, x, graph="dense"))
    radius = net(x, net.geometry(pos, x, graph="radius"))
    assert _rel(radius, dense) < TOL


def test_radius_graph_drops_far_pairs_and_scales_linearly():
    _, net = _pair(irreps_in="0e", irreps_out="1o")
    line = torch.zeros(40, 3)
    line[:, 0] = 2.0 * torch.arange(40)  # neighbours at 2 Å only (cutoff 3 Å)
    geo = net.geometry(line, graph="radius")
    assert geo.mode == "edges"
    assert geo.n_edges == 40 + 2 * 39  # self-pairs and both directions of each bond
    assert net.geometry(line).graph == "dense" or net.geometry(line).graph == "pairs"


def test_periodic_radius_graph_sees_images():
    _, net = _pair(irreps_in="0e", irreps_out="1o")
    cell = np.eye(3) * 2.5
    geo = net.geometry(torch.zeros(1, 3), graph="radius", cell=cell, pbc=[True, True, True])
    assert geo.n_edges == 1 + 6  # itself and its six nearest images at 2.5 Å


def _random_rotation(gen: torch.Generator, improper: bool) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen))
    q = q * torch.sign(torch.det(q))
    return -q if improper else q


@pytest.mark.parametrize("graph", ["dense", "pairs", "radius"])
@pytest.mark.parametrize("irreps", [(TUTORIAL, TUTORIAL), ("0e+1e+2e", "1o+1e")])
def test_equivariance_rotations_and_parity(graph, irreps):
    irreps_in, irreps_out = irreps
    torch.manual_seed(0)
    net = SeedNet(irreps_in, irreps_out)
    gen = torch.Generator().manual_seed(11)
    pos = 1.3 * torch.randn(6, 3, generator=gen)
    x = torch.randn(6, net.irreps_in.dim, generator=gen)
    with torch.no_grad():
        out = net(x, net.geometry(pos, x, graph=graph))
    for k in range(4):
        R = _random_rotation(gen, improper=k % 2 == 1)
        d_in, d_out = net.irreps_in.D_from_matrix(R), net.irreps_out.D_from_matrix(R)
        with torch.no_grad():
            out_rot = net(x @ d_in.T, net.geometry(pos @ R.T, graph=graph))
        err = float((out_rot - out @ d_out.T).abs().max())
        assert err < 1e-9, (k, err)


@pytest.mark.parametrize("pool", [False, True])
def test_mse_step_equals_autograd(pool):
    x, pos, target = tutorial_task(3)
    target = target.mean(0) if pool else target
    grads = []
    losses = []
    for fast in (True, False):
        torch.manual_seed(0)
        net = SeedNet(TUTORIAL, TUTORIAL)
        geo = net.geometry(pos, x)
        if fast:
            loss = net.mse_step(x, geo, target, pool=pool)
        else:
            out = net(x, geo)
            pred = out.mean(0) if pool else out
            loss = ((pred - target) ** 2).mean()
            loss.backward()
        losses.append(float(loss.detach()))
        grads.append([p.grad.clone() for p in net.parameters()])
    assert abs(losses[0] - losses[1]) <= 1e-15 * abs(losses[1])
    for a, b in zip(*grads, strict=True):
        assert _rel(a, b) < TOL


def test_training_matches_reference_trajectory_and_padding_stays_zero():
    ref, net = _pair()
    x, pos, target = tutorial_task(1)
    geo = net.geometry(pos, x)
    ref_opt = torch.optim.Adam(ref.parameters(), 1e-3)
    opt = Adam(net.parameters(), 1e-3)
    for _ in range(5):
        ref_opt.zero_grad()
        ref_loss = ((ref(x, pos) - target) ** 2).mean()
        ref_loss.backward()
        ref_opt.step()
        opt.zero_grad()
        loss = net.mse_step(x, geo, target)
        opt.step()
        assert abs(float(loss) - ref_loss.item()) < 1e-10 * ref_loss.item()
    mine = as_reference_state_dict(net)
    for name, p in ref.named_parameters():
        assert _rel(mine[name], p.detach()) < 1e-9, name
    # columns beyond a layer's own weight count exist only for stacking and never move
    last = net.n_layers - 1
    assert torch.all(net.radial_out[last, :, net.weight_numel[last] :] == 0)


def test_adam_equals_torch_adam():
    gen = torch.Generator().manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(5, 3, generator=gen)), torch.nn.Parameter(torch.randn(7, generator=gen))]
    b = [torch.nn.Parameter(t.detach().clone()) for t in a]
    mine, theirs = Adam(a, 1e-2), torch.optim.Adam(b, 1e-2)
    for _ in range(20):
        for params, opt in ((a, mine), (b, theirs)):
            opt.zero_grad()
            sum((p**3).sum() for p in params).backward()
            opt.step()
    for p, q in zip(a, b, strict=True):
        assert _rel(p.detach(), q.detach()) < 1e-12


def test_float32_model_close_to_float64():
    x, pos, _ = tutorial_task(3)
    torch.manual_seed(0)
    net = SeedNet(TUTORIAL, TUTORIAL)
    out64 = net(x, net.geometry(pos, x))
    net32 = net.to(torch.float32)
    x32 = x.float()
    out32 = net32(x32, net32.geometry(pos, x32))
    assert out32.dtype == torch.float32
    assert _rel(out32.double(), out64) < 1e-5


def _load(path: Path):
    """Import a Python file as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_reference_is_the_baseline():
    """tests/reference_net.py with its defaults is the vendored speed baseline: same task, names, outputs."""
    mod = _load(VENDORED_BASELINE)
    for task in (1, 2, 3):
        x, pos, target = tutorial_task(task)
        bx, bpos, btarget = mod.tutorial_task(task)
        assert torch.equal(x, bx) and torch.equal(pos, bpos) and torch.equal(target, btarget)
    torch.manual_seed(0)
    base = mod.Network()
    torch.manual_seed(0)
    ref = ReferenceNetwork()
    assert [k for k, _ in base.named_parameters()] == [k for k, _ in ref.named_parameters()]
    for task in (1, 2, 3):
        x, pos, _ = tutorial_task(task)
        assert torch.equal(base(x, pos), ref(x, pos))


def test_seednet_computes_the_baseline():
    """SeedNet, seeded like the vendored baseline, gives its output and gradients on the tutorial task."""
    mod = _load(VENDORED_BASELINE)
    torch.manual_seed(0)
    base = mod.Network()
    torch.manual_seed(0)
    net = SeedNet(TUTORIAL, TUTORIAL)
    x, pos, target = tutorial_task(3)
    out_err, grad_err = _compare(base, net, x, pos, target, "dense")
    assert out_err < TOL and grad_err < TOL, (out_err, grad_err)


@pytest.mark.skipif(not SHARED_BASELINE.exists(), reason="the shared baseline is not next to this checkout")
def test_vendored_baseline_is_the_shared_copy():
    """The vendored file is the shared baseline's code (only its origin note, a comment, is added)."""
    vendored, shared = VENDORED_BASELINE.read_text(), SHARED_BASELINE.read_text()
    assert ast.dump(ast.parse(vendored)) == ast.dump(ast.parse(shared))
    kept = [line for line in vendored.splitlines() if line not in shared.splitlines()]
    assert all(line.startswith("# ") for line in kept), kept


def test_network_lmax_and_its_deprecated_old_name():
    """SeedNet's L is ``network_lmax``; ``lmax`` (keyword and attribute) still works, with a DeprecationWarning."""
    net = SeedNet("0e", "1o", network_lmax=3)
    assert net.network_lmax == 3 and net.irreps_sh == o3.Irreps.spherical_harmonics(3)
    with pytest.warns(DeprecationWarning, match="network_lmax"):
        old = SeedNet("0e", "1o", lmax=3)
    assert old.hidden == net.hidden
    with pytest.warns(DeprecationWarning, match="network_lmax"):
        assert old.lmax == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    ref, net = _pair()
    x, pos, target = tutorial_task(3)
    cpu = net(x, net.geometry(pos, x))
    net_cuda = net.to("cuda")
    xc = x.cuda()
    geo = net_cuda.geometry(pos.cuda(), xc)
    out = net_cuda(xc, geo)
    assert _rel(out.cpu(), cpu) < 1e-10
    loss = net_cuda.mse_step(xc, geo, target.cuda())
    assert torch.isfinite(loss)
    opt = Adam(net_cuda.parameters(), 1e-3)
    opt.step()
    edges = net_cuda(xc, net_cuda.geometry(pos.cuda(), xc, graph="pairs"))
    assert _rel(edges.cpu(), cpu) < 1e-10
