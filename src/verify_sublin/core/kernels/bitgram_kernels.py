"""Compiled kernels of the bit-parallel exact Gram (`verify_sublin.core.bitgram`).

Fire masks are packed 64 neurons to a word: bit (r mod 64) of word r // 64 of row i is
1[r in S_i]. Each kernel states its cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["bits_from_csr", "popcount_and_counts"]

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@njit(cache=True, inline="always")
def _popcount(x):
    """Set bits of a uint64 (SWAR; LLVM turns it into one popcnt where available)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@njit(cache=True)
def bits_from_csr(indptr, indices, words):
    """Packed masks (n, words) uint64 of CSR fire sets. Cost O(n words + nnz)."""
    n = indptr.shape[0] - 1
    B = np.zeros((n, words), np.uint64)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            r = indices[p]
            B[i, r >> 6] |= np.uint64(1) << np.uint64(r & 63)
    return B


@njit(cache=True)
def popcount_and_counts(B):
    """C[i, j] = popcount(B_i AND B_j) summed over the words = |S_i intersect S_j|.

    Cost n (n + 1) / 2 * words word operations (AND + popcount + add)."""
    n, words = B.shape
    C = np.empty((n, n), np.float64)
    for i in range(n):
        for j in range(i, n):
            s = np.uint64(0)
            for w in range(words):
                s += _popcount(B[i, w] & B[j, w])
            C[i, j] = float(s)
            C[j, i] = float(s)
    return C
