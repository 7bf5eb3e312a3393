"""Compiled and array-API kernels, one module per backend."""
