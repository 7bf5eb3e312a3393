"""Fire-set sizes at initialisation against their exact distribution.

With w_r ~ N(0, I_d) and ||x_i|| = 1, <w_r, x_i> ~ N(0, 1) independently over r, so
|S_i(0)| ~ Binomial(m, Q(b)) exactly, for every input i. The test accepts |S_i(0)| in
the central binomial interval of mass 1 - DELTA / n for each of the n inputs; by the
union bound a correct implementation fails an example with probability <= DELTA.
"""

from __future__ import annotations

import numpy as np
from helpers import seeds
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binom, norm

from verify_sublin import CorrelationTree, ShiftedReLUNet, shift_for, sphere_data

DELTA = 1e-7  # false-failure probability per example (30 examples: <= 3e-6 per run)


@given(m=st.sampled_from([2**10, 2**12, 2**14, 2**16]), d=st.integers(2, 32),
       c=st.floats(0.0, 1.0), n=st.integers(1, 16), seed=seeds)
def test_fire_set_sizes_are_binomial_m_q(m, d, c, n, seed):
    X, _ = sphere_data(n, d, seed=seed)
    net = ShiftedReLUNet.init(m, d, shift_for(m, c), seed=seed ^ 0x5EED)
    q = norm.sf(net.shift)                      # Q(b)
    lo, hi = binom.ppf(DELTA / (2 * n), m, q), binom.isf(DELTA / (2 * n), m, q)
    sizes = CorrelationTree(net.W, X, net.shift).query_all().sizes
    assert np.all((sizes >= lo) & (sizes <= hi)), (sizes, lo, hi, m * q)
    # and the papers' bound m Q(b) <= m^(1 - c/2) holds for the expectation
    assert m * q <= m ** (1 - c / 2) + 1e-9
