"""symcheck.train: the tutorial's three tasks, the verdicts, the input layout and the error cases."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("e3nn")

from reference_net import ReferenceNetwork, tutorial_task  # noqa: E402

import symcheck as sc  # noqa: E402
from symcheck.training import BUG, CONFIRMED, NOT_CONFIRMED, TrainResult  # noqa: E402
from symcheck.training.inputs import tutorial_layout  # noqa: E402

FLOOR_TASK2 = 7.0702e-4


@pytest.fixture(scope="module")
def tasks():
    square, rectangle = sc.example("square"), sc.example("rectangle")
    return {1: sc.Task.displacement(rectangle, square), 2: sc.Task.displacement(square, rectangle)}


@pytest.fixture(scope="module")
def analysis2(tasks):
    return sc.analyze(tasks[2])


def test_task1_rectangle_to_square_learns(tasks):
    result = sc.train(tasks[1], steps=300, threshold=0.05)
    assert isinstance(result, TrainResult)
    assert result.learnable and result.predicted_floor < 1e-12
    assert result.verdict == CONFIRMED, result.reason
    assert result.losses.min() < 1e-4 and result.steps <= 300
    assert result.equivariance_error < 1e-9
    assert result.output.shape == tasks[1].target.shape
    assert result.breaking is None


def test_task2_square_to_rectangle_stalls_at_the_floor(tasks, analysis2):
    result = sc.train(tasks[2], steps=300, analysis=analysis2)
    assert not result.learnable
    assert result.predicted_floor == pytest.approx(FLOOR_TASK2, rel=1e-4)
    assert result.verdict == CONFIRMED, result.reason
    assert result.steps < 300  # stopped on the plateau
    assert result.predicted_floor - 1e-9 <= result.final_loss <= 1.02 * result.predicted_floor
    assert np.all(result.losses >= result.predicted_floor - 1e-9)


def test_task3_with_the_auto_breaking_feature_learns(tasks, analysis2):
    result = sc.train(tasks[2], breaking="auto", steps=300, analysis=analysis2)
    assert result.learnable and result.predicted_floor < 1e-12
    assert result.verdict == CONFIRMED, result.reason
    assert result.losses[:300].min() < 1e-4
    assert "x**2 - y**2" in result.breaking
    assert result.equivariance_error < 1e-9


def test_loop_trains_exactly_the_tutorial_network(tasks):
    """The first losses equal those of the plain-e3nn baseline network on the same task and seed."""
    steps = 4
    result = sc.train(tasks[2], steps=steps)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x, pos, target = tutorial_task(2)
        assert np.allclose(target.numpy(), tasks[2].target, atol=1e-12)
        torch.manual_seed(0)
        ref = ReferenceNetwork()
        opt = torch.optim.Adam(ref.parameters(), 1e-3)
        ref_losses = []
        for _ in range(steps):
            loss = ((ref(x, pos) - target) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            ref_losses.append(loss.item())
    finally:
        torch.set_default_dtype(old)
    assert np.allclose(result.losses, ref_losses, rtol=1e-10, atol=0)


def test_learnable_task_out_of_steps_is_not_confirmed(tasks):
    result = sc.train(tasks[1], steps=20)
    assert result.verdict == NOT_CONFIRMED
    assert result.steps == 20 and "train longer" in result.reason


def test_loss_below_the_floor_is_a_bug(tasks, analysis2):
    # an analysis that claims a floor the network can beat
    wrong = SimpleNamespace(learnable=False, loss_floor=5e-3, suggestions=(), input_group=None)
    result = sc.train(tasks[2], steps=100, analysis=wrong)
    assert result.verdict == BUG
    assert "below the predicted floor" in result.reason


def test_progress_callback_sees_every_step(tasks, analysis2):
    seen = []
    result = sc.train(tasks[2], steps=7, analysis=analysis2, progress=lambda step, loss: seen.append((step, loss)))
    assert [s for s, _ in seen] == list(range(1, 8))
    assert np.allclose([loss for _, loss in seen], result.losses)


def test_bad_arguments_raise_symcheck_error(tasks, analysis2):
    with pytest.raises(sc.SymcheckError):
        sc.train(tasks[2], steps=0, analysis=analysis2)
    with pytest.raises(sc.SymcheckError):
        sc.train(tasks[2], steps=-3, analysis=analysis2)
    with pytest.raises(sc.SymcheckError):
        sc.train(tasks[2], breaking="best", steps=1, analysis=analysis2)
    with pytest.raises(sc.SymcheckError):
        sc.train(tasks[2], device="tpu", steps=1, analysis=analysis2)
    if not torch.cuda.is_available():
        with pytest.raises(sc.SymcheckError, match="CUDA"):
            sc.train(tasks[2], device="cuda", steps=1, analysis=analysis2)


def test_global_targets_are_pooled():
    rect = sc.example("rectangle")
    # a vector on a D2h rectangle: no equivariant model can output one; the floor is the whole signal
    vec = sc.Task(rect, np.array([0.3, 0.1, 0.2]), "1o", per_point=False)
    result = sc.train(vec, steps=200)
    assert not result.learnable and result.verdict == CONFIRMED, result.reason
    assert result.output.shape == (3,) and np.abs(result.output).max() < 1e-12
    # an x²−y²-like quadrupole on the rectangle is allowed: it is learnable
    quad = sc.Task(rect, np.array([0.0, 0.0, -0.5, 0.0, 0.8]), "2e", per_point=False)
    result = sc.train(quad, steps=300, threshold=0.05)
    assert result.learnable and result.verdict == CONFIRMED, result.reason


def test_per_point_pseudovector_breaking_field(tasks, analysis2):
    field = next(s for s in analysis2.suggestions if s.scope == "per-point" and s.irreps == "1e")
    result = sc.train(tasks[2], breaking=field, steps=5, analysis=analysis2)
    assert result.learnable and result.predicted_floor < 1e-12
    assert result.steps == 5 and np.all(np.isfinite(result.losses))
    assert result.equivariance_error < 1e-9


def test_tutorial_layout_places_inputs_in_hidden_slots():
    layout, cols = tutorial_layout("1x0e+1x2e", "0e+1o+2e+3o+4e+5o")
    assert str(layout) == "1x0e+1x1o+1x2e+1x3o+1x4e+1x5o"
    assert cols.tolist() == [0, 4, 5, 6, 7, 8]  # the tutorial's channel 0 and the 2e slot
    layout, cols = tutorial_layout("3x0e+1o+1e", "0e+0o+1o+1e")
    assert str(layout) == "3x0e+1x0o+1x1o+1x1e"
    assert cols.tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_two_species_get_one_hot_inputs():
    s = sc.Structure(np.array([[0.0, 0, 0], [1.2, 0, 0]]), species=("C", "O"))
    task = sc.Task(s, np.zeros((2, 3)), "1o", per_point=True)
    result = sc.train(task, steps=3, threshold=1e-3)
    assert result.steps == 3 and result.equivariance_error < 1e-9


def test_float32_training_confirms_the_floor(tasks, analysis2):
    result = sc.train(tasks[2], steps=300, dtype="float32", analysis=analysis2)
    assert result.verdict == CONFIRMED, result.reason
    assert result.final_loss == pytest.approx(FLOOR_TASK2, rel=0.02)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training(tasks, analysis2):
    result = sc.train(tasks[2], steps=300, device="cuda", analysis=analysis2)
    assert result.device == "cuda"
    assert result.verdict == CONFIRMED, result.reason
    cpu = sc.train(tasks[2], steps=5, device="cpu", analysis=analysis2)
    gpu = sc.train(tasks[2], steps=5, device="cuda", analysis=analysis2)
    assert np.allclose(cpu.losses, gpu.losses, rtol=1e-9)


def test_network_lmax_and_its_deprecated_old_name(tasks):
    """``network_lmax`` is the network's L; ``lmax`` still works for one release, with a DeprecationWarning."""
    new = sc.train(tasks[2], steps=3, network_lmax=3)
    with pytest.warns(DeprecationWarning, match="network_lmax"):
        old = sc.train(tasks[2], steps=3, lmax=3)
    assert np.array_equal(new.losses, old.losses)
    assert not np.array_equal(new.losses, sc.train(tasks[2], steps=3).losses)  # the default L is 5


def test_symcheck_train_is_the_function_even_after_importing_the_package():
    """No callable-module hack: ``symcheck.train`` is the function, the package is ``symcheck.training``."""
    import symcheck.training.network  # noqa: F401  (binds symcheck.training, never symcheck.train)
    from symcheck.training import train

    assert sc.train is train and sc.TrainResult is TrainResult


def test_analyze_and_train_writes_the_run_files(tasks, tmp_path):
    """The analyze → train → files chain of the CLI and the demo: one call, the run's files, its JSON."""
    from symcheck.workflow import analyze_and_train

    run = analyze_and_train(tasks[2], "auto", out=tmp_path / "run", steps=5)
    assert run.analysis.task is run.task and run.result.steps == 5
    assert run.result.breaking and "x**2 - y**2" in run.result.breaking
    assert {p.name for p in run.files.values()} == {"loss.png", "signals.png", "result.json"}
    assert all(p.exists() for p in run.files.values())
    data = run.as_dict()
    assert data["verdict"] == run.result.verdict and data["input"]["point_group"] == "D4h"
    assert data["settings"] == run.analysis.as_dict()["settings"]
    again = analyze_and_train(run.analysis, "auto", steps=5)  # an analysis given is used as it is
    assert again.analysis is run.analysis and again.files == {}
    assert np.array_equal(again.result.losses, run.result.losses)
