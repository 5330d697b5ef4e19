"""Chapter 04 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations

import math

import pytest
import torch

from reference import accepts, solutions_of

from lewm_mini import SIGReg
from lewm_mini.checks.ch04 import check_all_reduced_sigreg, check_effective_rank, check_epps_pulley_exact
from lewm_mini.checks.answers.ch04 import epps_pulley_exact_reference, epps_pulley_reference
from lewm_mini.probe import effective_rank as package_effective_rank


solution = solutions_of("04_collapse_and_sigreg")


# ----------------------------------------------------------------------------- 4.1


def _exact(x, n_factor=True, diagonal=True, cross_exp=4.0, cross_factor=2.0, constant=True):
    n = len(x)
    k = torch.exp(-(x[:, None] - x[None, :]) ** 2 / 2)
    pair = k.mean() if diagonal else (k.sum() - n) / (n * (n - 1))
    cross = torch.exp(-x**2 / cross_exp).mean()
    v = math.sqrt(2 * math.pi) * pair - cross_factor * math.sqrt(math.pi) * cross + (
        math.sqrt(2 * math.pi / 3) if constant else 0.0)
    return v * (n if n_factor else 1)


EXACT_MUTANTS = {
    "no factor N": lambda x: _exact(x, n_factor=False),
    "drops the diagonal j = k (U-statistic)": lambda x: _exact(x, diagonal=False),
    "cross term exp(-x^2/2)": lambda x: _exact(x, cross_exp=2.0),
    "cross term without the factor 2": lambda x: _exact(x, cross_factor=1.0),
    "forgets the constant sqrt(2 pi / 3)": lambda x: _exact(x, constant=False),
    "the 17-knot quadrature instead": lambda x: torch.tensor(epps_pulley_reference(x)),
    "pairs weighted exp(-(xj - xk)^2)": lambda x: len(x) * (
        math.sqrt(2 * math.pi) * torch.exp(-(x[:, None] - x[None, :]) ** 2).mean()
        - 2 * math.sqrt(math.pi) * torch.exp(-x**2 / 4).mean() + math.sqrt(2 * math.pi / 3)),
}


def test_exact_reference_agrees_with_fine_quadrature():
    x = torch.randn(64, generator=torch.Generator().manual_seed(0))
    fine = epps_pulley_reference(x, knots=4001, t_max=12.0)
    assert math.isclose(epps_pulley_exact_reference(x), fine, rel_tol=1e-6)
    assert math.isclose(epps_pulley_exact_reference(torch.zeros(10)) / 10,
                        math.sqrt(2 * math.pi) - 2 * math.sqrt(math.pi) + math.sqrt(2 * math.pi / 3), rel_tol=1e-9)


def test_epps_pulley_exact_accepts_reference():
    assert accepts(check_epps_pulley_exact, solution("epps_pulley_exact"))
    assert check_epps_pulley_exact(solution("epps_pulley_exact"), strict=True)


@pytest.mark.parametrize("name", EXACT_MUTANTS)
def test_epps_pulley_exact_rejects_mutant(name, capsys):
    assert not accepts(check_epps_pulley_exact, EXACT_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 4.2


T_K = torch.linspace(0, 3.0, 17)
W_K = torch.full((17,), 2 * 3.0 / 16)
W_K[[0, -1]] = 3.0 / 16
W_K = W_K * torch.exp(-T_K**2 / 2)


def _stat(cos_mean, sin_mean, n):  # (M, K) means of n samples -> (M,) Epps-Pulley
    return (((cos_mean - torch.exp(-T_K**2 / 2)) ** 2 + sin_mean**2) @ W_K) * n


def _means(chunk, u):
    tx = (chunk @ u)[..., None] * T_K
    return torch.cos(tx).mean(0), torch.sin(tx).mean(0)


def per_gpu_mean(chunks, u):  # the released multi-GPU behaviour
    return torch.stack([_stat(*_means(c, u), len(c)).mean() for c in chunks]).mean()


def equal_weight_average(chunks, u):
    ms = [_means(c, u) for c in chunks]
    n = sum(len(c) for c in chunks)
    return _stat(sum(m[0] for m in ms) / len(ms), sum(m[1] for m in ms) / len(ms), n).mean()


def local_n(chunks, u):
    whole = torch.cat(chunks)
    return _stat(*_means(whole, u), len(chunks[0])).mean()


def sums_over_directions(chunks, u):
    whole = torch.cat(chunks)
    return _stat(*_means(whole, u), len(whole)).sum()


def first_chunk_only(chunks, u):
    return _stat(*_means(chunks[0], u), len(chunks[0])).mean()


ALLREDUCE_MUTANTS = {
    "mean of per-GPU statistics (released code)": per_gpu_mean,
    "equal-weight average of the chunks' means": equal_weight_average,
    "N of one chunk": local_n,
    "sum over directions": sums_over_directions,
    "only the first chunk": first_chunk_only,
}


def test_all_reduced_sigreg_accepts_reference_and_concatenation():
    assert accepts(check_all_reduced_sigreg, solution("all_reduced_sigreg"))
    assert accepts(check_all_reduced_sigreg, lambda chunks, u: _stat(*_means(torch.cat(chunks), u),
                                                                      sum(len(c) for c in chunks)).mean())
    assert check_all_reduced_sigreg(solution("all_reduced_sigreg"), strict=True)


@pytest.mark.parametrize("name", ALLREDUCE_MUTANTS)
def test_all_reduced_sigreg_rejects_mutant(name, capsys):
    assert not accepts(check_all_reduced_sigreg, ALLREDUCE_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


def test_all_reduced_sigreg_names_the_released_behaviour(capsys):
    accepts(check_all_reduced_sigreg, per_gpu_mean)
    assert "released multi-GPU" in capsys.readouterr().out


def test_package_sigreg_is_the_concatenated_statistic():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(40, 6, generator=g)
    u = torch.randn(6, 12, generator=torch.Generator().manual_seed(3))
    u = u / u.norm(dim=0)
    want = float(SIGReg(12)(z, generator=torch.Generator().manual_seed(3)))
    assert math.isclose(float(_stat(*_means(z, u), 40).mean()), want, rel_tol=1e-5)


# ----------------------------------------------------------------------------- 4.3


def _erank(z, centre=True, square=False, exp=True, base=math.e, per_dim=False):
    zc = z - z.mean(0) if centre else z
    s = torch.linalg.svdvals(zc)
    s = s**2 if square else s
    p = s / s.sum()
    h = -(p * torch.log(p.clamp_min(1e-12))).sum()  # in nats
    out = base**h if exp else h
    return float(out / z.shape[1]) if per_dim else float(out)


ERANK_MUTANTS = {
    "not centred": lambda z: _erank(z, centre=False),
    "covariance eigenvalues (squared singular values)": lambda z: _erank(z, square=True),
    "returns the entropy": lambda z: _erank(z, exp=False),
    "2 ** H with H in nats": lambda z: _erank(z, base=2.0),
    "divided by D": lambda z: _erank(z, per_dim=True),
    "matrix rank": lambda z: float(torch.linalg.matrix_rank(z - z.mean(0))),
}


def test_effective_rank_accepts_reference_and_package():
    assert accepts(check_effective_rank, solution("effective_rank"))
    assert accepts(check_effective_rank, package_effective_rank)
    assert check_effective_rank(solution("effective_rank"), strict=True)


@pytest.mark.parametrize("name", ERANK_MUTANTS)
def test_effective_rank_rejects_mutant(name, capsys):
    assert not accepts(check_effective_rank, ERANK_MUTANTS[name])
    assert "FAIL" in capsys.readouterr().out


# ----------------------------------------------------------------------------- learner mode and strict mode


@pytest.mark.parametrize("check", [check_epps_pulley_exact, check_all_reduced_sigreg, check_effective_rank])
def test_stub_is_not_implemented_and_strict_raises(check, capsys):
    def stub(*args):
        raise NotImplementedError("stub")

    assert not accepts(check, stub)
    assert "not implemented yet" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        check(stub, strict=True)
