"""The multi-layer shifted-ReLU network of Song, Zhang and Zhang (ITCS 2024).

L weight matrices: an input layer W_1 (m x d) and L - 1 hidden layers W_2 .. W_L
(m x m), a fixed output vector a in {-1, +1}^m and the shift b in every layer:

    u_0 = x,   z_l = W_l u_{l-1},   h_l = sigma_b(z_l),   u_l = c_l(x) h_l,
    f(x) = (1/sqrt m) <a, h_L>,

with sigma_b(z) = max(z - b, 0), the *subtracted* form the whole project uses (see
`verify_sublin.core.model`): a silent neuron contributes exactly zero, so h_l and the layer
input u_l are as sparse as the fire set S_l(x) = {r : z_{l,r} > b}. All weights are
drawn N(0, 1) (the papers' NTK parametrisation; 1/sqrt(m) is the output's scale).
With L = 1 this is exactly `ShiftedReLUNet`.

Layer scale c_l: so that pre-activations are about N(0, 1)
-----------------------------------------------------------
Layer 1 needs no scale: ||x|| = 1, so z_{1,r} = <w_r, x> ~ N(0, 1) exactly. Given its
input u, a hidden pre-activation z_{l,r} = <w_r, u> is N(0, ||u||^2); two choices of
c_l make ||u_{l-1}|| about 1:

``scaling="fixed"``: c_l = 1 / sqrt(m q(b)), a constant, where for z ~ N(0, 1)

    q(b) = E[sigma_b(z)^2] = int_b^inf (z - b)^2 phi(z) dz = (1 + b^2) Q(b) - b phi(b)

(phi, Q the standard normal density and upper tail; `shifted_relu_second_moment`).
If layer l - 1's pre-activations are N(0, 1), E ||h_{l-1}||^2 = m q(b) and layer l's
are N(0, 1) *on average*. Without the scale (c = 1/sqrt(m/2) as for a plain ReLU,
q(0) = 1/2) the variance shrinks by q(b) per layer and the net goes silent.

But the fixed point is unstable at b > 0. The variance map of one layer,
v -> v q(b / sqrt v) / q(b), has slope 1 + b p(b) / q(b) at v = 1, with
p(b) = E[sigma_b(z)] = phi(b) - b Q(b) (3.9 at b = sqrt(0.4 ln 2^14), 6.2 at
b = sqrt(0.85 ln 2^14)), and ||h_1(x)||^2 / (m q(b)) fluctuates from input to input by
sqrt((E sigma_b^4 - q^2) / m) / q (0.10 and 0.38 there: the few fired neurons carry
it). Each layer multiplies that spread by the slope, so at practical widths some
inputs' deeper layers go silent (their rows of the Jacobian vanish and Gauss-Newton
cannot fit them) while others fire on a large part of the layer. Measured at
m = 2^14, L = 3, n = 32, c = 0.85: layer 2 fires on 0 to 418 neurons per input and
layer 3 on 0 to 5499, against m Q(b) = 33.

``scaling="normalized"`` (the default): c_l(x) = 1 / ||h_l(x)|| (0 when h_l(x) = 0).
Every layer then sees a unit-norm input, as the first layer does, so every
pre-activation is N(0, 1) given the layer's input, for every input and at every depth,
and every fire set has about m Q(b) neurons. The sparsity the method relies on is
kept: u_l is zero outside S_l, and the normalisation's derivative
(I - u_l u_l^T) / ||h_l|| maps a vector supported on S_l to one supported on S_l. This
departs from the brief's fixed scale; it is the choice under which the multi-layer
claim's premise (every layer sparse) holds at the widths we can run, and under which
Gauss-Newton contracts (fixed: stalls with silent inputs).

Derivatives and the Gauss-Newton Gram
-------------------------------------
D_l[i] = d f(x_i) / d z_l (zero outside S_l(x_i)):
D_L = (a / sqrt m) 1[z_L > b] and D_{l-1} = 1[z_{l-1} > b] * P_{l-1} (W_l^T D_l) with
P = c_l I (fixed) or P = (I - u u^T) / ||h|| (normalized). The derivative with
respect to W_l is D_l^T U_{l-1} (rows: inputs), so the layer scale sits in U and

    G = J J^T = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T)      (elementwise product),

with U_0 = X; for the fixed scaling U_{l-1} U_{l-1}^T = c^2 H_{l-1} H_{l-1}^T.

Sizes: m width, d input dimension, L = depth, n inputs, b >= 0 the shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from .errors import InputError, check_array, check_choice, check_float, check_int, check_seed, describe
from .firesets import FireSets
from .memory import check_memory

__all__ = ["SCALINGS", "DeepShiftedReLUNet", "hidden_scale", "shifted_relu_second_moment"]


def shifted_relu_second_moment(b: float) -> float:
    """q(b) = E[max(z - b, 0)^2] for z ~ N(0, 1), in closed form.

    q(b) = (1 + b^2) Q(b) - b phi(b), from int_b^inf z^2 phi = b phi(b) + Q(b) and
    int_b^inf z phi = phi(b). q(0) = 1/2 (the plain ReLU); q decreases like
    2 phi(b) / b^3 for large b.

    >>> shifted_relu_second_moment(0.0)
    0.5
    >>> round(shifted_relu_second_moment(2.0), 6)
    0.005769

    Cost: O(1).
    """
    b = check_float("b", b, minimum=0.0)
    tail = float(ndtr(-b))
    density = math.exp(-0.5 * b * b) / math.sqrt(2.0 * math.pi)
    return (1.0 + b * b) * tail - b * density


def hidden_scale(m: int, shift: float) -> float:
    """c = 1 / sqrt(m q(b)), the fixed scale of a hidden layer of width m (module docstring).

    >>> round(hidden_scale(2, 0.0), 12)      # plain ReLU: 1 / sqrt(m / 2)
    1.0

    Raises `InputError` naming `shift` when q(b) underflows (b above about 37).
    Cost: O(1).
    """
    m = check_int("m", m, minimum=1)
    q = shifted_relu_second_moment(shift)
    if not q > 0.0:
        raise InputError("shift", repr(shift), "a shift whose second moment q(b) is positive "
                         "(b below about 37)")
    return 1.0 / math.sqrt(m * q)


SCALINGS = ("normalized", "fixed")


@dataclass(eq=False)
class DeepShiftedReLUNet:
    """L-layer shifted-ReLU network: weights W_1 (m x d), W_2 .. W_L (m x m), signs a.

    Parameters
    ----------
    weights : sequence of arrays
        [W_1 (m x d), W_2 (m x m), ..., W_L (m x m)], float64, rows are output neurons.
    a : array (m,)
        Output weights (fixed; the papers use a_r in {-1, +1}).
    shift : float
        The shift b >= 0 of sigma_b(z) = max(z - b, 0), the same in every layer.
    scaling : {"normalized", "fixed"}
        The layer scale c_l (module docstring): 1 / ||h_l(x)|| or 1 / sqrt(m q(b)).

    Methods
    -------
    init            random network: weights N(0, 1), a uniform +-1       O(d m + (L-1) m^2)
    forward_pass    z_l, u_l and c_l of every layer                     O(n m d + (L-1) n m^2)
    preactivations  z_l for l = 1..L, each n x m                        same
    layer_inputs    u_0 = x, u_1, ..., u_{L-1}, each n x d or n x m      same
    forward         outputs f(x_i), shape (n,)                          same
    fire_sets       S_l(x_i) = {r : z_{l,r} > b}, one FireSets per layer same
    backward        D_l = d f / d z_l for l = 1..L, each n x m           O(n m d + 2 (L-1) n m^2)
    signals         the same from a forward_pass                        O((L-1) n m^2)
    gram_from       G from the signals and the layer inputs             O(L n^2 m)
    gradients       sum_i v_i d f(x_i) / d W_l for every layer           O(n m d + 3 (L-1) n m^2)
    gram            G = J J^T (n x n)                                   O(L n^2 m + 2 (L-1) n m^2)

    These dense methods are the reference the trainers and tests are checked against.

    Examples
    --------
    >>> net = DeepShiftedReLUNet.init(m=16, d=3, depth=3, shift=0.5, seed=1)
    >>> [W.shape for W in net.weights], net.depth, net.scaling
    ([(16, 3), (16, 16), (16, 16)], 3, 'normalized')
    >>> net.forward(np.eye(3)).shape
    (3,)
    """

    weights: list[np.ndarray]
    a: np.ndarray
    shift: float
    scaling: str = "normalized"

    def __post_init__(self) -> None:
        if isinstance(self.weights, np.ndarray) or not isinstance(self.weights, Sequence) \
                or len(self.weights) < 1:
            raise InputError("weights", describe(self.weights),
                             "a non-empty list [W_1 (m x d), W_2 (m x m), ...]")
        W1 = check_array("weights[0]", self.weights[0], ndim=2)
        m, d = W1.shape
        if m < 1 or d < 1:
            raise InputError("weights[0]", f"shape {W1.shape}", "an m x d array, m, d >= 1")
        self.weights = [W1] + [check_array(f"weights[{k}]", W, ndim=2, shape=(m, m))
                               for k, W in enumerate(self.weights[1:], start=1)]
        self.a = check_array("a", self.a, ndim=1, shape=(m,))
        self.shift = check_float("shift", self.shift, minimum=0.0)
        self.scaling = check_choice("scaling", self.scaling, SCALINGS)
        if self.scaling == "fixed" and len(self.weights) > 1:
            self.fixed_scale = hidden_scale(m, self.shift)
        else:
            self.fixed_scale = 1.0

    @classmethod
    def init(cls, m: int, d: int, depth: int, shift: float, seed: int, *,
             scaling: str = "normalized") -> DeepShiftedReLUNet:
        """Random network: W_1, ..., W_L with N(0, 1) entries, then a uniform in {-1, +1}.

        Drawn in that order from ``numpy.random.default_rng(seed)``; with depth = 1 the
        network (and the draw) is that of ``ShiftedReLUNet.init(m, d, shift, seed)``.

        Cost: O(m d + (L - 1) m^2) time and memory (the m^2 initialisation the
        multi-layer claim allows).

        >>> net = DeepShiftedReLUNet.init(4, 2, depth=2, shift=0.0, seed=0)
        >>> [W.shape for W in net.weights]
        [(4, 2), (4, 4)]
        """
        m = check_int("m", m, minimum=1)
        d = check_int("d", d, minimum=1)
        depth = check_int("depth", depth, minimum=1)
        shift = check_float("shift", shift, minimum=0.0)
        seed = check_seed("seed", seed)
        scaling = check_choice("scaling", scaling, SCALINGS)
        if depth > 1 and scaling == "fixed":
            hidden_scale(m, shift)            # refuse an unusable shift before drawing m^2
        check_memory("m", 8.0 * (m * d + (depth - 1) * m * m + m),
                     f"the weights of a depth-{depth} network (m d + (L - 1) m^2 floats)")
        rng = np.random.default_rng(seed)
        weights = [rng.standard_normal((m, d))]
        weights += [rng.standard_normal((m, m)) for _ in range(depth - 1)]
        a = rng.choice(np.array([-1.0, 1.0]), size=m)
        return cls(weights, a, shift, scaling)

    @property
    def m(self) -> int:
        """Width m."""
        return self.weights[0].shape[0]

    @property
    def d(self) -> int:
        """Input dimension d."""
        return self.weights[0].shape[1]

    @property
    def depth(self) -> int:
        """Number of weight matrices L."""
        return len(self.weights)

    def copy(self) -> DeepShiftedReLUNet:
        """An independent copy. Cost: O(m d + (L - 1) m^2)."""
        return DeepShiftedReLUNet([W.copy() for W in self.weights], self.a.copy(), self.shift,
                                  self.scaling)

    def _inputs(self, X) -> np.ndarray:
        return check_array("X", X, ndim=2, shape=(None, self.d))

    def layer_scales(self, H: np.ndarray) -> np.ndarray:
        """c_l(x_i) for the rows of H = h_l (n x m): the scale that makes u_l = c_l h_l.

        Cost O(n m).
        """
        if self.scaling == "fixed":
            return np.full(H.shape[0], self.fixed_scale)
        norms = np.linalg.norm(H, axis=1)
        return np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)

    def forward_pass(self, X) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Everything the forward pass computes: ([z_1..z_L], [u_0..u_{L-1}], [c_1..c_{L-1}]).

        z_l (n x m) the pre-activations, u_l the layer inputs (u_0 = X), c_l (n,) the
        layer scales. Cost O(n m d + (L - 1) n m^2) by BLAS products.
        """
        U = self._inputs(X)
        Zs, Us, Cs = [], [U], []
        for layer, W in enumerate(self.weights):
            Z = U @ W.T
            Zs.append(Z)
            if layer + 1 < self.depth:
                H = np.maximum(Z - self.shift, 0.0)
                c = self.layer_scales(H)
                U = H * c[:, None]
                Us.append(U)
                Cs.append(c)
        return Zs, Us, Cs

    def preactivations(self, X) -> list[np.ndarray]:
        """[z_1, ..., z_L], each n x m (row i: input x_i). Cost O(n m d + (L - 1) n m^2)."""
        return self.forward_pass(X)[0]

    def layer_inputs(self, X) -> list[np.ndarray]:
        """[u_0 = X, u_1, ..., u_{L-1}]: the scaled input of each layer.

        Cost O(n m d + (L - 1) n m^2).
        """
        return self.forward_pass(X)[1]

    def forward(self, X) -> np.ndarray:
        """f(x_i) = (1/sqrt m) <a, h_L(x_i)>, shape (n,). Cost O(n m d + (L - 1) n m^2)."""
        Z = self.preactivations(X)[-1]
        return np.maximum(Z - self.shift, 0.0) @ self.a / math.sqrt(self.m)

    def fire_sets(self, X) -> list[FireSets]:
        """Per layer, the fire sets S_l(x_i) = {r : z_{l,r} > b} (input-major CSR).

        Cost O(n m d + (L - 1) n m^2).

        >>> net = DeepShiftedReLUNet([np.array([[1.0, 0.0], [0.0, 1.0]])], np.ones(2), 0.5)
        >>> [s.tolist() for s in net.fire_sets(np.array([[1.0, 0.0]]))[0].to_list()]
        [[0]]
        """
        return [FireSets.from_dense(Z, self.shift) for Z in self.preactivations(X)]

    def backward(self, X) -> list[np.ndarray]:
        """[D_1, ..., D_L]: D_l[i, r] = d f(x_i) / d z_{l,r}, each n x m.

        D_L = (a / sqrt m) 1[z_L > b]; D_{l-1} = 1[z_{l-1} > b] * P(W_l^T D_l) with P
        the derivative of the layer scale (module docstring).
        Cost O(n m d + 2 (L - 1) n m^2).
        """
        return self.signals(*self.forward_pass(X))

    def signals(self, Zs, Us, Cs) -> list[np.ndarray]:
        """`backward` from the output of `forward_pass` (no second forward pass).

        Cost O((L - 1) n m^2) by BLAS products.
        """
        D = (Zs[-1] > self.shift) * (self.a / math.sqrt(self.m))
        out = [D]
        for layer in range(self.depth - 1, 0, -1):
            g = D @ self.weights[layer]                       # d f / d u_{layer}
            out.append((Zs[layer - 1] > self.shift) * self.scale_derivative(
                g, Us[layer], Cs[layer - 1]))
            D = out[-1]
        return out[::-1]

    def scale_derivative(self, g: np.ndarray, U: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Pull g = d f / d u_l back through u_l = c_l h_l: d f / d h_l (rows: inputs).

        fixed: c g; normalized: c (g - u <u, g>) (u = h / ||h||, c = 1 / ||h||).
        Cost O(n m).
        """
        if self.scaling == "fixed":
            return g * c[:, None]
        return (g - U * np.einsum("ij,ij->i", U, g)[:, None]) * c[:, None]

    def gradients(self, X, v) -> list[np.ndarray]:
        """[sum_i v_i d f(x_i) / d W_l for l = 1..L] = [D_l^T diag(v) U_{l-1}].

        With v = f - y this is the gradient of 1/2 ||f - y||^2.
        Cost O(n m d + 3 (L - 1) n m^2).
        """
        X = self._inputs(X)
        v = check_array("v", v, ndim=1, shape=(X.shape[0],))
        Zs, Us, Cs = self.forward_pass(X)
        return [(D * v[:, None]).T @ U for D, U in zip(self.signals(Zs, Us, Cs), Us)]

    def gram(self, X) -> np.ndarray:
        """G = J J^T = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T), n x n.

        Cost O(L n^2 m + 2 (L - 1) n m^2).
        """
        Zs, Us, Cs = self.forward_pass(X)
        return self.gram_from(self.signals(Zs, Us, Cs), Us)

    @staticmethod
    def gram_from(Ds, Us) -> np.ndarray:
        """G = sum_l (D_l D_l^T) * (U_{l-1} U_{l-1}^T) from the signals and layer inputs.

        Cost O(n^2 (d + (2 L - 1) m)) by BLAS products.
        """
        G = (Ds[0] @ Ds[0].T) * (Us[0] @ Us[0].T)
        for D, U in zip(Ds[1:], Us[1:]):
            G += (D @ D.T) * (U @ U.T)
        return G
