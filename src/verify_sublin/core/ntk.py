"""The shifted neural tangent kernel, exactly, and the papers' stated range for lambda.

H_ij = E_w[<x_i, x_j> 1(<w, x_i> > b) 1(<w, x_j> > b)],  w ~ N(0, I_d), ||x_i|| = 1.

For unit inputs (<w, x_i>, <w, x_j>) is a standard bivariate normal with correlation
rho = <x_i, x_j>, and P(Z_i > b, Z_j > b) = Q(b) - 2 T(b, sqrt((1 - rho) / (1 + rho)))
with Owen's T function (scipy.special.owens_t) for rho > -1 (and 0 at rho = -1 for
b >= 0); rho = 1 gives Q(b). Monte Carlo estimates of lambda_min(H) read noticeably low
at large b, which is why this module computes H exactly.

The papers state e^{-b^2/2} delta / (100 n^2) <= lambda <= e^{-b^2/2}, delta the
separation of the inputs (`verify_sublin.separation`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import owens_t
from scipy.stats import norm

from .data import check_inputs, separation
from .errors import check_float

__all__ = ["lambda_bounds", "lambda_min", "orthant_probability", "shifted_ntk",
           "shifted_ntk_cross"]


def orthant_probability(rho, b: float) -> np.ndarray:
    """P(Z_1 > b, Z_2 > b) for a standard bivariate normal with correlation rho.

    >>> bool(abs(orthant_probability(0.0, 1.0) - norm.sf(1.0) ** 2) < 1e-15)
    True

    Cost: O(size of rho).
    """
    b = check_float("b", b, minimum=0.0)
    rho = np.clip(np.asarray(rho, dtype=np.float64), -1.0, 1.0)
    out = np.empty_like(rho)
    top = rho >= 1.0
    bottom = rho <= -1.0
    mid = ~(top | bottom)
    out[top] = norm.sf(b)
    out[bottom] = 0.0      # Z_2 = -Z_1: both > b >= 0 is impossible
    r = rho[mid]
    out[mid] = norm.sf(b) - 2.0 * owens_t(b, np.sqrt((1.0 - r) / (1.0 + r)))
    return out


def shifted_ntk(X, b: float) -> np.ndarray:
    """H (n x n) for unit-norm inputs X. Cost O(n^2 d + n^2) Owen's T evaluations."""
    X, _ = check_inputs(X)
    rho = np.clip(X @ X.T, -1.0, 1.0)
    return rho * orthant_probability(rho, b)


def shifted_ntk_cross(X1, X2, b: float) -> np.ndarray:
    """H(x1_i, x2_j) (n1 x n2) between two sets of unit-norm inputs. Cost O(n1 n2 d)."""
    X1, _ = check_inputs(X1)
    X2, _ = check_inputs(X2, d=X1.shape[1])
    rho = np.clip(X1 @ X2.T, -1.0, 1.0)
    return rho * orthant_probability(rho, b)


def lambda_min(X, b: float) -> float:
    """Smallest eigenvalue of the shifted NTK. Cost O(n^3)."""
    return float(np.linalg.eigvalsh(shifted_ntk(X, b))[0])


def lambda_bounds(X, b: float) -> tuple[float, float]:
    """The papers' range (e^{-b^2/2} delta / (100 n^2), e^{-b^2/2}). Cost O(n^2 d)."""
    b = check_float("b", b, minimum=0.0)
    X, _ = check_inputs(X)
    n = X.shape[0]
    top = math.exp(-b * b / 2)
    return top * separation(X) / (100 * n * n), top
