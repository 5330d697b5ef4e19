import pytest
import torch

from lewm_mini.config import get_config
from lewm_mini.jepa import LeWM, parameter_table
from lewm_mini.predictor import AdaLNBlock, Predictor


@pytest.fixture(scope="module")
def ci_model():
    torch.manual_seed(0)
    return LeWM(get_config("ci").model)


def test_shapes(ci_model):
    cfg = ci_model.cfg
    frames = torch.rand(3, 4, 3, 64, 64)
    actions = torch.randn(3, 4, 2 * cfg.frameskip)
    z = ci_model.encode(frames)
    assert z.shape == (3, 4, cfg.latent)
    assert ci_model.predict(z[:, :-1], actions[:, :-1]).shape == (3, 3, cfg.latent)
    out = ci_model.loss(frames, actions)
    assert set(out) == {"loss", "pred", "sigreg"} and out["loss"].ndim == 0
    assert ci_model.rollout(z[:, 0], torch.randn(3, 5, 10)).shape == (3, 5, cfg.latent)


def test_adaln_zero_block_starts_as_identity():
    block = AdaLNBlock(32, 4, 64, 0.0)
    x, c = torch.randn(2, 3, 32), torch.randn(2, 3, 32)
    assert torch.equal(block(x, c), x)


def test_predictor_is_causal():
    cfg = get_config("ci").model
    torch.manual_seed(0)
    pred = Predictor(cfg).eval()
    for p in pred.parameters():  # leave AdaLN-zero so actions and attention matter
        torch.nn.init.normal_(p, std=0.2)
    z, a = torch.randn(2, 3, cfg.latent), torch.randn(2, 3, 10)
    out = pred(z, a)
    z2, a2 = z.clone(), a.clone()
    z2[:, 2] += 1.0
    a2[:, 2] += 1.0
    out2 = pred(z2, a2)
    assert torch.allclose(out[:, :2], out2[:, :2], atol=1e-6)  # the future does not leak backwards
    assert not torch.allclose(out[:, 2], out2[:, 2])


def test_rollout_matches_step_by_step_prediction(ci_model):
    m = ci_model.eval()
    z0, blocks = torch.randn(2, m.cfg.latent), torch.randn(2, 3, 10)
    with torch.no_grad():
        roll = m.rollout(z0, blocks, history=1)
        z1 = m.predict(z0[:, None], blocks[:, :1])[:, -1]
        z2 = m.predict(z1[:, None], blocks[:, 1:2])[:, -1]
    assert torch.allclose(roll[:, 0], z1, atol=1e-6) and torch.allclose(roll[:, 1], z2, atol=1e-6)


def test_parameter_counts():
    table = parameter_table(LeWM(get_config("gpu").model))
    assert table["total"] == sum(v for k, v in table.items() if k != "total")
    assert 10e6 < table["total"] < 25e6  # paper: ~15-18 M


def test_vit_encoder_runs():
    m = LeWM(get_config("gpu").model)
    assert m.encode(torch.rand(2, 3, 64, 64)).shape == (2, 192)


@pytest.mark.parametrize("frames, exc, match", [
    (torch.rand(2, 3, 32, 32), ValueError, r"\(\.\.\., 3, 64, 64\)"),
    (torch.zeros(2, 3, 64, 64, dtype=torch.uint8), TypeError, "float"),
    (torch.full((2, 3, 64, 64), float("nan")), ValueError, "NaN"),
])
def test_bad_frames(ci_model, frames, exc, match):
    with pytest.raises(exc, match=match):
        ci_model.encode(frames)


def test_bad_action_dimension(ci_model):
    z = torch.randn(2, 3, ci_model.cfg.latent)
    with pytest.raises(ValueError, match="actions must have shape"):
        ci_model.predict(z, torch.randn(2, 3, 4))


def test_training_path_skips_the_finite_check_that_user_calls_keep(ci_model):
    """The finite check is a host sync on a GPU: the training loss skips it (its frames come from uint8)."""
    from lewm_mini.train import TrainingLoss

    frames = torch.rand(2, 4, 3, 64, 64)
    frames[0, 1, 0, 5, 5] = float("nan")
    actions = torch.randn(2, 4, 2 * ci_model.cfg.frameskip)
    with pytest.raises(ValueError, match="NaN"):
        ci_model.loss(frames, actions)  # user-facing: the clear error stays
    out = TrainingLoss(ci_model, 0.09)(frames, actions)  # training: no check, the NaN reaches the loss
    assert not torch.isfinite(out["loss"])  # which the loop's next sync stops on (tests/test_train.py)


def test_a_training_step_reads_nothing_back_from_the_device(monkeypatch):
    """Forward and backward of the training loss never turn a tensor into a Python value (on a GPU each
    such read is a host sync): the values are read only at the loop's syncs, every LOG_EVERY steps."""
    from lewm_mini.train import TrainingLoss

    torch.manual_seed(0)
    model = LeWM(get_config("ci").model).train()
    frames = torch.rand(4, 4, 3, 64, 64)
    actions = torch.randn(4, 4, 2 * model.cfg.frameskip)

    def read_back(*args, **kwargs):
        raise AssertionError("a tensor was read back on the training path")

    for name in ("__bool__", "__float__", "__int__", "__index__", "item", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, read_back)
    out = TrainingLoss(model, 0.09)(frames, actions, generator=torch.Generator().manual_seed(0))
    out["loss"].backward()
    monkeypatch.undo()
    assert torch.isfinite(out["loss"]) and all(p.grad is not None for p in model.encoder.parameters())
