"""Compiled and array-API kernels, one module per backend.

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
