"""Kernels: compiled (numba) by the structure they serve, and the array-API reference.

=====================  ==============================================================
`fireset_kernels`      fire-set layouts (input-major CSR, neuron-major patterns over
                       the union U): threshold passes, conversions, flip counts
`tree_kernels`         the correlation tree: build, query, leaf updates
`gram_kernels`         Gram and Jacobian products (J J^T, J u, J^T v) on fire patterns
`cache_kernels`        the sublinear method's cached inner products: advance
                       (explicit or implicit), re-threshold, refresh, row removal
`deep_kernels`         the multi-layer net: fired columns forward, fired rows
                       backward, pending low-rank terms and their merge
`halfspace_kernels`    the half-space reporting tree
`bitgram_kernels`      the bit-parallel exact Gram
`array_api`            the same step operations over any array-API namespace, on
                       dense masks: the reference the compiled kernels are tested
                       against
=====================  ==============================================================

Each kernel states its cost in its docstring and each module lists them. The
algorithms above these modules never loop over neurons or inputs in Python. Why
numba: the tree descent and the per-neuron scatter loops have no vectorised numpy
form of the same cost (a level-by-level numpy version of the tree query and update,
measured earlier, was several times slower).

Threading: numba's OpenMP layer keeps its threads spinning after a parallel region,
and OpenBLAS keeps its own threads spinning after a BLAS call; on a machine with few
cores the two starve each other (measured here on 2 cores: a 0.2 ms parallel kernel
took 40 ms, and the BLAS product after it 72 ms instead of 0.17 ms). The package
therefore selects numba's "workqueue" layer, whose threads sleep between regions,
unless NUMBA_THREADING_LAYER is set explicitly.
"""

import os

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"
