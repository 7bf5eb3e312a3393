"""The papers the ledger checks, by citation tag: short citations (`CITE`, quoted in
sources) and full references (`REFERENCES`, listed once in the report).

* [DHSWZ] Deng, Hu, Song, Weinstein, Zhuo: sublinear Gauss-Newton.
* [BPSW] van den Brand, Peng, Song, Weinstein: sketched Gauss-Newton.
* [ASZZ] Alman, Liang, Song, Zhang, Zhuo: the correlation tree (DTree/DSWS).
* [SYZ] Song, Yang, Zhang: half-space reporting.
* [SZZ] Song, Zhang, Zhang: multi-layer, subquadratic.
* [RQ] the reviewers' questions on [DHSWZ].
"""

from __future__ import annotations

__all__ = ["CITE", "REFERENCES"]

#: The papers by citation (the report cites papers, never files).
CITE = {
    "DHSWZ": "Deng, Hu, Song, Weinstein, Zhuo 2022 (ICLR 2025 submission)",
    "BPSW": "van den Brand, Peng, Song, Weinstein, ITCS 2021",
    "ASZZ": "Alman, Liang, Song, Zhang, Zhuo, NeurIPS 2023",
    "SYZ": "Song, Yang, Zhang, NeurIPS 2021",
    "SZZ": "Song, Zhang, Zhang, ITCS 2024",
    "REVIEW": "ICLR 2025 reviews of Deng et al.",
}

#: The full references behind `CITE` and the reviewers' questions.
REFERENCES = {
    "DHSWZ": "Y. Deng, H. Hu, Z. Song, O. Weinstein, D. Zhuo. Training overparametrized neural "
             "networks in sublinear time. arXiv 2022; ICLR 2025 submission (rejected), with its "
             "public reviews.",
    "BPSW": "J. van den Brand, B. Peng, Z. Song, O. Weinstein. Training (overparametrized) "
            "neural networks in near-linear time. ITCS 2021.",
    "ASZZ": "J. Alman, J. Liang, Z. Song, R. Zhang, D. Zhuo. Bypass exponential time "
            "preprocessing: fast neural network training via weight-data correlation "
            "preprocessing. NeurIPS 2023.",
    "SYZ": "Z. Song, S. Yang, R. Zhang. Does preprocessing help training over-parameterized "
           "neural networks? NeurIPS 2021.",
    "SZZ": "Z. Song, L. Zhang, R. Zhang. Training multi-layer over-parametrized neural network "
           "in subquadratic time. ITCS 2024.",
    "RQ": "The reviewers' questions on [DHSWZ] (its public ICLR 2025 reviews): each is an "
          "experiment here.",
}
