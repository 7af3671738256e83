"""Reference values for package analysis from SciPy, statsmodels and mpmath.

    cd analysis/testdata/reference && /usr/bin/python3 generate.py

writes ../golden_py.json in the format of generate.R's output. It covers
what R cannot check exactly: Student's t tails at huge df (R's pt switches
to a normal approximation above 4e5 df; mpmath computes the exact
incomplete beta at 60 digits), extreme exact binomial tails, statsmodels'
two-proportion Wald tests and Cochran's Q, and power via statsmodels.
Debian's python3 (3.11) with scipy 1.10.1, statsmodels 0.13.5, mpmath 1.2.1.
"""
import json
import math

import mpmath as mp
import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (confint_proportions_2indep,
                                          proportion_confint,
                                          test_proportions_2indep)

mp.mp.dps = 60
ALPHA = 0.05
rng = np.random.default_rng(20261122)
cases = []


def add(name, method, inp, expect):
    cases.append({"name": name, "method": method, "input": inp, "expect": expect})


def variants(keys, weights=None):
    weights = weights or [1] * len(keys)
    return [{"Key": k, "Weight": w, "Control": i == 0} for i, (k, w) in enumerate(zip(keys, weights))]


def stats_mean(y):
    y = np.asarray(y, dtype=float)
    return {"units": len(y), "sum": float(y.sum()), "sum_sq": float((y * y).sum())}


def stats_binary(k, n):
    return {"units": n, "sum": k, "sum_sq": k}


def metric(name, kind, arms, higher=True, **kw):
    m = {"Metric": name, "Kind": kind, "HigherIsBetter": higher,
         "Arms": [{"Variant": v, "Stats": s} for v, s in arms]}
    m.update(kw)
    return m


def inp(keys, metrics, **kw):
    d = {"Experiment": "ref", "Variants": variants(keys), "Metrics": metrics}
    d.update(kw)
    return d


def t_lower_tail(t, df):
    """P(T_df <= -|t|), exactly: ½·I_{df/(df+t²)}(df/2, ½)."""
    t, df = mp.mpf(abs(t)), mp.mpf(df)
    return mp.betainc(df / 2, mp.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2


def t_quantile(p, df):
    """The p-quantile of Student's t, by root-finding on the exact tail."""
    z = mp.mpf(stats.norm.ppf(p))
    return mp.findroot(lambda x: t_lower_tail(x, df) - (1 - p), -z if p < 0.5 else z) * (1 if p > 0.5 else -1)


def welch_from_sums(sc, st):
    """Welch's test from sufficient statistics at 60 digits."""
    out = {}
    for key, s in (("c", sc), ("t", st)):
        n = mp.mpf(s["units"])
        mean = mp.mpf(s["sum"]) / n
        var = (mp.mpf(s["sum_sq"]) - mp.mpf(s["sum"]) ** 2 / n) / (n - 1)
        out[key] = (n, mean, var)
    (nc, mc, vc), (nt, mt, vt) = out["c"], out["t"]
    a, b = vt / nt, vc / nc
    se = mp.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (nt - 1) + b * b / (nc - 1))
    d = mt - mc
    return d, se, df, 2 * t_lower_tail(d / se, df)


# ---- Student's t at huge df, from sufficient statistics ---------------------
# Means near 0 keep Σx² − (Σx)²/n well conditioned in float64.
for name, n, shift in (("huge_df_5e6_z5", 2_500_000, 0.0045), ("huge_df_5e6_z30", 2_500_000, 0.027),
                       ("huge_df_2e9_z5", 1_000_000_000, 0.000224), ("huge_df_2e9_z30", 1_000_000_000, 0.00134),
                       ("huge_df_2e9_z38", 1_000_000_000, 0.0017)):
    sc = {"units": n, "sum": 0.0, "sum_sq": float(n - 1)}                     # mean 0, var 1
    st = {"units": n, "sum": shift * n, "sum_sq": float(1.21 * (n - 1) + shift * shift * n)}  # var 1.21
    d, se, df, p = welch_from_sums(sc, st)
    q = t_quantile(1 - ALPHA / 2, df)
    add(name, "exact t tail by mpmath.betainc at 60 digits",
        inp(["control", "treatment"], [metric("m", "mean", [("control", sc), ("treatment", st)])]),
        {"metrics.0.comparisons.0.p_value": float(p), "metrics.0.comparisons.0.df": float(df),
         "metrics.0.comparisons.0.abs_ci": [float(d - q * se), float(d + q * se)]})

# ---- binary Welch with SciPy's ttest_ind_from_stats (std = √(p(1−p))) -------
for name, (kc, nc, kt, nt) in (("scipy_binary_issue2", (610, 1000, 700, 1000)),
                               ("scipy_binary_small", (3, 12, 9, 14)),
                               ("scipy_binary_huge_n", (500_000, 5_000_000, 512_500, 5_000_000))):
    pc, pt = kc / nc, kt / nt
    r = stats.ttest_ind_from_stats(pt, math.sqrt(pt * (1 - pt)), nt, pc, math.sqrt(pc * (1 - pc)), nc,
                                   equal_var=False)
    add(name, "scipy.stats.ttest_ind_from_stats(equal_var=False)",
        inp(["control", "treatment"], [metric("b", "binary", [("control", stats_binary(kc, nc)),
                                                             ("treatment", stats_binary(kt, nt))])]),
        {"metrics.0.comparisons.0.p_value": float(r.pvalue),
         "metrics.0.variants.0.ci": list(proportion_confint(kc, nc, alpha=ALPHA, method="wilson")),
         "metrics.0.variants.1.ci": list(proportion_confint(kt, nt, alpha=ALPHA, method="wilson"))})

# ---- share claims: exact binomial, Wilson, unpooled two-proportion Wald ------
for name, k, n, stated, survey_n in (("sm_share_human", 1220, 2000, 0.74, 2128),
                                     ("sm_share_choice", 1100, 2000, 0.58, 2128),
                                     ("sm_share_zero_of_1000", 0, 1000, 0.61, 2128),
                                     ("sm_share_all_of_300", 300, 300, 0.74, 2128)):
    e = {"claims.0.p_value": float(stats.binomtest(k, n, 0.5).pvalue),
         "claims.0.revealed_ci": list(proportion_confint(k, n, alpha=ALPHA, method="wilson"))}
    if 0 < k < n:  # statsmodels divides by zero in its odds ratio at 0% and 100%
        count2 = stated * survey_n
        gap = test_proportions_2indep(k, n, count2, survey_n, method="wald", compare="diff")
        lo, hi = confint_proportions_2indep(k, n, count2, survey_n, method="wald", compare="diff", alpha=ALPHA)
        e.update({"claims.0.gap_p_value": float(gap.pvalue), "claims.0.gap_ci": [float(lo), float(hi)]})
    add(name, "scipy.stats.binomtest; statsmodels wilson and 2indep wald",
        inp(["a", "b"], [metric("chose", "binary", [("a", stats_binary(k, n))])],
            Claims=[{"statement": "stated", "id": "c", "kind": "share", "metric": "chose", "stated_share": stated, "survey_n": survey_n}]),
        e)

# ---- segment_gap direction: two-proportion Wald between segments ------------
ka, na, kb, nb = 380, 500, 255, 500
r = test_proportions_2indep(ka, na, kb, nb, method="wald", compare="diff")
lo, hi = confint_proportions_2indep(ka, na, kb, nb, method="wald", compare="diff", alpha=ALPHA)
seg = lambda k, n: [metric("teach", "binary", [("a", stats_binary(k, n))])]
add("sm_segment_gap", "statsmodels test_proportions_2indep(method='wald')",
    inp(["a", "b"], [metric("teach", "binary", [("a", stats_binary(ka + kb, na + nb))])],
        Segments=[{"Attribute": "generation", "Value": "genz", "Metrics": seg(ka, na)},
                  {"Attribute": "generation", "Value": "boomer", "Metrics": seg(kb, nb)}],
        Claims=[{"statement": "stated", "id": "g", "kind": "segment_gap", "metric": "teach", "segment_a": "generation=genz",
                 "segment_b": "generation=boomer", "stated_a": 0.76, "stated_b": 0.51, "survey_n": 2128}]),
    {"claims.0.p_value": float(r.pvalue), "claims.0.revealed_ci": [float(lo), float(hi)]})

# ---- Cochran's Q over four segments -----------------------------------------
segs = []
for i, mu in enumerate((0.1, 0.5, 0.3, 0.9)):
    c = rng.normal(5, 2, 150 + 10 * i)
    t = rng.normal(5 + mu, 2.5, 140 + 12 * i)
    segs.append((f"s{i}", c, t))
eff, var = [], []
for _, c, t in segs:
    r = stats.ttest_ind(t, c, equal_var=False)
    d = t.mean() - c.mean()
    eff.append(d)
    var.append((d / r.statistic) ** 2)
ce = combine_effects(np.array(eff), np.array(var), use_t=False)
allc = np.concatenate([c for _, c, _ in segs])
allt = np.concatenate([t for _, _, t in segs])
add("sm_cochran_q", "scipy ttest_ind per segment; statsmodels combine_effects",
    inp(["control", "treatment"], [metric("m", "mean", [("control", stats_mean(allc)), ("treatment", stats_mean(allt))])],
        Segments=[{"Attribute": "region", "Value": v, "Metrics": [
            metric("m", "mean", [("control", stats_mean(c)), ("treatment", stats_mean(t))])]} for v, c, t in segs]),
    {"heterogeneity.0.statistic": float(ce.q), "heterogeneity.0.df": 3,
     "heterogeneity.0.p_value": float(stats.chi2.sf(ce.q, 3)), "heterogeneity.0.i2": max(0.0, float(ce.i2))})  # Higgins: I² truncated at 0

# ---- power: MDE and units needed with statsmodels' NormalIndPower ------------
# Treatment = control + a shift, so both arms have the same sample variance σ²
# and the standardized effect of NormalIndPower is the effect over σ.
c = rng.normal(20, 4, 300)
for name, shift in (("sm_power_undecided", 0.35), ("sm_power_decided", 2.0)):
    t = c + shift
    sigma = float(np.std(c, ddof=1))
    n = len(c)
    es = NormalIndPower().solve_power(nobs1=n, alpha=ALPHA, power=0.8, ratio=1.0)
    e = {"metrics.0.comparisons.0.mde": es * sigma}
    if shift < 1:
        n1 = NormalIndPower().solve_power(effect_size=shift / sigma, alpha=ALPHA, power=0.8, ratio=1.0)
        e["metrics.0.comparisons.0.units_needed"] = math.ceil(2 * n1 - 2 * n)
    else:
        e["metrics.0.comparisons.0.units_needed"] = None
    add(name, "statsmodels NormalIndPower.solve_power",
        inp(["control", "treatment"], [metric("m", "mean", [("control", stats_mean(c)), ("treatment", stats_mean(t))])]), e)

# ---- CUPED on a binary metric: gbstats' proportion formulas, written out ----
# gbstats (RegressionAdjustedStatistic over ProportionStatistic) uses p(1−p)
# for var(X) as for var(Y), and Σxy/n − x̄ȳ for cov(X, Y): denominator n. θ
# comes from the two arms pooled, and is 0 when either pooled variance is 0.
# Its own generator keeps the other cases' random draws unchanged.
cuped_rng = np.random.default_rng(20261202)


def binary_cuped(nc, nt, lift):
    arms = []
    for n, extra in ((nc, 0.0), (nt, lift)):
        x = (cuped_rng.uniform(size=n) < 0.3).astype(float)
        y = (cuped_rng.uniform(size=n) < 0.25 + 0.4 * x + extra).astype(float)
        arms.append((x, y))
    return arms


def gb_prop_moments(x, y):
    n = len(x)
    px, py = x.sum() / n, y.sum() / n
    return n, px, py, px * (1 - px), py * (1 - py), (x * y).sum() / n - x.sum() * y.sum() / n ** 2


for name, nc, nt, lift in (("gbstats_cuped_binary", 3000, 3200, 0.05), ("gbstats_cuped_binary_small", 40, 35, 0.1)):
    (xc, yc), (xt, yt) = binary_cuped(nc, nt, lift)
    xa, ya = np.concatenate([xc, xt]), np.concatenate([yc, yt])
    _, _, _, vxj, vyj, cj = gb_prop_moments(xa, ya)
    theta = 0.0 if vxj == 0 or vyj == 0 else cj / vxj
    adj = []
    for x, y in ((xc, yc), (xt, yt)):
        n, px, py, vx, vy, cxy = gb_prop_moments(x, y)
        adj.append((n, py - theta * px, vy + theta ** 2 * vx - 2 * theta * cxy, vy))
    (nc_, mc, vc, vcu), (nt_, mt, vt, vtu) = adj
    a_, b_ = vt / nt_, vc / nc_
    se = math.sqrt(a_ + b_)
    df = (a_ + b_) ** 2 / (a_ ** 2 / (nt_ - 1) + b_ ** 2 / (nc_ - 1))
    d = mt - mc
    p = 2 * stats.t.sf(abs(d / se), df)
    se_unadj = math.sqrt(vtu / nt_ + vcu / nc_)
    q = stats.t.ppf(1 - ALPHA / 2, df)

    def sums(x, y):
        return {"units": len(y), "sum": float(y.sum()), "sum_sq": float((y * y).sum()),
                "pre_sum": float(x.sum()), "pre_sum_sq": float((x * x).sum()), "pre_cross": float((x * y).sum())}
    add(name, "gbstats' proportion CUPED formulas written out (n denominators), Welch df, scipy t",
        inp(["control", "treatment"], [metric("b", "binary", [("control", sums(xc, yc)), ("treatment", sums(xt, yt))],
                                              CUPED=True)]),
        {"metrics.0.comparisons.0.abs_effect": d, "metrics.0.comparisons.0.se": se,
         "metrics.0.comparisons.0.df": df, "metrics.0.comparisons.0.p_value": p,
         "metrics.0.comparisons.0.abs_ci": [d - q * se, d + q * se],
         "metrics.0.comparisons.0.cuped.theta": theta,
         "metrics.0.comparisons.0.cuped.variance_reduction": 1 - se ** 2 / se_unadj ** 2})

# ---- multipletests and percentile caps --------------------------------------
p_sets = [[0.01, 0.04, 0.03, 0.005, 0.5], [0.02, 0.02, 0.02, 0.9], [1e-300, 0.3, 1e-30, 0.049], [0.8],
          [0.6, 0.7, 0.9, 0.95], list(rng.uniform(0, 0.2, 12))]
p_adjust = [{"p": p, "holm": list(multipletests(p, method="holm")[1]),
             "bh": list(multipletests(p, method="fdr_bh")[1])} for p in p_sets]
x = rng.lognormal(3, 1.2, 2000)
probs = [0.5, 0.95, 0.99, 0.999, 1.0]
caps = {"values": list(x), "probs": probs, "expect": list(np.quantile(x, probs, method="linear"))}

with open("../golden_py.json", "w") as f:
    json.dump({"generator": "generate.py", "alpha": ALPHA, "cases": cases,
               "percentile_caps": caps, "p_adjust": p_adjust}, f, indent=None, allow_nan=False)
print("wrote", len(cases), "cases")
