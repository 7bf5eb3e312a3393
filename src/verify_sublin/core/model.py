"""The two-layer shifted-ReLU network of the papers.

f(W, x) = (1/sqrt(m)) * sum_r a_r * sigma_b(<w_r, x>),  sigma_b(z) = max(z - b, 0).

This is the *subtracted* form of the shifted ReLU. One of the papers writes
max(z, b) instead; both have derivative 1[z > b], hence the same Jacobian and the
same fire sets S_i = {r : <w_r, x_i> > b}, which is all the algorithms use. We use
max(z - b, 0) everywhere (outputs, Jacobian, multi-layer net) so that a silent neuron
contributes exactly zero.

Sizes: m neurons (width), d input dimension, n inputs, b >= 0 the shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .backend import resolve_backend
from .errors import InputError, check_array, check_float, check_int, check_seed
from .memory import check_memory

__all__ = ["JACOBIAN_MAX_ENTRIES", "ShiftedReLUNet", "alpha_for", "shift_for"]

#: `ShiftedReLUNet.jacobian` refuses to build more entries than this (400 MB of float64).
JACOBIAN_MAX_ENTRIES = 50_000_000



def shift_for(m: int, c: float = 0.4) -> float:
    """The papers' shift b = sqrt(c ln m) (natural log), so alpha = c / 2.

    With this shift E|S_i(0)| = m Q(b) <= m^(1 - c/2).

    >>> round(shift_for(2**20, 0.4), 4)
    2.3548
    >>> shift_for(1)
    0.0

    Cost: O(1).
    """
    m = check_int("m", m, minimum=1)
    c = check_float("c", c, minimum=0.0)
    return math.sqrt(c * math.log(m))


def alpha_for(shift: float, m: int) -> float:
    """The papers' alpha of shift b at width m: b^2 / (2 ln m), 0 at m = 1; the inverse
    of `shift_for` (alpha = c / 2). It is the exponent of the claimed costs m^(1-alpha)
    and m^(2-alpha).

    >>> round(alpha_for(shift_for(2**20, 0.4), 2**20), 12)
    0.2

    Cost: O(1).
    """
    return shift**2 / (2 * math.log(m)) if m > 1 else 0.0


@dataclass(eq=False)
class ShiftedReLUNet:
    """Two-layer shifted-ReLU network with weights `W` (m x d), output signs `a` (m,).

    Parameters
    ----------
    W : array (m, d), float64
        First-layer weights; row r is w_r.
    a : array (m,)
        Second-layer weights. The papers fix a_r in {-1, +1}; any finite value is
        accepted so that the ablation that trains `a` can use the same class.
    shift : float
        The shift b >= 0 of sigma_b(z) = max(z - b, 0).
    backend : str
        Array backend of the weights: "numpy" (default), "cupy", "auto" or
        "array_api_strict" (see `verify_sublin.core.backend`). W and a live there.

    Methods
    -------
    init          random network as in the papers (W ~ N(0, I), a uniform +-1)
    forward       outputs f(W, x_i) for the rows of X              O(n m d)
    preactivations  <w_r, x_i> as an n x m array                   O(n m d)
    fire_sets     S_i = {r : <w_r, x_i> > b}, one sorted array each  O(n m d)
    jacobian      dense n x (m d) Jacobian, small sizes only       O(n m d)

    Examples
    --------
    >>> net = ShiftedReLUNet.init(m=8, d=3, shift=0.5, seed=1)
    >>> net.W.shape, net.a.shape, net.shift
    ((8, 3), (8,), 0.5)
    >>> X = np.eye(3)
    >>> net.forward(X).shape
    (3,)
    """

    W: np.ndarray
    a: np.ndarray
    shift: float
    backend: str = "numpy"

    def __post_init__(self) -> None:
        be = resolve_backend(self.backend)
        self.backend = be.name
        if be.is_numpy:
            self.W = check_array("W", self.W, ndim=2)
            self.a = check_array("a", self.a, ndim=1, shape=(self.W.shape[0],))
        else:
            self.W = be.asarray(check_array("W", be.to_numpy(self.W), ndim=2))
            self.a = be.asarray(check_array("a", be.to_numpy(self.a), ndim=1,
                                            shape=(self.W.shape[0],)))
        m, d = self.W.shape
        if m < 1 or d < 1:
            raise InputError("W", f"shape {tuple(self.W.shape)}",
                             "an m x d array with m >= 1 and d >= 1")
        self.shift = check_float("shift", self.shift, minimum=0.0)

    @property
    def xp(self):
        """The array namespace of W and a."""
        return resolve_backend(self.backend).xp

    def to_backend(self, backend: str) -> ShiftedReLUNet:
        """A copy of the network on another backend. Cost O(m d) (a device transfer)."""
        src = resolve_backend(self.backend)
        return ShiftedReLUNet(src.to_numpy(self.W).copy(), src.to_numpy(self.a).copy(),
                              self.shift, backend=backend)

    @classmethod
    def init(cls, m: int, d: int, shift: float, seed: int, *,
             backend: str = "numpy", paired: bool = False) -> ShiftedReLUNet:
        """Random network: W ~ N(0, I_d) row by row, then a uniform in {-1, +1}.

        Both are drawn, W first, from ``numpy.random.default_rng(seed)`` on the host,
        so every backend and executor gets the same network for the same seed.

        ``paired=True`` (m even) is the zero-output initialisation: the first m / 2
        neurons are drawn as above (a network of width m / 2, W then a) and the second
        half repeats them with the opposite output sign, w_{r + m/2} = w_r and
        a_{r + m/2} = -a_r, so the initial output f_0 is zero at every input (to
        rounding) while each neuron still has a random weight vector.

        Cost: O(m d) time and memory.

        >>> net = ShiftedReLUNet.init(4, 2, shift=0.0, seed=0)
        >>> sorted(set(net.a.tolist())) in ([-1.0, 1.0], [-1.0], [1.0])
        True
        >>> net = ShiftedReLUNet.init(8, 3, shift=0.5, seed=0, paired=True)
        >>> bool(np.all(net.W[4:] == net.W[:4])), bool(np.all(net.a[4:] == -net.a[:4]))
        (True, True)
        >>> float(np.abs(net.forward(np.eye(3))).max()) < 1e-15
        True
        """
        m = check_int("m", m, minimum=1)
        d = check_int("d", d, minimum=1)
        shift = check_float("shift", shift, minimum=0.0)
        seed = check_seed("seed", seed)
        if not isinstance(paired, bool):
            raise InputError("paired", repr(paired), "True or False")
        if paired and m % 2:
            raise InputError("m", f"{m} with paired=True", "an even width (neurons in pairs)")
        check_memory("m", 8.0 * m * (d + 1), f"the weights of a {m} x {d} network")
        rng = np.random.default_rng(seed)
        half = m // 2 if paired else m
        W = rng.standard_normal((half, d))
        a = rng.choice(np.array([-1.0, 1.0]), size=half)
        if paired:
            W, a = np.concatenate([W, W]), np.concatenate([a, -a])
        return cls(W, a, shift, backend=backend)   # moved to the backend's device there

    @property
    def m(self) -> int:
        """Width m (number of neurons)."""
        return self.W.shape[0]

    @property
    def d(self) -> int:
        """Input dimension d."""
        return self.W.shape[1]

    def copy(self) -> ShiftedReLUNet:
        """An independent copy (weights copied), on the same backend. Cost: O(m d)."""
        if self.backend == "numpy":
            return ShiftedReLUNet(self.W.copy(), self.a.copy(), self.shift)
        return self.to_backend(self.backend)

    def _inputs(self, X):
        X = check_array("X", X, ndim=2, shape=(None, self.d))
        return X if self.backend == "numpy" else resolve_backend(self.backend).asarray(X)

    def preactivations(self, X):
        """The n x m matrix P with P[i, r] = <w_r, x_i> (on the net's backend). Cost: O(n m d)."""
        X = self._inputs(X)
        return X @ self.xp.permute_dims(self.W, (1, 0))

    #: Neurons per block of the numpy `forward`: its memory is n x FORWARD_BLOCK.
    FORWARD_BLOCK = 2**16

    def forward(self, X):
        """Outputs f(W, x_i) = (1/sqrt m) sum_r a_r max(<w_r, x_i> - b, 0), shape (n,),
        on the net's backend.

        Cost: O(n m d) time; memory O(n min(m, FORWARD_BLOCK)) on numpy (blocks of
        neurons: 8 GiB would be needed at once for n = 64, m = 2^24), O(n m) elsewhere.
        """
        if self.backend == "numpy":
            X = self._inputs(X)
            out = np.zeros(X.shape[0])
            for lo in range(0, self.m, self.FORWARD_BLOCK):
                P = X @ self.W[lo:lo + self.FORWARD_BLOCK].T
                np.subtract(P, self.shift, out=P)
                np.maximum(P, 0.0, out=P)
                out += P @ self.a[lo:lo + self.FORWARD_BLOCK]
            return out / math.sqrt(self.m)
        P = self.preactivations(X)
        xp = self.xp
        return (xp.maximum(P - self.shift, xp.zeros_like(P)) @ self.a) / math.sqrt(self.m)

    def fire_sets(self, X) -> list[np.ndarray]:
        """Fire sets S_i = {r : <w_r, x_i> > b}, each a sorted int64 array.

        Cost: O(n m d).

        >>> net = ShiftedReLUNet(np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]),
        ...                      np.ones(3), shift=0.5)
        >>> [s.tolist() for s in net.fire_sets(np.array([[1.0, 0.0], [0.0, 1.0]]))]
        [[0], [1]]
        """
        P = resolve_backend(self.backend).to_numpy(self.preactivations(X))
        return [np.flatnonzero(row > self.shift) for row in P]

    def jacobian(self, X) -> np.ndarray:
        """Dense Jacobian J (n x (m d)) of the outputs with respect to W, flattened row-major.

        Block r of row i is (1/sqrt m) a_r 1[r in S_i] x_i. For tests and small
        sizes only: refuses more than `JACOBIAN_MAX_ENTRIES` entries.

        Cost: O(n m d) time and memory.
        """
        X = check_array("X", X, ndim=2, shape=(None, self.d))
        n = X.shape[0]
        if n * self.m * self.d > JACOBIAN_MAX_ENTRIES:
            raise InputError("X", f"n m d = {n * self.m * self.d} Jacobian entries",
                             f"at most {JACOBIAN_MAX_ENTRIES} entries (the dense Jacobian "
                             "is for small sizes and tests only)")
        be = resolve_backend(self.backend)
        W, a = be.to_numpy(self.W), be.to_numpy(self.a)
        mask = (X @ W.T) > self.shift
        coef = mask * (a / math.sqrt(self.m))               # n x m
        return (coef[:, :, None] * X[:, None, :]).reshape(n, self.m * self.d)
