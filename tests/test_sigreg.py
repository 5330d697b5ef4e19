import pytest
import torch

from lewm_mini import SIGReg


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("batch", [64, 128, 256])
def test_gaussian_data_scores_about_one(batch):
    z = torch.randn(batch, 192, generator=gen(1))
    assert 0.85 < SIGReg()(z, generator=gen()).item() < 1.3


@pytest.mark.parametrize("batch", [64, 128])
def test_collapsed_data_scores_about_0_4_batch(batch):
    value = SIGReg()(torch.zeros(batch, 192), generator=gen()).item()
    assert value == pytest.approx(0.4 * batch, rel=0.03)
    assert SIGReg()(torch.zeros(128, 192)).item() == pytest.approx(51.5, abs=0.5)


def test_time_steps_are_averaged():
    z = torch.randn(3, 128, 32, generator=gen(2))
    z[1] = 0.0  # one collapsed time step out of three
    s = SIGReg(num_proj=256)
    per_step = [s(z[t], generator=gen()).item() for t in range(3)]
    assert s(z, generator=gen()).item() == pytest.approx(sum(per_step) / 3, rel=1e-5)


def test_monotone_in_anisotropy():
    base = torch.randn(256, 64, generator=gen(3))
    values = []
    for shrink in [1.0, 0.5, 0.2, 0.05]:
        z = base.clone()
        z[:, 32:] *= shrink  # half the dimensions lose variance
        values.append(SIGReg(num_proj=512)(z, generator=gen()).item())
    assert values == sorted(values) and values[-1] > 3 * values[0]


def test_knots_and_weights_as_released():
    s = SIGReg()
    assert s.t.shape == (17,) and s.t[-1].item() == pytest.approx(3.0)
    dt = 3.0 / 16
    assert s.weights[0].item() == pytest.approx(dt)  # end points: dt * exp(0)
    assert s.weights[1].item() == pytest.approx(2 * dt * torch.exp(torch.tensor(-0.5 * (3 / 16) ** 2)).item())


def test_fresh_directions_each_call_and_generator_reproduces():
    s = SIGReg(num_proj=16)
    z = torch.randn(64, 8, generator=gen(4))
    assert s(z, generator=gen(5)).item() == s(z, generator=gen(5)).item()
    assert s(z).item() != s(z).item()


def test_gradients_flow_and_push_away_from_collapse():
    z = (0.01 * torch.randn(128, 16, generator=gen(6))).requires_grad_()
    loss = SIGReg(num_proj=128)(z, generator=gen())
    loss.backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    with torch.no_grad():
        stepped = z - 0.5 * z.grad / z.grad.norm() * z.norm()
    assert SIGReg(num_proj=128)(stepped, generator=gen()).item() < loss.item()


def test_bad_shape():
    with pytest.raises(ValueError, match="embeddings"):
        SIGReg()(torch.zeros(2, 3, 4, 5))
