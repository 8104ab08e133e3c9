"""Adam with minimal per-step overhead: the same update as ``torch.optim.Adam`` (no weight decay, no amsgrad).

For a small network most of ``torch.optim.Adam.step``'s time is Python bookkeeping, not arithmetic.
This class keeps its state in flat lists and calls PyTorch's fused Adam kernel directly (the one
``torch.optim.Adam(fused=True)`` uses); where that kernel is not available it falls back to
``torch.optim.Adam`` itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class Adam:
    """Adam optimiser (Kingma & Ba) with torch.optim.Adam's defaults and update rule.

    Parameters
    ----------
    params : parameters to optimise.
    lr : learning rate.
    betas : decay rates of the first and second moment estimates.
    eps : term added to the denominator.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = float(lr), (float(betas[0]), float(betas[1])), float(eps)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # The fused kernel reads the step count from one float32 tensor per parameter; they are
        # all equal, so one tensor (on the parameters' device) is shared.
        device = self.params[0].device if self.params else torch.device("cpu")
        self._step = torch.zeros((), dtype=torch.float32, device=device)
        self._fused = hasattr(torch, "_fused_adam_") and all(p.device == device for p in self.params)
        if self._fused and device.type == "cpu":
            self._fused = _cpu_fused_works()
        self._fallback = None if self._fused else torch.optim.Adam(self.params, lr=lr, betas=betas, eps=eps)

    def zero_grad(self) -> None:
        """Drop the gradients (the next backward pass allocates fresh ones)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One Adam update of every parameter that has a gradient."""
        if self._fallback is not None:
            self._fallback.step()
            return
        params, grads, m, v = [], [], [], []
        for p, a, b in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
            if p.grad is not None:
                params.append(p)
                grads.append(p.grad)
                m.append(a)
                v.append(b)
        if not params:
            return
        self._step += 1
        torch._fused_adam_(
            params,
            grads,
            m,
            v,
            [],
            [self._step] * len(params),
            lr=self.lr,
            beta1=self.betas[0],
            beta2=self.betas[1],
            weight_decay=0.0,
            eps=self.eps,
            amsgrad=False,
            maximize=False,
        )


_CPU_FUSED: bool | None = None


def _cpu_fused_works() -> bool:
    """Whether this PyTorch build has the fused Adam kernel for CPU tensors (checked once)."""
    global _CPU_FUSED
    if _CPU_FUSED is None:
        try:
            p, g = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
            m, v, s = torch.zeros_like(p), torch.zeros_like(p), torch.ones((), dtype=torch.float32)
            torch._fused_adam_(
                [p],
                [g],
                [m],
                [v],
                [],
                [s],
                lr=1e-3,
                beta1=0.9,
                beta2=0.999,
                weight_decay=0.0,
                eps=1e-8,
                amsgrad=False,
                maximize=False,
            )
            _CPU_FUSED = bool(torch.all(p < 0))
        except (RuntimeError, NotImplementedError, TypeError):
            _CPU_FUSED = False
    return _CPU_FUSED


class FlatAdam:
    """Adam on one flat parameter buffer with one flat gradient buffer: a single fused call per step.

    The same update as :class:`Adam` and ``torch.optim.Adam`` (no weight decay, no amsgrad) for
    parameters that are views into ``param`` (:class:`~symcheck.training.fused.DenseStep` makes
    them so). The gradient buffer is read as it is at each :meth:`step`.

    Parameters
    ----------
    param : 1-D parameter buffer, updated in place.
    grad : 1-D gradient buffer of the same size.
    lr, betas, eps : as for :class:`Adam`.
    segments : ``(start, stop)`` ranges of the buffer to update (default: all of it). Leaving out
        entries whose gradient is always exactly 0 changes nothing: Adam would not move them.
    """

    def __init__(self, param: torch.Tensor, grad: torch.Tensor, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 segments: list[tuple[int, int]] | None = None):
        if param.requires_grad or grad.requires_grad:
            raise ValueError("FlatAdam updates plain tensors (requires_grad=False)")
        self.lr, self.betas, self.eps = float(lr), (float(betas[0]), float(betas[1])), float(eps)
        if segments is None:
            segments = [(0, param.numel())]
        exp_avg, exp_avg_sq = torch.zeros_like(param), torch.zeros_like(param)
        self.param, self.grad, self.exp_avg, self.exp_avg_sq = (
            [t[a:b] for a, b in segments] for t in (param, grad, exp_avg, exp_avg_sq)
        )
        self._step = torch.zeros((), dtype=torch.float32, device=param.device)
        # On the CPU the step count is incremented through a NumPy view (a torch call costs ~5 µs).
        self._step_np = self._step.numpy() if param.device.type == "cpu" else None
        self._fused = hasattr(torch, "_fused_adam_") and (param.device.type != "cpu" or _cpu_fused_works())
        self._lists = (self.param, self.grad, self.exp_avg, self.exp_avg_sq, [], [self._step] * len(segments))
        self.steps = 0

    def step(self) -> None:
        """One Adam update of the whole buffer (plain tensors: no autograd mode needed)."""
        self.steps += 1
        b1, b2 = self.betas
        if self._fused:
            if self._step_np is not None:
                self._step_np += 1
            else:
                self._step += 1
            torch._fused_adam_(
                *self._lists, lr=self.lr, beta1=b1, beta2=b2, weight_decay=0.0, eps=self.eps, amsgrad=False,
                maximize=False,
            )
            return
        # torch.optim.Adam's single-tensor update, written out.
        t = self.steps
        for p, g, m, v in zip(self.param, self.grad, self.exp_avg, self.exp_avg_sq, strict=True):
            m.lerp_(g, 1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(1 - b2**t)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - b1**t))
