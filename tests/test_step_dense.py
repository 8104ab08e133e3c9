"""DenseStep (symcheck.training.fused): the CPU step without autograd gives autograd's loss, gradients and Adam path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("e3nn.o3")

from reference_net import tutorial_task  # noqa: E402

from symcheck.training.fused import DenseStep, _softplus_np  # noqa: E402
from symcheck.training.network import SeedNet  # noqa: E402
from symcheck.training.optim import FlatAdam  # noqa: E402
from symcheck.training.stopping import MseStep, training_step  # noqa: E402

TUTORIAL = "0e+1o+2e+3o+4e+5o"

warnings.filterwarnings("ignore", message=".*[Ss]parse.*")


pytestmark = pytest.mark.usefixtures("torch_float64")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    if b.numel() == 0:  # radial_mid of a radial MLP without middle layers
        return 0.0 if a.numel() == 0 else float("inf")
    return float(((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).detach())


def _autograd(net, geo, x, target, pool):
    """Loss and parameter gradients through the network's autograd path (the hand-written node)."""
    net.zero_grad()
    out = net(x, geo)
    pred = out.mean(0) if pool else out
    loss = ((pred - target) ** 2).mean()
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in net.parameters()]


def _check_same_step(net, x, pos, target, pool=False, tol=1e-12):
    geo = net.geometry(pos, x)
    loss_ref, grads_ref = _autograd(net, geo, x, target, pool)
    step = DenseStep(net, geo, x, target, pool=pool)
    loss = step.loss_and_grad()
    assert abs(loss - loss_ref) <= 1e-13 * loss_ref
    for p, g in zip(net.parameters(), grads_ref, strict=True):
        assert _rel(p.grad, g) < tol


@pytest.mark.parametrize("task", [1, 2, 3])
@pytest.mark.parametrize("pool", [False, True])
def test_loss_and_gradients_equal_autograd(task, pool):
    x, pos, target = tutorial_task(task)
    torch.manual_seed(0)
    _check_same_step(SeedNet(TUTORIAL, TUTORIAL), x, pos, target.mean(0) if pool else target, pool)


def test_pseudotensors_and_odd_scalars_equal_autograd():
    """Hidden irreps with both parities: the gate's tanh branch (odd scalars) runs too."""
    torch.manual_seed(2)
    net = SeedNet("2x0e+1e", "1o+1e+0o")
    assert net.gates[0].n_odd > 0
    gen = torch.Generator().manual_seed(5)
    pos = torch.randn(5, 3, generator=gen)
    x = torch.randn(5, net.irreps_in.dim, generator=gen)
    target = torch.randn(5, net.irreps_out.dim, generator=gen)
    _check_same_step(net, x, pos, target)


def test_large_pre_activations_take_softplus_linear_branch():
    """Weights scaled up so that softplus inputs pass torch's threshold (20): same loss and gradients."""
    x, pos, target = tutorial_task(3)
    torch.manual_seed(0)
    net = SeedNet(TUTORIAL, TUTORIAL)
    with torch.no_grad():
        net.radial_in.mul_(40.0)
    geo = net.geometry(pos, x)
    with torch.no_grad():
        pre = torch.matmul(geo.emb, net.radial_in) / np.sqrt(net.n_basis)
    assert float(pre.max()) > 20.0
    _check_same_step(net, x, pos, target)


@pytest.mark.parametrize("beta", [1.0, 5.0])
@pytest.mark.parametrize("scale", [1.0, 0.37])
def test_softplus_and_derivative_are_torchs(beta, scale):
    x = np.linspace(-800.0, 800.0, 2001)
    x = np.concatenate([x, np.linspace(-3.0, 3.0, 101)])
    out, deriv, work, mask = np.empty_like(x), np.empty_like(x), np.empty_like(x), np.empty(x.shape, bool)
    for part in (x, x[-101:]):  # with and without entries past the threshold
        n = len(part)
        _softplus_np(part, out[:n], deriv[:n], work[:n], mask[:n], beta, scale)
        xt = torch.from_numpy(part)
        ref = scale * torch.nn.functional.softplus(xt, beta=beta)
        dref = scale * torch.ops.aten.softplus_backward(torch.ones_like(xt), xt, beta, 20.0)
        assert np.allclose(out[:n], ref.numpy(), rtol=1e-15, atol=1e-300)  # differences: denormals only
        assert np.allclose(deriv[:n], dref.numpy(), rtol=1e-15, atol=1e-300)


def test_training_follows_autograd_and_torch_adam():
    """Five DenseStep steps = five autograd steps with torch.optim.Adam (SeedNet = the e3nn reference: test_model)."""
    x, pos, target = tutorial_task(1)
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(SeedNet(TUTORIAL, TUTORIAL))
    ref, net = nets
    ref_geo = ref.geometry(pos, x)
    ref_opt = torch.optim.Adam(ref.parameters(), 1e-3)
    step = DenseStep(net, net.geometry(pos, x), x, target, lr=1e-3)
    for _ in range(5):
        ref_opt.zero_grad()
        ref_loss = ((ref(x, ref_geo) - target) ** 2).mean()
        ref_loss.backward()
        ref_opt.step()
        loss = step.step()
        assert abs(loss - ref_loss.item()) < 1e-12 * ref_loss.item()
    for p, q in zip(net.parameters(), ref.parameters(), strict=True):  # the module's parameters carry the values
        assert _rel(p.detach(), q.detach()) < 1e-12
    last = net.n_layers - 1
    assert torch.all(net.radial_out[last, :, net.weight_numel[last] :] == 0)


def test_unbound_input_and_float32():
    """x not bound to the geometry (first layer computed from x); float32 stays close to float64."""
    x, pos, target = tutorial_task(2)
    losses = []
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        net = SeedNet(TUTORIAL, TUTORIAL).to(dtype)
        geo = net.geometry(pos)
        step = DenseStep(net, geo, x.to(dtype), target.to(dtype))
        losses.append([step.step() for _ in range(3)])
    assert np.allclose(losses[0], losses[1], rtol=1e-5)
    torch.manual_seed(0)
    net = SeedNet(TUTORIAL, TUTORIAL)
    _check_same_step(net, x, pos, target)


@pytest.mark.parametrize("fused", [True, False])
def test_flat_adam_equals_torch_adam(fused):
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(40, generator=gen)
    flat, grad = start.clone(), torch.zeros(40)
    opt = FlatAdam(flat, grad, 1e-2)
    opt._fused = opt._fused and fused
    ref = torch.nn.Parameter(start.clone())
    ref_opt = torch.optim.Adam([ref], 1e-2)
    for _ in range(20):
        grad.copy_(flat**3 - flat)
        opt.step()
        ref_opt.zero_grad()
        (ref**4 / 4 - ref**2 / 2).sum().backward()
        ref_opt.step()
    assert _rel(flat, ref.detach()) < 1e-13


def test_training_step_picks_the_dense_step_on_cpu_dense_geometries():
    x, pos, _ = tutorial_task(2)
    x = x[:, :1]  # the scalar input of the tutorial
    target = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    net = SeedNet("0e", "1o", network_lmax=2)
    assert isinstance(training_step(net, net.geometry(pos, x), x, target, False, 1e-3), DenseStep)
    general = training_step(net, net.geometry(pos, x, graph="pairs"), x, target, False, 1e-3)
    assert isinstance(general, MseStep)
    first = general.step()
    assert general.loss_and_grad() < first


@pytest.mark.parametrize("shape", [{"n_layers": 1}, {"radial_layers": 1}, {"n_layers": 2, "radial_layers": 2}])
def test_other_depths_equal_autograd(shape):
    """One convolution (no gate), a radial MLP without middle layers, and two of each."""
    x, pos, target = tutorial_task(3)
    torch.manual_seed(0)
    _check_same_step(SeedNet(TUTORIAL, TUTORIAL, **shape), x, pos, target)


def test_thread_setting_is_restored():
    x, pos, target = tutorial_task(2)
    torch.manual_seed(0)
    net = SeedNet("0e", "1o", network_lmax=2)
    step = DenseStep(net, net.geometry(pos, x[:, :1]), x[:, :1], target[:, 1:4])
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        step.step()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)


def test_adam_leaves_out_exactly_the_columns_without_gradient():
    """The tutorial's scalar input never feeds some first-layer paths: their radial-output columns
    (and the padding) get exactly zero gradient, are left out of Adam and never move."""
    x, pos, target = tutorial_task(2)
    torch.manual_seed(0)
    net = SeedNet(TUTORIAL, TUTORIAL)
    step = DenseStep(net, net.geometry(pos, x), x, target)
    flat = net.radial_in.detach().untyped_storage()
    assert net.radial_out.detach().untyped_storage().data_ptr() == flat.data_ptr()
    n_total = sum(p.numel() for p in net.parameters())
    n_updated = sum(p.numel() for p in step.optimizer.param)
    assert n_updated < n_total
    covered = torch.zeros(n_total, dtype=torch.bool)
    base = step.optimizer.param[0].data_ptr()
    for p in step.optimizer.param:
        start = (p.data_ptr() - base) // p.element_size()
        covered[start : start + p.numel()] = True
    before = torch.cat([net.radial_in.detach().reshape(-1), net.radial_mid.detach().reshape(-1),
                        net.radial_out.detach().transpose(1, 2).reshape(-1)])
    for _ in range(3):
        step.step()
        grad_flat = torch.cat([net.radial_in.grad.reshape(-1), net.radial_mid.grad.reshape(-1),
                               net.radial_out.grad.transpose(1, 2).reshape(-1)])
        assert torch.all(grad_flat[~covered] == 0)
    after = torch.cat([net.radial_in.detach().reshape(-1), net.radial_mid.detach().reshape(-1),
                       net.radial_out.detach().transpose(1, 2).reshape(-1)])
    assert torch.equal(after[~covered], before[~covered])
    assert not torch.equal(after[covered], before[covered])
