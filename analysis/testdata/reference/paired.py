#!/usr/bin/python3
"""Reference values for analysis.SayDoTable (the say_do claim's paired 2x2).

Run with Debian's Python (python3-scipy, python3-statsmodels):

    cd analysis/testdata/reference && /usr/bin/python3 paired.py

It writes ../golden_paired.json. The table is

                 did    didn't
    said          a       b
    didn't say    c       d

stated = (a+b)/n, revealed = (a+c)/n, gap = revealed - stated = (c-b)/n.

Sources, independent of the Go code:
  - Wilson intervals: statsmodels proportion_confint(method="wilson");
  - exact McNemar: statsmodels mcnemar(exact=True);
  - direction test: scipy binomtest(a+c, n, 0.5);
  - Cohen's kappa: statsmodels cohens_kappa (kappa_low/kappa_upp, which use
    std_kappa, the Fleiss-Cohen-Everitt 1969 variance);
  - the gap interval: Newcombe (1998), Stat Med 17:2635-2650, method 10,
    written out below in the paper's own notation (theta = (b-c)/n, the
    first row's share minus the first column's) and then negated.
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import statsmodels
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

FIELDS = [
    "stated", "stated_ci", "revealed", "revealed_ci", "gap", "gap_ci",
    "gap_p_value", "equivalence_ci", "magnitude", "p_value", "kappa",
    "kappa_ci", "did_given_said", "did_given_said_ci", "did_given_not_said",
    "did_given_not_said_ci",
]


def wilson(k, n, alpha):
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def newcombe10(a, b, c, d, alpha):
    """Newcombe (1998) method 10 for theta = p1 - p2 = (b - c)/n, where
    p1 = (a+b)/n and p2 = (a+c)/n; returns (L, U)."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, alpha)
    l2, u2 = wilson(a + c, n, alpha)
    # phi-hat: 0 if any marginal total is 0; otherwise the numerator ad - bc,
    # with ad - bc - n/2 when ad > bc + n/2 and 0 when bc < ad <= bc + n/2.
    e, f, g, h = a + b, c + d, a + c, b + d
    if e == 0 or f == 0 or g == 0 or h == 0:
        phi = 0.0
    else:
        cnum = a * d - b * c
        if a * d > b * c + n / 2:
            cnum = a * d - b * c - n / 2
        elif a * d > b * c:
            cnum = 0
        phi = cnum / math.sqrt(e * f * g * h)
    theta = p1 - p2
    delta = math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    eps = math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return theta - delta, theta + eps


def gap_interval(a, b, c, d, alpha):
    # gap = revealed - stated = -theta, so the interval is (-U, -L).
    lo, hi = newcombe10(a, b, c, d, alpha)
    return -hi, -lo


def check_newcombe_example():
    lo, hi = newcombe10(20, 12, 2, 16, 0.05)
    if (round(lo, 4), round(hi, 4)) != (0.0562, 0.3292):
        sys.exit(f"Newcombe's example does not reproduce: {lo}, {hi}")
    print(f"Newcombe (1998) example (20, 12, 2, 16): theta = 0.2, "
          f"method 10 = [{lo:.4f}, {hi:.4f}] (published 0.0562 to 0.3292)")


def magnitude(gap, gap_ci, eq_ci, p, alpha, margin):
    if eq_ci[0] > -margin and eq_ci[1] < margin:
        return "matches"
    if p < alpha and (gap_ci[0] > 0 or gap_ci[1] < 0):
        return "overstated" if gap < 0 else "understated"
    return "unclear"


def reference(a, b, c, d, alpha, margin):
    n = a + b + c + d
    out = {f: None for f in FIELDS}
    if n == 0:
        return out
    out["stated"] = (a + b) / n
    out["stated_ci"] = wilson(a + b, n, alpha)
    out["revealed"] = (a + c) / n
    out["revealed_ci"] = wilson(a + c, n, alpha)
    out["gap"] = (c - b) / n
    out["gap_ci"] = gap_interval(a, b, c, d, alpha)
    out["equivalence_ci"] = gap_interval(a, b, c, d, 2 * alpha)
    table = np.array([[a, b], [c, d]])
    out["gap_p_value"] = float(mcnemar(table, exact=True).pvalue)
    out["p_value"] = float(binomtest(a + c, n, 0.5).pvalue)
    out["magnitude"] = magnitude(out["gap"], out["gap_ci"], out["equivalence_ci"],
                                 out["gap_p_value"], alpha, margin)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = cohens_kappa(table)
    if math.isfinite(k["kappa"]):
        # statsmodels' kappa_low/kappa_upp are fixed at 95%, from std_kappa
        # (the Fleiss-Cohen-Everitt variance, not std_kappa0 under kappa = 0).
        # Other levels use the same std_kappa with the 1 - alpha quantile.
        # When one margin is 0 or 1, kappa is 0 and var_kappa is 0 up to
        # rounding, which can make it -1e-17 and std_kappa NaN: clamp it.
        std = k["std_kappa"]
        if not math.isfinite(std):
            assert abs(k["var_kappa"]) < 1e-12, k["var_kappa"]
            std = math.sqrt(max(k["var_kappa"], 0.0))
        z95 = scipy.stats.norm.isf(0.025)
        if math.isfinite(k["std_kappa"]):
            assert abs(k["kappa_low"] - (k["kappa"] - z95 * k["std_kappa"])) < 1e-12
        out["kappa"] = float(k["kappa"])
        if alpha == 0.05 and math.isfinite(k["std_kappa"]):
            out["kappa_ci"] = (float(k["kappa_low"]), float(k["kappa_upp"]))
        else:
            z = scipy.stats.norm.isf(alpha / 2)
            out["kappa_ci"] = (float(k["kappa"] - z * std), float(k["kappa"] + z * std))
    if a + b > 0:
        out["did_given_said"] = a / (a + b)
        out["did_given_said_ci"] = wilson(a, a + b, alpha)
    if c + d > 0:
        out["did_given_not_said"] = c / (c + d)
        out["did_given_not_said_ci"] = wilson(c, c + d, alpha)
    return out


CASES = [
    # name, (a, b, c, d), alpha, margin
    ("newcombe_1998_example", (20, 12, 2, 16), 0.05, 0.05),
    ("no_units", (0, 0, 0, 0), 0.05, 0.05),
    ("one_unit_said_did", (1, 0, 0, 0), 0.05, 0.05),
    ("one_unit_said_didnt", (0, 1, 0, 0), 0.05, 0.05),
    ("one_unit_didnt_say_did", (0, 0, 1, 0), 0.05, 0.05),
    ("only_said_did", (50, 0, 0, 0), 0.05, 0.05),
    ("only_didnt_say_didnt", (0, 0, 0, 37), 0.05, 0.05),
    ("only_said_didnt", (0, 25, 0, 0), 0.05, 0.05),
    ("only_didnt_say_did", (0, 0, 25, 0), 0.05, 0.05),
    ("empty_said_didnt", (30, 0, 10, 60), 0.05, 0.05),
    ("no_discordant", (40, 0, 0, 60), 0.05, 0.05),
    ("everyone_said", (10, 5, 0, 0), 0.05, 0.05),
    ("nobody_did", (0, 7, 0, 13), 0.05, 0.05),
    ("negative_association", (5, 30, 25, 10), 0.05, 0.05),
    ("phi_adjusted_to_zero", (10, 10, 10, 11), 0.05, 0.05),
    ("overstated_large", (4210, 1830, 960, 3000), 0.05, 0.02),
    ("understated", (300, 40, 90, 270), 0.05, 0.05),
    ("matches_large", (4000, 150, 160, 5690), 0.05, 0.02),
    ("unclear_small", (30, 8, 4, 20), 0.05, 0.05),
    ("alpha_0_10", (200, 40, 25, 150), 0.10, 0.05),
    ("alpha_0_01", (200, 40, 25, 150), 0.01, 0.05),
    ("hundred_million", (40_000_000, 3_000_000, 2_990_000, 54_010_000), 0.05, 0.001),
]


def find_disagreement():
    """A small table where McNemar rejects at 0.05 but the Newcombe interval
    still holds 0, so that the magnitude rule's "both" is exercised."""
    for m in range(5, 40):
        for b in range(m + 1):
            c = m - b
            p = mcnemar(np.array([[10, b], [c, 10]]), exact=True).pvalue
            lo, hi = gap_interval(10, b, c, 10, 0.05)
            if (p < 0.05) != (lo > 0 or hi < 0):
                return (10, b, c, 10)
    return None


def main():
    check_newcombe_example()
    cases = list(CASES)
    t = find_disagreement()
    if t is not None:
        cases.append(("mcnemar_and_newcombe_disagree", t, 0.05, 0.05))
        print("McNemar and Newcombe disagree at", t)
    out = {
        "generator": (f"testdata/reference/paired.py: Python {sys.version.split()[0]}, "
                      f"SciPy {scipy.__version__}, statsmodels {statsmodels.__version__}, "
                      f"NumPy {np.__version__}"),
        "cases": [],
    }
    for name, (a, b, c, d), alpha, margin in cases:
        exp = reference(a, b, c, d, alpha, margin)
        exp = {k: (list(v) if isinstance(v, tuple) else v) for k, v in exp.items()}
        out["cases"].append({
            "name": name,
            "input": {"a": a, "b": b, "c": c, "d": d, "alpha": alpha, "margin": margin},
            "expect": exp,
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden_paired.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
