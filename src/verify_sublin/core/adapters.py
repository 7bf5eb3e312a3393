"""The operations the array-API standard lacks, in one place.

The standard has no scatter (assignment or addition at integer indices) and no sparse
matrices. Each function here uses the backend's own library where it has one (numpy:
in-place fancy indexing and ``np.add.at``; CuPy: the same through CuPy, and
``cupyx.scatter_add``) and otherwise a documented *dense-masked fallback* built only
from standard operations: a one-hot matrix turns the scatter into a matrix product.
The fallback costs O(size of the target x number of indices): it exists so that any
standard namespace (array_api_strict in the tests) runs the same algorithms; it is not
meant to be fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["native_scatter", "scatter_add_1d", "scatter_add_rows", "set_rows"]


def native_scatter(xp) -> str | None:
    """'numpy' or 'cupy' when `xp` supports fancy-index assignment, else None."""
    import array_api_compat

    if array_api_compat.is_numpy_namespace(xp):
        return "numpy"
    if array_api_compat.is_cupy_namespace(xp):
        return "cupy"
    return None


def _one_hot(xp, idx, length: int):
    """(length x k) float matrix with a 1 at (idx[j], j). Standard operations only."""
    rows = xp.arange(length, dtype=idx.dtype)
    return xp.astype(xp.reshape(rows, (length, 1)) == xp.reshape(idx, (1, -1)), xp.float64)


def set_rows(xp, A, idx, rows) -> Any:
    """A with A[idx[j]] = rows[j] (idx unique). In place where the backend allows it.

    Cost: O(k d) natively; O(len(A) k d) with the dense-masked fallback.
    """
    if native_scatter(xp):
        A[idx] = rows
        return A
    onehot = _one_hot(xp, idx, A.shape[0])                       # m x k
    hit = xp.sum(onehot, axis=1) > 0
    new = onehot @ rows
    return xp.where(xp.reshape(hit, (-1, 1)), new, A)


def scatter_add_rows(xp, A, idx, rows) -> Any:
    """A with A[idx[j]] += rows[j] (idx unique). Cost as `set_rows`."""
    if native_scatter(xp):
        A[idx] += rows
        return A
    return A + _one_hot(xp, idx, A.shape[0]) @ rows


def scatter_add_1d(xp, length: int, idx, values) -> Any:
    """out[idx[j]] += values[..., j] along the last axis (idx may repeat): a batch of
    bincounts, shape values.shape[:-1] + (length,).

    numpy: ``np.add.at``; CuPy: ``cupyx.scatter_add``; fallback: values @ one-hot^T.
    Cost: O(values.size) natively; O(values.size x length) with the fallback.
    """
    kind = native_scatter(xp)
    if kind == "numpy":
        import numpy as np
        out = np.zeros((*values.shape[:-1], length))
        np.add.at(out, (..., idx), values)
        return out
    if kind == "cupy":
        import cupy
        import cupyx
        out = cupy.zeros((*values.shape[:-1], length))
        cupyx.scatter_add(out, (..., idx), values)
        return out
    onehot = _one_hot(xp, idx, length)                           # length x k
    return values @ xp.permute_dims(onehot, (1, 0))
