"""Real data sets, loaded offline from scikit-learn's bundled copies.

Preparation (the same for every data set): columns standardised (constant columns
dropped), rows normalised to the unit sphere (the papers' assumption), regression
targets centred and scaled to max |y| = 1; the classification set's labels are -1 and
+1, as they are. Raw diabetes rows are nearly parallel after a plain row
normalisation, which is why the columns are standardised first.

`load_dataset(name, n_train, n_test, seed)` draws a seeded train/test split.

==========  =====  ==  ===================================================
name        n      d   target
==========  =====  ==  ===================================================
diabetes    442    10  disease progression one year after baseline
digits      1797   64  the digit's value 0..9 (a regression target here)
breast_     569    30  malignant (-1) or benign (+1): a classification set
cancer
==========  =====  ==  ===================================================

The synthetic sets ("sphere-teacher", "sphere-teacher-shifted", "sphere-teacher-smooth",
"sphere-random") are `verify_sublin.core.data.sphere_data` with the labels named after
"sphere-"; `CLASSIFICATION` names the sets whose labels are classes (+-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import normalize, sphere_data
from .errors import InputError, check_choice, check_int, check_seed

__all__ = ["CLASSIFICATION", "DATASETS", "Dataset", "load_dataset"]

DATASETS = ("sphere-teacher", "sphere-random", "diabetes", "digits", "breast_cancer",
            "sphere-teacher-shifted", "sphere-teacher-smooth")

#: The data sets whose labels are classes, -1 and +1 (the others are regression targets).
CLASSIFICATION = ("breast_cancer",)


@dataclass(frozen=True)
class Dataset:
    """A train/test split on the unit sphere.

    Attributes: name, X_train (n x d), y_train (n,), X_test, y_test.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n(self) -> int:
        return self.X_train.shape[0]

    @property
    def d(self) -> int:
        return self.X_train.shape[1]


def _prepare(X: np.ndarray, y: np.ndarray, classes: bool = False) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    X = (X[:, std > 0] - X[:, std > 0].mean(axis=0)) / std[std > 0]
    y = np.asarray(y, dtype=np.float64)
    if classes:                     # labels 0 / 1 -> -1 / +1
        return normalize(X), 2.0 * y - 1.0
    y = y - y.mean()
    return normalize(X), y / np.abs(y).max()


def _sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    import sklearn.datasets as skd

    loader = {"diabetes": skd.load_diabetes, "digits": skd.load_digits,
              "breast_cancer": skd.load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return _prepare(X, y, classes=name in CLASSIFICATION)


def load_dataset(name: str, n_train: int, n_test: int = 0, seed: int = 0, *,
                 d: int = 16) -> Dataset:
    """A seeded train/test split of `name` (see the module table).

    Parameters
    ----------
    name : one of `DATASETS` (the module docstring)
    n_train, n_test : int
        Sizes of the split; for real data n_train + n_test must not exceed the data set.
    seed : int
        Seed of the split (and of the synthetic data).
    d : int
        Dimension of the synthetic data (ignored for real data).

    Cost: O((n_train + n_test) d).

    >>> ds = load_dataset("diabetes", 100, 50, seed=0)
    >>> ds.X_train.shape, ds.X_test.shape, round(float(np.abs(ds.y_train).max()), 3) <= 1.0
    ((100, 10), (50, 10), True)
    """
    name = check_choice("dataset", name, DATASETS)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=0)
    seed = check_seed("seed", seed)
    if name.startswith("sphere"):
        X, y = sphere_data(n_train + n_test, d, seed=seed, labels=name.split("-", 1)[1])
    else:
        X, y = _sklearn(name)
        if n_train + n_test > X.shape[0]:
            raise InputError("n_train", f"n_train + n_test = {n_train + n_test}",
                             f"at most {X.shape[0]} (the size of {name})")
        order = np.random.default_rng(seed).permutation(X.shape[0])[:n_train + n_test]
        X, y = X[order], y[order]
    return Dataset(name, X[:n_train], y[:n_train], X[n_train:], y[n_train:])
