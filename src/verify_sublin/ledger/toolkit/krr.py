"""Gauss-Newton against kernel regression and the second layer (rq.ntk_krr): which
method has the lowest test error in words, and the note on kernel regression from f_0.
Cost: O(runs)."""

from __future__ import annotations

__all__ = ["KRR_NOTE", "METHOD_WORDS", "best_words"]

#: the methods of ``krr_compare`` (fields of `KrrCompare`), in words
METHOD_WORDS = {"ggn": "Gauss-Newton", "ggn_train_a": "Gauss-Newton training both layers",
                "second_layer": "training the second layer alone",
                "ntk_krr": "kernel regression", "ntk_krr_from_f0": "kernel regression from f_0"}

#: what kernel regression from f_0 is, and what the table's columns mean
KRR_NOTE = ("Gauss-Newton starts from a random network whose output f_0 is O(1) and "
            "interpolates from there; plain kernel regression starts from zero. Kernel "
            "regression fitted to y - f_0 and added to f_0 is the NTK linearisation of "
            "Gauss-Newton's start, so its predictions are the ones Gauss-Newton should "
            "match in the NTK regime. The prediction columns give ||p - p_GN|| / ||p_GN|| "
            "on the test inputs; seconds include construction.")


def best_words(best) -> str:
    """The lowest test error per data set in words, grouped by method; `best`: (data
    set, method, its test MSE, Gauss-Newton's test MSE).

    >>> best_words([("digits", "second_layer", 0.091, 0.115)])
    "training the second layer alone has the lowest test MSE on digits (0.091 against Gauss-Newton's 0.115)"
    >>> best_words([("a", "ggn", 0.1, 0.1), ("b", "ggn", 0.2, 0.2)])
    'Gauss-Newton has the lowest test MSE on a (0.1) and b (0.2)'
    """
    parts = []
    for method in dict.fromkeys(b[1] for b in best):
        sets = [(ds, mse, gn) for ds, m, mse, gn in best if m == method]
        cells = []
        for j, (ds, mse, gn) in enumerate(sets):
            gn_words = "" if j else "Gauss-Newton's "
            against = "" if method == "ggn" else f" against {gn_words}{gn:.3g}"
            cells.append(f"{ds} ({mse:.3g}{against})")
        listed = cells[0] if len(cells) == 1 else ", ".join(cells[:-1]) + " and " + cells[-1]
        parts.append(f"{METHOD_WORDS.get(method, method)} has the lowest test MSE on {listed}")
    return "; ".join(parts)
