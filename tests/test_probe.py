import torch

from lewm_mini.probe import probe_report


def test_probe_recovers_a_linear_code_and_not_noise():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(400, 2, generator=g) * 50
    mix = torch.randn(2, 16, generator=g)
    z = y @ mix + 0.01 * torch.randn(400, 16, generator=g)
    good = probe_report(z[:300], y[:300], z[300:], y[300:])
    assert good["r"] > 0.999 and good["rmse"] < 0.5
    noise = torch.randn(400, 16, generator=g)
    bad = probe_report(noise[:300], y[:300], noise[300:], y[300:])
    assert bad["r"] < 0.3
