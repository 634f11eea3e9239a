"""LARS: momentum SGD whose weight tensors each move by trust × their own norm per step."""

import pytest
import torch

from fervid.training.lars import LARS


def test_every_weight_moves_by_the_same_fraction_of_its_norm_whatever_its_gradient():
    big, small = torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(4) * 10)
    before = [big.detach().clone(), small.detach().clone()]
    big.grad, small.grad = torch.randn(5, 3) * 100, torch.randn(4) * 1e-4  # gradients six orders of magnitude apart
    LARS([big, small], lr=0.5, momentum=0.9, trust=0.02).step()
    for p, old in zip((big, small), before):
        moved = torch.linalg.vector_norm(p.detach() - old) / torch.linalg.vector_norm(old)
        assert moved.item() == pytest.approx(0.5 * 0.02, rel=1e-5)


def test_without_adaptation_it_is_torch_sgd_with_momentum_and_decay():
    torch.manual_seed(0)
    ours, theirs = torch.nn.Parameter(torch.randn(6)), torch.nn.Parameter(torch.randn(6))
    theirs.data.copy_(ours.data)
    lars = LARS([{"params": [ours], "adapt": False}], lr=0.1, momentum=0.9, weight_decay=0.01)
    sgd = torch.optim.SGD([theirs], lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(3):
        grad = torch.randn(6)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        lars.step()
        sgd.step()
    torch.testing.assert_close(ours.detach(), theirs.detach())


def test_a_zero_weight_takes_the_plain_step():
    silent = torch.nn.Parameter(torch.zeros(3))
    silent.grad = torch.tensor([1.0, -2.0, 0.5])
    LARS([silent], lr=0.1, trust=0.01).step()
    torch.testing.assert_close(silent.detach(), torch.tensor([-0.1, 0.2, -0.05]))
