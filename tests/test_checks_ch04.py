"""Chapter 04 checkers accept the reference solutions and reject plausible wrong answers."""

from __future__ import annotations


import pytest
import torch

from reference import load_solution

from lewm_mini.checks.ch04 import check_epps_pulley, check_sketched_sigreg, check_vicreg_terms



def solution(name: str, stem: str = "04_collapse_and_sigreg"):
    return load_solution(name, stem)


def accepts(check, fn) -> bool:
    return check(fn, strict=False)


# ----------------------------------------------------------------------------- 4.1


def _ep(x, knots=17, t_max=3.0, n_factor=True, double=True, sin=True, weight=True, knots_fixed=False,
        reduce="sum", biased_t=False):
    if knots_fixed:
        knots, t_max = 17, 3.0
    t = torch.linspace(0, t_max, knots)
    if biased_t:  # knots that skip t = 0
        t = torch.linspace(t_max / knots, t_max, knots)
    dt = t_max / (knots - 1)
    w = torch.full((knots,), (2 if double else 1) * dt)
    w[[0, -1]] = dt
    tx = x[:, None] * t
    err = (torch.cos(tx).mean(0) - torch.exp(-t**2 / 2)) ** 2 + (torch.sin(tx).mean(0) ** 2 if sin else 0)
    terms = err * w * (torch.exp(-t**2 / 2) if weight else 1)
    total = terms.sum() if reduce == "sum" else terms.mean()
    return total * (len(x) if n_factor else 1)


EP_MUTANTS = {
    "no factor N": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, n_factor=False),
    "plain trapezoid (not doubled)": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, double=False),
    "forgets the imaginary part": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, sin=False),
    "forgets the weight exp(-t^2/2)": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, weight=False),
    "ignores knots and t_max": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, knots_fixed=True),
    "mean over knots instead of the weighted sum": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, reduce="mean"),
    "knots that skip t = 0": lambda x, knots=17, t_max=3.0: _ep(x, knots, t_max, biased_t=True),
    "standardises x first": lambda x, knots=17, t_max=3.0: _ep((x - x.mean()) / (x.std() + 1e-6), knots, t_max),
}


def test_epps_pulley_accepts_reference_and_package():
    from lewm_mini import SIGReg

    assert accepts(check_epps_pulley, solution("epps_pulley"))
    assert accepts(check_epps_pulley, lambda x, knots=17, t_max=3.0: SIGReg(4, knots, t_max)(x[:, None]))


@pytest.mark.parametrize("name", EP_MUTANTS)
def test_epps_pulley_rejects_mutant(name):
    assert not accepts(check_epps_pulley, EP_MUTANTS[name])


def test_epps_pulley_stub_and_strict_mode():
    def stub(x, knots=17, t_max=3.0):
        raise NotImplementedError("epps_pulley")

    assert not accepts(check_epps_pulley, stub)
    with pytest.raises(AssertionError):
        check_epps_pulley(stub, strict=True)
    assert check_epps_pulley(solution("epps_pulley"), strict=True)


# ----------------------------------------------------------------------------- 4.2


def _ep_cols(x):  # Epps-Pulley over dim 0, for each column of x (B, M)
    return torch.stack([_ep(x[:, j]) for j in range(x.shape[1])])


SK_MUTANTS = {
    "sum over directions": lambda z, u: _ep_cols(z @ u).sum(),
    "max over directions": lambda z, u: _ep_cols(z @ u).max(),
    "test over the directions, not the batch": lambda z, u: _ep_cols((z @ u).T).mean(),
    "coordinate axes instead of the directions": lambda z, u: _ep_cols(z).mean(),
    "no factor B": lambda z, u: _ep_cols(z @ u).mean() / len(z),
    "centres the latents first": lambda z, u: _ep_cols((z - z.mean(0)) @ u).mean(),
    "re-normalises the rows of the directions": lambda z, u: _ep_cols(z @ (u / u.norm(dim=1, keepdim=True))).mean(),
}


def test_sketched_accepts_reference():
    assert accepts(check_sketched_sigreg, solution("sketched_sigreg"))
    assert accepts(check_sketched_sigreg, lambda z, u: _ep_cols(z @ u).mean())  # a loop over directions is fine


@pytest.mark.parametrize("name", SK_MUTANTS)
def test_sketched_rejects_mutant(name):
    assert not accepts(check_sketched_sigreg, SK_MUTANTS[name])


# ----------------------------------------------------------------------------- 4.3


def _vic(z, gamma=1.0, eps=1e-4, unbiased=True, hinge_on_var=False, eps_out=False, keep_diag=False, cov_norm="D",
         no_eps=False):
    var = z.var(dim=0, unbiased=unbiased)
    if hinge_on_var:
        spread = var + eps
    elif no_eps:
        spread = torch.sqrt(var)
    elif eps_out:
        spread = torch.sqrt(var) + eps
    else:
        spread = torch.sqrt(var + eps)
    variance = torch.relu(gamma - spread).mean()
    zc = z - z.mean(0)
    cov = zc.T @ zc / (len(z) - 1)
    if not keep_diag:
        cov = cov - torch.diag(torch.diag(cov))
    denom = {"D": z.shape[1], "D2": z.shape[1] ** 2, "none": 1}[cov_norm]
    return variance, cov.pow(2).sum() / denom


VIC_MUTANTS = {
    "biased variance": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, unbiased=False),
    "hinge on the variance, not the std": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, hinge_on_var=True),
    "keeps the diagonal in the covariance term": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, keep_diag=True),
    "divides the covariance term by D^2": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, cov_norm="D2"),
    "ignores gamma": lambda z, gamma=1.0, eps=1e-4: _vic(z, 1.0, eps),
    "swapped order (covariance, variance)": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps)[::-1],
    "eps outside the square root": lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, eps_out=True),
}


def test_vicreg_accepts_reference():
    assert accepts(check_vicreg_terms, solution("vicreg_terms"))


@pytest.mark.parametrize("name", VIC_MUTANTS)
def test_vicreg_rejects_mutant(name):
    assert not accepts(check_vicreg_terms, VIC_MUTANTS[name])


def test_sqrt_without_eps_is_rejected_with_a_hint(capsys):
    assert not accepts(check_vicreg_terms, lambda z, gamma=1.0, eps=1e-4: _vic(z, gamma, eps, no_eps=True))
    assert "FAIL" in capsys.readouterr().out
