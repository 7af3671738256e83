# Reference values for CheckInteraction (package analysis), from simulated
# per-unit data:
#
#   cd analysis/testdata/reference && Rscript interaction.R
#
# writes ../golden_interaction.json: a list of cases, each with the input
# CheckInteraction receives (the arms of experiments A and B, the metric's
# per-cell sufficient statistics units/sum/sum_sq, den_* for ratio metrics,
# and the units assigned to both experiments per cell), the expected
# per-contrast values (unadjusted) and the expected result. Base R only.
#
# Units are drawn into the j × k cells (arm of A, arm of B); some have no
# value of the metric, so the assigned counts differ from the metric's units.
# Point estimates of the interactions come from R's lm: the saturated model
# y ~ a * b with treatment contrasts (the first arm of each experiment the
# reference), whose a:b coefficients are exactly the differences of
# differences (aᵢ − a₀ at bₘ) − (aᵢ − a₀ at b₀); they are checked against
# the cell means. Ratio metrics use lm(m/d ~ a * b, weights = d), whose cell
# fits are ΣM/ΣD. lm's standard errors pool the variance, so the Welch-type
# variance Σ sᵢ²/nᵢ over the four cells (sᵢ² from the raw units: var() for
# means, p(1−p) for binary metrics (gbstats), var(M − R̂·D)/D̄² for ratios)
# and the Welch–Satterthwaite df are written out by hand, with pt and qt.
# The reported contrast is the one with the smallest p-value, its p-value
# multiplied by (j−1)(k−1) and capped at 1 (Bonferroni). The independence
# test is chisq.test(table, correct = FALSE) on the assigned counts, with
# arms that have no assigned units dropped (R gives NaN on them), and null
# when fewer than 2 arms of A or of B have units.

set.seed(20261402)
ALPHA <- 0.05

source("json.R") # to_json: the minimal JSON writer all the reference scripts share
arr <- function(...) list(...)
close_to <- function(x, y, tol = 1e-9) isTRUE(all.equal(as.numeric(x), as.numeric(y), tolerance = tol))

# ---- simulation ----------------------------------------------------------------
# assigned: j × k matrix of units exposed to both experiments; observed: the
# chance (per cell, or one number) that a unit has a value of the metric;
# gen(i, m, n) draws n values in cell (i, m) (1-based), as a data frame with
# y (and d for ratio metrics).
simulate <- function(arms_a, arms_b, assigned, gen, observed = 1) {
  j <- length(arms_a); k <- length(arms_b)
  stopifnot(all(dim(assigned) == c(j, k)))
  observed <- matrix(observed, j, k)
  rows <- list()
  n_obs <- matrix(0L, j, k)
  for (i in seq_len(j)) for (m in seq_len(k)) {
    n <- rbinom(1, assigned[i, m], observed[i, m])
    n_obs[i, m] <- n
    if (n == 0) next
    x <- gen(i, m, n)
    x$a <- arms_a[i]; x$b <- arms_b[m]
    rows[[length(rows) + 1]] <- x
  }
  d <- do.call(rbind, rows)
  d$a <- factor(d$a, levels = arms_a)
  d$b <- factor(d$b, levels = arms_b)
  list(arms_a = arms_a, arms_b = arms_b, assigned = assigned, data = d, n = n_obs)
}

normal <- function(mu, sd) function(i, m, n) data.frame(y = rnorm(n, mu[i, m], sd[i, m]))
bernoulli <- function(p) function(i, m, n) data.frame(y = rbinom(n, 1, p[i, m]))

# ---- per-cell statistics ----------------------------------------------------------
cell_units <- function(s, kind, i, m) {
  s$data[s$data$a == s$arms_a[i] & s$data$b == s$arms_b[m], , drop = FALSE]
}

# The sufficient statistics CheckInteraction receives (null for an empty
# cell, which is left out of the input).
cell_input <- function(s, kind, i, m) {
  u <- cell_units(s, kind, i, m)
  if (nrow(u) == 0) return(NULL)
  st <- list(units = nrow(u), sum = sum(u$y), sum_sq = sum(u$y^2))
  if (kind == "ratio") st <- c(st, list(den_sum = sum(u$d), den_sum_sq = sum(u$d^2), den_cross = sum(u$y * u$d)))
  list(arm_a = s$arms_a[i], arm_b = s$arms_b[m], stats = st)
}

# n, mean and per-unit variance of a cell from the raw units.
cell_moments <- function(s, kind, i, m) {
  u <- cell_units(s, kind, i, m)
  n <- nrow(u)
  if (n == 0) return(list(n = 0, mean = NA, var = NA))
  switch(kind,
    mean = list(n = n, mean = mean(u$y), var = if (n > 1) var(u$y) else NA),
    binary = list(n = n, mean = mean(u$y), var = mean(u$y) * (1 - mean(u$y))),
    ratio = {
      r <- sum(u$y) / sum(u$d)
      list(n = n, mean = r, var = if (n > 1) var(u$y - r * u$d) / mean(u$d)^2 else NA)
    })
}

# ---- the contrasts -------------------------------------------------------------
# (aᵢ − a₀ at bₘ) − (aᵢ − a₀ at b₀) with Welch-type moments over its four
# cells; est_lm is lm's a:b coefficient, checked against the cell means.
contrast <- function(s, kind, i, m, est_lm) {
  cells <- list(c(i, m), c(1, 1), c(i, 1), c(1, m))
  w <- c(1, 1, -1, -1)
  mo <- lapply(cells, function(cm) cell_moments(s, kind, cm[1], cm[2]))
  n <- vapply(mo, `[[`, 0, "n"); mu <- vapply(mo, `[[`, 0, "mean"); v <- vapply(mo, `[[`, 0, "var")
  out <- list(arm_a = s$arms_a[i], arm_b = s$arms_b[m], estimate = NA, ci = NA, se = NA, df = NA, p_value = NA)
  if (any(n == 0)) {
    stopifnot(is.na(est_lm)) # lm cannot estimate it either
    return(out)
  }
  out$estimate <- sum(w * mu)
  stopifnot(close_to(est_lm, out$estimate))
  if (any(n < 2)) return(out)
  t <- v / n
  if (sum(t) == 0) return(out)
  se <- sqrt(sum(t)); df <- sum(t)^2 / sum(t^2 / (n - 1))
  q <- qt(1 - ALPHA / 2, df)
  out$ci <- arr(out$estimate - q * se, out$estimate + q * se)
  out$se <- se; out$df <- df
  out$p_value <- 2 * pt(-abs(out$estimate / se), df)
  out
}

interaction_coefs <- function(s, kind) {
  # lm cannot fit a factor with one observed level; nothing is estimable.
  if (length(unique(s$data$a)) < 2 || length(unique(s$data$b)) < 2) return(c())
  fit <- if (kind == "ratio") lm(I(y / d) ~ a * b, data = s$data, weights = d) else lm(y ~ a * b, data = s$data)
  coef(fit)
}

# Pearson's χ² on the assigned table without the arms that have no units.
independence <- function(tab) {
  keep <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  if (nrow(keep) < 2 || ncol(keep) < 2) {
    return(list(assignment_p_value = NA, chi_sq = NA, chi_df = 0))
  }
  ct <- suppressWarnings(chisq.test(keep, correct = FALSE))
  if (all(rowSums(tab) > 0) && all(colSums(tab) > 0)) {
    full <- suppressWarnings(chisq.test(tab, correct = FALSE))
    stopifnot(close_to(full$statistic, ct$statistic))
  } else {
    # R's own answer on the whole table: an arm with no units has expected
    # counts of 0, and the statistic is NaN.
    stopifnot(is.nan(suppressWarnings(chisq.test(tab, correct = FALSE))$statistic))
  }
  list(assignment_p_value = ct$p.value, chi_sq = unname(ct$statistic), chi_df = unname(ct$parameter))
}

# ---- one case ----------------------------------------------------------------------
cases <- list()
add <- function(name, s, kind, alpha = 0.05, shuffle = FALSE) {
  old <- ALPHA; ALPHA <<- alpha; on.exit(ALPHA <<- old)
  j <- length(s$arms_a); k <- length(s$arms_b)
  b <- interaction_coefs(s, kind)
  each <- list()
  for (i in 2:j) for (m in 2:k) {
    key <- paste0("a", s$arms_a[i], ":b", s$arms_b[m])
    each[[length(each) + 1]] <- contrast(s, kind, i, m, if (key %in% names(b)) b[[key]] else NA)
  }
  K <- (j - 1) * (k - 1)
  stopifnot(length(each) == K)
  p <- vapply(each, function(x) as.numeric(x$p_value), 0)
  best <- if (all(is.na(p))) 1 else which.min(p)
  res <- each[[best]]
  res$p_value <- if (is.na(res$p_value)) NA else min(1, K * res$p_value)
  res$contrasts <- K
  tab <- s$assigned
  res <- c(res, independence(tab))

  cells <- list()
  for (i in seq_len(j)) for (m in seq_len(k)) {
    x <- cell_input(s, kind, i, m)
    if (!is.null(x)) cells[[length(cells) + 1]] <- x
  }
  assigned <- list()
  for (i in seq_len(j)) for (m in seq_len(k)) {
    assigned[[length(assigned) + 1]] <- list(arm_a = s$arms_a[i], arm_b = s$arms_b[m], units = tab[i, m])
  }
  if (shuffle) {
    cells <- cells[sample(length(cells))]
    assigned <- assigned[sample(length(assigned))]
  }
  input <- list(alpha = alpha, kind = kind, arms_a = s$arms_a, arms_b = s$arms_b, cells = cells, assigned = assigned)
  cases[[length(cases) + 1]] <<- list(name = name, input = input, per_contrast = each, expect = res)
  invisible(res)
}

A2 <- c("control", "one_page")
A3 <- c("control", "one_page", "express")
B2 <- c("control", "discount")
B3 <- c("control", "discount", "bundle")
draw <- function(n, pa, pb, p = outer(pa, pb)) matrix(rmultinom(1, n, as.vector(p)), nrow(p), ncol(p))
# Order value: the one-page checkout adds 5, the discount 3, and both
# together 6 more than the sum.
mu2 <- matrix(c(50, 55, 53, 50 + 5 + 3 + 6), 2, 2)

# Balanced 2×2, every unit with a value, a real interaction.
add("balanced_2x2_mean", simulate(A2, B2, matrix(500, 2, 2), normal(mu2, matrix(20, 2, 2))), "mean")

# Unequal cell sizes (assignment weights 70/30 and 80/20), unequal variances,
# 85% of units with a value, α = 0.1, cells in shuffled order.
add("unequal_2x2", simulate(A2, B2, draw(2400, c(0.7, 0.3), c(0.8, 0.2)),
                            normal(mu2, matrix(c(10, 25, 15, 40), 2, 2)), observed = 0.85),
    "mean", alpha = 0.1, shuffle = TRUE)

# A binary metric (converted), gbstats variance p(1−p).
add("binary_2x2", simulate(A2, B2, draw(8000, c(0.5, 0.5), c(0.5, 0.5)),
                           bernoulli(matrix(c(0.10, 0.13, 0.12, 0.10 + 0.03 + 0.02 - 0.025), 2, 2)), observed = 0.95),
    "binary")

# A ratio metric (revenue per session), delta-method variance.
ratio_gen <- function(i, m, n) {
  d <- 1 + rpois(n, 2)
  data.frame(d = d, y = d * (4 + 0.5 * (i == 2) + 0.3 * (m == 2) - 0.6 * (i == 2 & m == 2)) + rnorm(n, 0, 3))
}
add("ratio_2x2", simulate(A2, B2, draw(3000, c(0.5, 0.5), c(0.6, 0.4)), ratio_gen, observed = 0.9), "ratio")

# 2×3: B has three arms, two contrasts; the bundle interacts.
mu23 <- matrix(c(50, 55, 53, 58, 52, 57 - 7), 2, 3)
add("2x3_mean", simulate(A2, B3, draw(3000, c(0.5, 0.5), c(0.4, 0.3, 0.3)), normal(mu23, matrix(18, 2, 3)), observed = 0.9),
    "mean", shuffle = TRUE)

# 3×2: A has three arms.
mu32 <- matrix(c(50, 55, 51, 53, 58, 54), 3, 2)
add("3x2_mean", simulate(A3, B2, draw(3000, c(0.4, 0.3, 0.3), c(0.5, 0.5)), normal(mu32, matrix(18, 3, 2)), observed = 0.9),
    "mean")

# 3×3: four contrasts, the smallest p-value at (express, bundle), the last.
mu33 <- matrix(c(50, 55, 51, 53, 58, 54, 52, 57, 51 + 2 + 6), 3, 3)
add("3x3_mean", simulate(A3, B3, draw(4500, rep(1 / 3, 3), rep(1 / 3, 3)), normal(mu33, matrix(15, 3, 3)), observed = 0.9),
    "mean")

# Assignment to B depends on the arm of A (e.g. B's targeting reads a
# property that A changes): χ² with a small p-value.
add("dependent_assignment", simulate(A2, B2, draw(3000, p = matrix(c(0.30, 0.20, 0.20, 0.30), 2, 2)),
                                     normal(mu2, matrix(20, 2, 2)), observed = 0.9),
    "mean")

# An empty cell: B excludes the one-page checkout from the discount, so no
# unit is in (one_page, discount); the contrast is null, the χ² test is
# computed (and rejects).
add("empty_cell_2x2", simulate(A2, B2, draw(2000, p = matrix(c(0.3, 0.3, 0.4, 0), 2, 2)),
                               normal(mu2, matrix(20, 2, 2))),
    "mean")

# 2×3 with the metric missing in (one_page, bundle) although units were
# assigned there: that contrast is null, the other is reported, still
# multiplied by 2.
add("empty_cell_2x3", simulate(A2, B3, draw(3000, c(0.5, 0.5), c(0.4, 0.3, 0.3)), normal(mu23, matrix(18, 2, 3)),
                               observed = matrix(c(0.9, 0.9, 0.9, 0.9, 0.9, 0), 2, 3)),
    "mean")

# No unit of the overlap is in B's bundle arm (it started later): the
# independence test runs on the other two arms of B (df 1); the contrasts
# through the bundle are null.
add("arm_without_units_2x3", simulate(A2, B3, draw(3000, c(0.5, 0.5), c(0.5, 0.5, 0)), normal(mu23, matrix(18, 2, 3)),
                                      observed = 0.9),
    "mean")

# Every unit of the overlap is in B's control: no independence test, no
# contrast.
add("all_in_one_arm_of_b", simulate(A2, B2, draw(1000, c(0.5, 0.5), c(1, 0)), normal(mu2, matrix(20, 2, 2))),
    "mean")

# Sanity on the designed outcomes.
get <- function(name) cases[[which(vapply(cases, `[[`, "", "name") == name)]]$expect
stopifnot(get("balanced_2x2_mean")$p_value < 0.05,
          get("dependent_assignment")$assignment_p_value < 1e-6,
          get("balanced_2x2_mean")$assignment_p_value == 1,
          is.na(get("empty_cell_2x2")$p_value), get("empty_cell_2x2")$assignment_p_value < 1e-6,
          !is.na(get("empty_cell_2x3")$p_value), get("empty_cell_2x3")$arm_b == "discount",
          get("arm_without_units_2x3")$chi_df == 1,
          is.na(get("all_in_one_arm_of_b")$p_value), is.na(get("all_in_one_arm_of_b")$assignment_p_value),
          get("3x3_mean")$arm_a == "express", get("3x3_mean")$arm_b == "bundle", get("3x3_mean")$contrasts == 4)

cat(paste0('{"generator":"interaction.R","r_version":"', R.version.string, '","cases":', to_json(cases), "}\n"),
    file = "../golden_interaction.json")
cat("wrote", length(cases), "cases\n")
