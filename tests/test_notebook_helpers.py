import dataclasses

from lewm_mini.config import get_config
from lewm_mini.notebook import expect, setup, trained_model


def test_setup_prints_profile_and_seeds(capsys):
    cfg, device = setup(seed=3, profile="ci")
    out = capsys.readouterr().out
    assert cfg.profile == "ci" and "profile=ci" in out and "seed=3" in out and str(device) in out
    expect(5, 60, 30, "ci")
    assert "about 5 s" in capsys.readouterr().out


def test_trained_model_is_reused_from_the_cache():
    cfg = get_config("ci")
    cfg.train = dataclasses.replace(cfg.train, steps=4)
    m1, s1 = trained_model(cfg, progress=False)
    m2, _ = trained_model(cfg, progress=False)
    assert not m2.training
    for k, v in m1.state_dict().items():
        assert (m2.state_dict()[k] == v).all()
