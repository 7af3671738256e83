# Reference values for PoolRandomEffects (analysis/meta.go), computed with
# metafor:
#
#   cd analysis/testdata/reference && Rscript meta.R
#
# writes ../golden_meta.json: a list of cases, each with the studies and alpha
# that PoolRandomEffects receives and the expected fields of its MetaResult.
# Needs R and metafor (Debian: apt-get install r-base-core r-cran-metafor).
#
# tau2, i2 (metafor's I2/100), q and q_p_value (metafor's QE, QEp) come
# straight from rma(method = "REML"). metafor's test = "knha" has no ad hoc
# safeguard, so se, ci, p_value and pi are rebuilt from its output:
# q = (se_knha / se_z)², the unscaled se_z = sqrt(1/Σw) from the same fit
# with test = "z", se* = sqrt(max(1, q))·se_z, and Student's t with k − 1
# df. Where q ≥ 1 the safeguard does nothing, and the script checks that the
# rebuilt values equal metafor's own knha CI, p-value and predict() PI.

suppressPackageStartupMessages(library(metafor))

source("json.R") # to_json: the minimal JSON writer all the reference scripts share
arr <- function(...) list(...)          # a JSON array

cases <- list()

# add fits the case and records the expected MetaResult fields. want_q is
# "below" or "above" when the case exists to put the HKSJ scale q on that
# side of 1 (checked, so that the golden file really covers both branches).
add <- function(name, yi, sei, alpha = 0.05, want_q = NULL) {
  k <- length(yi)
  level <- 100 * (1 - alpha)
  # metafor's threshold is absolute; for effects of order 1e-3 (v ~ 1e-6)
  # 1e-10 is loose, so it is tightened to be relative to the smallest
  # sampling variance. A tighter threshold only makes the reference closer
  # to the exact REML root.
  thr <- min(1e-10, 1e-10 * min(sei^2))
  ctl <- list(threshold = thr, maxiter = 1000)
  kh <- rma(yi, sei = sei, method = "REML", test = "knha", level = level, control = ctl)
  z <- rma(yi, sei = sei, method = "REML", test = "z", level = level, control = ctl)
  stopifnot(isTRUE(all.equal(kh$tau2, z$tau2, tolerance = 1e-14)))
  b <- as.numeric(kh$b)
  tau2 <- kh$tau2
  se_z <- as.numeric(z$se)
  q <- (as.numeric(kh$se) / se_z)^2
  # The same q from its definition, as a check of the extraction.
  w <- 1 / (sei^2 + tau2)
  stopifnot(isTRUE(all.equal(q, sum(w * (yi - b)^2) / (k - 1), tolerance = 1e-10)))
  if (!is.null(want_q)) {
    stopifnot(if (want_q == "below") q < 1 else q > 1)
  }
  se <- sqrt(max(1, q)) * se_z
  crit <- qt(1 - alpha / 2, df = k - 1)
  ci <- c(b - crit * se, b + crit * se)
  p <- 2 * pt(-abs(b / se), df = k - 1)
  pi <- c(b - crit * sqrt(se^2 + tau2), b + crit * sqrt(se^2 + tau2))
  if (q >= 1) {
    pr <- predict(kh, level = level)
    stopifnot(isTRUE(all.equal(ci, c(kh$ci.lb, kh$ci.ub), tolerance = 1e-12)),
              isTRUE(all.equal(p, kh$pval, tolerance = 1e-12)),
              isTRUE(all.equal(pi, c(pr$pi.lb, pr$pi.ub), tolerance = 1e-12)))
  }
  studies <- lapply(seq_len(k), function(i)
    list(label = paste0("exp", i), estimate = yi[i], se = sei[i]))
  expect <- list(
    k = k, df = k - 1, estimate = b, se = se, ci = arr(ci[1], ci[2]),
    p_value = p, tau2 = tau2, i2 = kh$I2 / 100, q = kh$QE, q_p_value = kh$QEp,
    pi = arr(pi[1], pi[2]),
    hksj_q = q
  )
  cases[[length(cases) + 1]] <<- list(name = name, alpha = alpha,
                                      studies = studies, expect = expect)
}

add("two_tests", c(0.12, 0.03), c(0.05, 0.04))
add("identical_estimates", rep(0.05, 4), c(0.02, 0.03, 0.025, 0.04))
add("strong_heterogeneity", c(-0.3, 0.1, 0.5, 0.9, 0.2), c(0.05, 0.06, 0.05, 0.07, 0.04))
add("k3", c(0.2, 0.35, 0.1), c(0.1, 0.12, 0.08))
add("k10_mixed_se",
    c(0.021, -0.034, 0.102, 0.048, 0.260, -0.110, 0.075, 0.013, 0.190, 0.055),
    c(0.010, 0.030, 0.050, 0.020, 0.200, 0.150, 0.040, 0.015, 0.090, 0.300))
add("q_below_1", c(0.10, 0.12, 0.09, 0.11), c(0.10, 0.08, 0.12, 0.10), want_q = "below")
add("q_above_1", c(0.05, 0.25, -0.10, 0.18, 0.02, 0.30), c(0.06, 0.08, 0.05, 0.07, 0.04, 0.09),
    want_q = "above")
add("alpha_0.1", c(-0.3, 0.1, 0.5, 0.9, 0.2), c(0.05, 0.06, 0.05, 0.07, 0.04), alpha = 0.1)
add("revenue_scale", c(1200, 800, 1500, 950, 400), c(300, 250, 400, 200, 350))
add("conversion_scale", c(2e-4, 5e-4, -1e-4, 3e-4, 8e-4), c(1.5e-4, 2e-4, 1e-4, 2.5e-4, 1.2e-4))
add("dominant_weight", c(0.010, 0.4, -0.3, 0.2), c(0.001, 0.5, 0.6, 0.4))

out <- list(
  generator = "analysis/testdata/reference/meta.R",
  r = R.version.string,
  metafor = as.character(packageVersion("metafor")),
  cases = cases
)
writeLines(to_json(out), "../golden_meta.json")
cat("wrote ../golden_meta.json:", length(cases), "cases\n")
