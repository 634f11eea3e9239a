"""Momentum SGD with layer-wise adaptive rate scaling (LARS: You, Gitman and Ginsburg,
"Large Batch Training of Convolutional Networks", 2017).

Each weight tensor's step direction ``d = g + weight_decay·w`` is rescaled to
``trust·‖w‖/‖d‖·d`` before the momentum buffer takes it, so every layer moves by the
same fraction of its own size per step whatever the scale of its gradient; parameter
groups with ``adapt=False`` (biases, norms, peepholes) take plain momentum SGD. Still
the paper's optimizer, momentum SGD; the scaling is an attempt to let it train the
ConvLSTM streams, whose gradients are 10-500× smaller than the ResNet streams' and the
head's under one learning rate (docs/stream-learning, sections 1-2, 8)."""

from __future__ import annotations

import torch


class LARS(torch.optim.Optimizer):
    """``torch.optim.SGD``'s momentum (no dampening, no Nesterov) with LARS's per-tensor
    trust ratio; a tensor whose norm or step is zero (a silenced layer, ``warm_start``)
    takes the plain step, after which it grows by lr × trust of its own small norm a step
    (it opens slowly; not used with staged training here). The state is SGD's
    (``momentum_buffer``), so checkpoints hold it as they hold SGD's."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0, trust: float = 0.1):
        if lr <= 0 or trust <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"LARS needs lr > 0, trust > 0 and momentum in [0, 1), got {lr}, {trust}, {momentum}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "trust": trust, "adapt": True})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                if group["adapt"]:
                    w_norm, d_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(d)
                    ratio = torch.where((w_norm > 0) & (d_norm > 0), group["trust"] * w_norm / d_norm, torch.ones_like(w_norm))
                    d = d * ratio
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(d)
                p.add_(state["momentum_buffer"], alpha=-group["lr"])
        return loss
