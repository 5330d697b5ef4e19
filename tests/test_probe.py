import torch

from lewm_mini.probe import fit_mlp_probe, probe_report


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


def test_mlp_probe_reads_a_nonlinear_code_that_a_linear_probe_misses():
    g = torch.Generator().manual_seed(0)
    y = torch.rand(1200, 2, generator=g) * 50
    z = torch.cat([torch.sin(y / 12), torch.cos(y / 12), 0.01 * torch.randn(1200, 4, generator=g)], 1)
    linear = probe_report(z[:900], y[:900], z[900:], y[900:])
    mlp = probe_report(z[:900], y[:900], z[900:], y[900:], kind="mlp", steps=400)
    assert mlp["r"] > 0.99 and mlp["rmse"] < 0.5 * linear["rmse"]
    a, b = fit_mlp_probe(z[:100], y[:100], steps=5), fit_mlp_probe(z[:100], y[:100], steps=5)
    with torch.no_grad():
        torch.testing.assert_close(a(z[:10]), b(z[:10]))  # deterministic for a seed
