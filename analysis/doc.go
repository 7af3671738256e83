// Package analysis turns per-arm sufficient statistics into significance
// reports: effects, confidence intervals, p-values, sample-ratio checks,
// power, and verdicts on stated preferences (claims). It does no I/O; the
// server computes its Input in SQL and the CLI computes it from a file.
// Analyze is the one entry point; it returns an *InputError for input that
// cannot be analysed and otherwise a Report whose JSON never holds NaN or
// ±Inf: an undefined number is null, with a reason where one helps.
//
// Conventions follow GrowthBook's gbstats. Every method is checked against
// an independent reference (R, SciPy, statsmodels, mpmath) by the golden
// files in testdata, within 1e-6 relative; testdata/reference holds the
// scripts that wrote them. METHODS.md has the full account.
//
// # Per-arm estimates
//
// Binary metrics: p = converted/units, variance p(1−p), CI by Wilson (R's
// prop.test(correct = FALSE)). Mean metrics: x̄ = Σx/n, sample variance
// (Σx² − Σx·x̄)/(n−1), CI x̄ ± t(n−1)·s/√n (R's t.test(x)); null for n < 2.
// Ratio metrics (ΣM/ΣD per arm): delta-method variance
// σ²M/D̄² − 2M̄σMD/D̄³ + M̄²σ²D/D̄⁴ per unit, with the numerator–denominator
// covariance from DenCross; null when D̄ = 0.
//
// # Comparisons
//
// Welch's t: d = μT − μC, se² = vT/nT + vC/nC, Welch–Satterthwaite df,
// two-sided p = 2·F_t(−|d/se|) (R's t.test(var.equal = FALSE)). The
// relative effect is d/|μC| with delta-method variance
// vT/(nT μC²) + vC μT²/(nC μC⁴) and the same df. Student's t comes from
// gonum below 1e8 df and from the corrected normal of R's pt above it
// (gonum's StudentsT loses precision as ν grows and is NaN at +Inf); lower
// tails are computed directly, never as 1 − CDF, so p = 1e-300 stays
// 1e-300. Both variances 0: p, CIs and the relative effect are null ("both
// variances are 0"). Control mean 0: the relative effect is null ("control
// mean is 0").
//
// CUPED (MetricInput.CUPED): θ = cov(Y, X)/var(X) pooled over the two arms
// compared, X the pre-exposure value; effect (ȳT − θx̄T) − (ȳC − θx̄C),
// per-arm variance σ²Y + θ²σ²X − 2θσXY, the relative variance of gbstats;
// variance_reduction = 1 − se²adjusted/se²unadjusted.
//
// Bayesian chance_to_win: a Gaussian on the relative effect, N(rel, se²rel)
// under the improper prior, or combined by precision with the metric's
// Prior N(μ₀, σ₀²); P(effect > 0), or < 0 when lower is better.
//
// Sequential (Input.Sequential): the asymptotic confidence sequence of
// Waudby-Smith et al. (2023, eq. 9) with ρ² = (−2 ln α + ln(1 − 2 ln α))/N*
// and N the units of both arms; its p-value is the reciprocal of the
// mixture martingale, and the reported p-value is the running minimum over
// the PriorPValues of earlier snapshots and this one.
//
// # Families, power and checks
//
// Multiple comparisons: Holm (default), Benjamini–Hochberg or none, as R's
// p.adjust, over every comparison with a p-value plus every claim's
// direction p-value; significant ⇔ p_adjusted < α. Power: MDE =
// (z₁₋α′/₂ + z₀.₈)·se with α′ = α/family size under a correction, and for
// undecided comparisons the extra units at which the observed effect would
// reach that MDE. SRM: Pearson's chi-square against the normalised weights
// (R's chisq.test), zero-unit arms included; "mismatch" at p < 0.001,
// "not_enough_traffic" when any expected count is below 5. Segments are
// reported in the same shape and corrected within themselves; the
// heterogeneity of an effect across an attribute's segments is a z-test of
// the difference (two segments) or Cochran's Q with Higgins' I² (more).
//
// # Claims
//
// share: Wilson CI of the revealed share; direction by the exact binomial
// test against 0.5 (R's binom.test); the gap revealed − stated with the
// unpooled two-proportion variance p(1−p)/n + s(1−s)/survey_n; magnitude
// "matches" when the (1−2α) gap CI lies inside ±margin (TOST), else
// overstated/understated when the gap's p < α, else unclear. effect: the
// comparison of Preferred against Other, respecting higher_is_better.
// segment_gap: the difference of two segments' shares by an unpooled z-test
// against 0 (direction) and against the stated difference (gap). Verdicts
// use the adjusted p-value; inconclusive ones report the units needed at
// 80% power.
//
// Capping happens before the sums are taken; PercentileCap computes a
// percentile cap (R's quantile type 7) over pooled per-unit values.
package analysis
