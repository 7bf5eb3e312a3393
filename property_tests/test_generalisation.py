"""The shift_generalisation experiment against the trainers it stands for: its ridge paths
of kernel regression and of the second layer give `ntk_krr`'s and `second_layer`'s
predictions at every ridge, its Gauss-Newton path is the trainer's iterates, and its
validation choice and pairing across shifts are what the entry's protocol says."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import seeds
from hypothesis import given, settings
from hypothesis import strategies as st

from verify_sublin import ShiftedReLUNet, make_trainer, shift_for
from verify_sublin.bench.experiments.generalisation import (
    RIDGES,
    kernel_path,
    second_layer_kernels,
    shift_generalisation,
    validation_size,
)
from verify_sublin.core.ntk import shifted_ntk, shifted_ntk_cross
from verify_sublin.core.realdata import load_dataset


def _split(seed, n=24, n_test=10):
    ds = load_dataset("diabetes", n, n_test, seed=seed)
    return ds.X_train, ds.y_train, ds.X_test


@settings(max_examples=10)
@given(seed=seeds, paired=st.booleans(), c=st.sampled_from([0.0, 0.4]))
def test_ridge_paths_predict_as_the_trainers(seed, paired, c):
    """At every ridge lam of the grid, the second layer's path predicts what
    make_trainer("second_layer", mu=lam) predicts, and kernel regression's what
    make_trainer("ntk_krr", mu=lam) fitted to y - f_0 predicts, plus f_0."""
    X, y, Xt = _split(seed % 1000)
    m = 256
    net = ShiftedReLUNet.init(m, X.shape[1], shift_for(m, c), seed=seed % 1000 + 1, paired=paired)
    f0, f0t = net.forward(X), net.forward(Xt)
    K, Kt = second_layer_kernels(net, X, Xt)
    H, Ht = shifted_ntk(X, net.shift), shifted_ntk_cross(Xt, X, net.shift)
    for (lam, _, fit_t), (lam_h, _, fit_h) in zip(kernel_path(K, Kt, y - f0),
                                                    kernel_path(H, Ht, y - f0)):
        if lam < 1e-6 * np.mean(np.diag(K)):
            continue        # interpolation: both solve an ill-conditioned system their own way
        sl = make_trainer("second_layer", net, X, y, mu=lam)
        sl.step()
        assert np.allclose(f0t + fit_t, sl.predict(Xt), rtol=1e-6, atol=1e-8)
        kr = make_trainer("ntk_krr", net, X, y - f0, mu=lam_h)
        kr.step()
        assert np.allclose(f0t + fit_h, kr.predict(Xt) + f0t, rtol=1e-6, atol=1e-8)


def test_paths_choice_and_pairing_across_shifts():
    """Paths in the documented order and sizes, `chosen` the least validation MSE (for
    Gauss-Newton among its iterates after at least one step), the Gauss-Newton path the
    trainer's iterates (step 0 predicts f_0 = 0 with the paired initialisation),
    misclassification only for breast_cancer, and the same split for every c of a seed."""
    p = {"dataset": "breast_cancer", "n": 40, "n_test": 20, "d": 30, "m": 512,
         "init": "paired", "steps": 6}
    runs = {c: shift_generalisation(dict(p, c=c), 3) for c in (0.0, 0.48)}
    for r in runs.values():
        assert r["n_val"] == validation_size(40) == 8 and r["n_fit"] == 32 and r["classes"]
        assert r["f0_rms"] < 1e-14
        for name, fit in r["fits"].items():
            first = 1 if name.startswith("ggn") else 0
            assert fit["chosen"] == first + int(np.argmin(fit["val_mse"][first:]))
            assert len(fit["test_error"]) == len(fit["test_mse"]) == len(fit["path"])
            if name.startswith("ggn"):
                assert fit["path"] == list(range(len(fit["path"])))
                assert fit["train_mse"][0] == pytest.approx(1.0)       # labels +-1, f_0 = 0
                assert fit["test_mse"][0] == pytest.approx(1.0) and fit["test_error"][0] <= 1.0
            else:
                scale = fit["path"][0] / RIDGES[0]
                assert fit["path"] == pytest.approx([rho * scale for rho in RIDGES])
    assert runs[0.0]["test_var"] == runs[0.48]["test_var"]
    # the Gauss-Newton path is the trainer's: its iterates scored on the fitting split
    ds = load_dataset("breast_cancer", 40, 20, seed=3)
    net = ShiftedReLUNet.init(512, 30, shift_for(512, 0.48), seed=4, paired=True)
    t = make_trainer("ggn", net, ds.X_train[8:], ds.y_train[8:], mu=1e-8, gram="auto")
    fit = runs[0.48]["fits"]["ggn"]
    for k in range(1, len(fit["path"])):
        t.step()
        assert fit["train_mse"][k] == pytest.approx(np.mean((t.outputs - t.y) ** 2), abs=1e-15)
