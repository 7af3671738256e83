# Reference values for AnalyzeFactorial (package analysis), from simulated
# per-unit data:
#
#   cd analysis/testdata/reference && Rscript factorial.R
#
# writes ../golden_factorial.json: a list of cases, each with the factors,
# the per-cell sufficient statistics (n, mean, per-unit variance) that
# AnalyzeFactorial receives, and the expected contrasts. Base R only.
#
# Point estimates come from R's lm: a saturated model with sum-to-zero
# contrasts (contr.sum), whose dummy.coef effects give the main effects and
# two-way interactions with equal cell weights, checked against a cell-means
# model (y ~ 0 + cell) and the same contrasts as weights on its
# coefficients. Slopes are lm's slope of the unweighted level means on the
# numeric levels. lm's standard errors pool the variance, so the Welch-type
# variance Σcᵢ²sᵢ²/nᵢ, the Welch–Satterthwaite df and Fieller's interval are
# written out by hand; Fieller's limits are found with uniroot and checked
# against the closed form.
#
# Each case also has tradeoff claims (expect$tradeoffs): the p-value of
# θ = stated cost, the Welch test of the contrast a + stated·b, and the
# off-diagonal cells (the preferred level at the first cost level + stated
# against the reference at the first cost level), written out the same way.

set.seed(20261313)
ALPHA <- 0.05

source("json.R") # to_json: the minimal JSON writer all the reference scripts share
arr <- function(...) list(...)
interval <- function(v) if (any(is.na(v))) NA else arr(v[1], v[2])
close_to <- function(x, y, tol = 1e-9) isTRUE(all.equal(as.numeric(x), as.numeric(y), tolerance = tol))

# ---- design ----------------------------------------------------------------
fac <- function(key, levels, values = NULL) list(key = key, levels = levels, values = values)

# The cells of the full factorial with the first factor varying slowest
# (expand.grid varies its first argument fastest, hence the reversals).
cell_grid <- function(factors) {
  g <- expand.grid(rev(lapply(factors, `[[`, "levels")), stringsAsFactors = FALSE)
  g <- g[, rev(seq_along(factors)), drop = FALSE]
  names(g) <- vapply(factors, `[[`, "", "key")
  g$cell <- apply(g, 1, function(r) paste(paste0(names(g), "=", r), collapse = ","))
  g
}

# Simulates per-unit data: mu(row) and sd(row) per cell, n per cell, binary
# metrics as Bernoulli(mu).
simulate <- function(factors, n, mu, sd = function(r) 1, binary = FALSE) {
  g <- cell_grid(factors)
  rows <- lapply(seq_len(nrow(g)), function(i) {
    r <- g[i, ]
    if (n[i] == 0) return(NULL)
    y <- if (binary) rbinom(n[i], 1, mu(r)) else rnorm(n[i], mu(r), sd(r))
    data.frame(r[rep(1, n[i]), , drop = FALSE], y = y, row.names = NULL)
  })
  d <- do.call(rbind, rows)
  for (f in factors) d[[f$key]] <- factor(d[[f$key]], levels = f$levels)
  d$cell <- factor(d$cell, levels = g$cell)
  list(grid = g, data = d, n = n, binary = binary)
}

# Per-cell sufficient statistics; gbstats' p(1−p) for binary metrics.
cell_stats <- function(s) {
  g <- s$grid
  lapply(seq_len(nrow(g)), function(i) {
    y <- s$data$y[s$data$cell == g$cell[i]]
    n <- length(y)
    v <- if (n == 0) 0 else if (s$binary) mean(y) * (1 - mean(y)) else if (n > 1) var(y) else 0
    list(cell = g$cell[i], n = n, mean = if (n == 0) 0 else mean(y), var = v)
  })
}

# ---- contrasts: weights on the cells ----------------------------------------
main_w <- function(g, f, l, ref) {
  (g[[f]] == l) / sum(g[[f]] == l) - (g[[f]] == ref) / sum(g[[f]] == ref)
}
inter_w <- function(g, f, l, fref, h, m, href) {
  ind <- function(a, b) (g[[f]] == a & g[[h]] == b) / sum(g[[f]] == a & g[[h]] == b)
  ind(l, m) - ind(l, href) - ind(fref, m) + ind(fref, href)
}
slope_w <- function(g, f, values, levels) {
  x <- values[match(g[[f]], levels)]
  per_level <- sum(g[[f]] == levels[1])
  (x - mean(values)) / sum((values - mean(values))^2) / per_level
}

# Welch-type moments of Σwᵢȳᵢ from the per-cell statistics; NA where a cell
# in use is empty (estimate too) or has n < 2 or every variance is 0.
welch <- function(w, st) {
  use <- w != 0
  n <- vapply(st, `[[`, 0, "n")[use]; m <- vapply(st, `[[`, 0, "mean")[use]
  v <- vapply(st, `[[`, 0, "var")[use]; w <- w[use]
  if (any(n == 0)) return(list(est = NA, se = NA, df = NA))
  est <- sum(w * m)
  if (any(n < 2)) return(list(est = est, se = NA, df = NA))
  t <- w^2 * v / n
  if (sum(t) == 0) return(list(est = est, se = NA, df = NA))
  list(est = est, se = sqrt(sum(t)), df = sum(t)^2 / sum(t^2 / (n - 1)))
}
effect <- function(w, st, est_lm = NULL) {
  x <- welch(w, st)
  if (!is.null(est_lm) && !is.na(x$est)) stopifnot(close_to(est_lm, x$est))
  if (is.na(x$se)) return(list(estimate = x$est, ci = NA, se = NA, df = NA, p_value = NA))
  q <- qt(1 - ALPHA / 2, x$df)
  list(estimate = x$est, ci = interval(x$est + c(-1, 1) * q * x$se), se = x$se, df = x$df,
       p_value = 2 * pt(-abs(x$est / x$se), x$df))
}

# Fieller's interval for θ = a/(−b), a = Σcᵢȳᵢ, b = Σdᵢȳᵢ.
fieller <- function(cw, dw, st) {
  A <- welch(cw, st); B <- welch(dw, st)
  if (is.na(A$est) || is.na(B$est)) return(list(estimate = NA, ci = NA, bounded = FALSE))
  a <- A$est; cost <- -B$est; theta <- a / cost
  n <- vapply(st, `[[`, 0, "n"); v <- vapply(st, `[[`, 0, "var")
  if (any(n[cw != 0 | dw != 0] < 2)) return(list(estimate = theta, ci = NA, bounded = FALSE))
  vaa <- sum(cw^2 * v / n); vcc <- sum(dw^2 * v / n); vac <- -sum(cw * dw * v / n)
  comb <- welch(cw + theta * dw, st)
  if (is.na(comb$se)) return(list(estimate = theta, ci = NA, bounded = FALSE))
  stopifnot(close_to(comb$se^2, vaa - 2 * theta * vac + theta^2 * vcc))
  q <- qt(1 - ALPHA / 2, comb$df)
  g <- function(th) (a - th * cost)^2 - q^2 * (vaa - 2 * th * vac + th^2 * vcc)
  lead <- cost^2 - q^2 * vcc
  if (lead <= 0) return(list(estimate = theta, ci = NA, bounded = FALSE))
  stopifnot(g(theta) < 0)
  # Search outwards from θ̂ for a sign change of g on each side.
  step <- max(abs(theta), 1)
  root <- function(dir) {
    k <- 1
    while (g(theta + dir * k * step) < 0) k <- 2 * k
    uniroot(g, sort(c(theta, theta + dir * k * step)), tol = 1e-14 * step, maxiter = 1e4)$root
  }
  ci <- c(root(-1), root(1))
  # The closed form of the same quadratic, as a check on uniroot.
  Bq <- a * cost - q^2 * vac; Cq <- a^2 - q^2 * vaa
  cf <- (Bq + c(-1, 1) * sqrt(Bq^2 - lead * Cq)) / lead
  stopifnot(close_to(ci, cf, 1e-9))
  list(estimate = theta, ci = interval(ci), bounded = TRUE)
}

# ---- reference for one case --------------------------------------------------
is_numeric <- function(f) !is.null(f$values)

expect_case <- function(factors, s) {
  g <- s$grid; st <- cell_stats(s); d <- s$data
  keys <- vapply(factors, `[[`, "", "key")
  full <- all(s$n > 0)

  # Cell-means model: its coefficients are the cell means.
  cm <- lm(y ~ 0 + cell, data = d)
  beta <- setNames(rep(NA, nrow(g)), g$cell)
  beta[sub("^cell", "", names(coef(cm)))] <- coef(cm)
  cm_est <- function(w) if (any(is.na(beta[w != 0]))) NA else sum(w[w != 0] * beta[w != 0])

  # Saturated model with sum-to-zero contrasts (all cells needed).
  dc <- NULL
  if (full) {
    ctr <- setNames(rep(list("contr.sum"), length(keys)), keys)
    fit <- lm(reformulate(paste(keys, collapse = "*"), "y"), data = d, contrasts = ctr)
    stopifnot(close_to(fitted(fit), fitted(cm)))
    dc <- dummy.coef(fit)
  }

  main <- list(); inter <- list(); slopes <- list(); rates <- list()
  for (f in factors) {
    for (l in f$levels[-1]) {
      w <- main_w(g, f$key, l, f$levels[1])
      lm_est <- if (full) dc[[f$key]][[l]] - dc[[f$key]][[f$levels[1]]] else NULL
      if (!is.na(cm_est(w)) && !is.null(lm_est)) stopifnot(close_to(lm_est, cm_est(w)))
      main[[length(main) + 1]] <- c(list(factor = f$key, level = l, reference = f$levels[1]),
                                    effect(w, st, cm_est(w)), list(p_adjusted = NA))
    }
  }
  for (i in seq_along(factors)) for (j in seq_along(factors)) if (i < j) {
    fi <- factors[[i]]; fj <- factors[[j]]
    for (l in fi$levels[-1]) for (m in fj$levels[-1]) {
      w <- inter_w(g, fi$key, l, fi$levels[1], fj$key, m, fj$levels[1])
      lm_est <- NULL
      if (full) {
        ab <- dc[[paste0(fi$key, ":", fj$key)]]
        e <- function(x, y) ab[[paste0(x, ":", y)]]
        lm_est <- e(l, m) - e(l, fj$levels[1]) - e(fi$levels[1], m) + e(fi$levels[1], fj$levels[1])
        stopifnot(close_to(lm_est, cm_est(w)))
      }
      inter[[length(inter) + 1]] <- c(list(factors = c(fi$key, fj$key), levels = c(l, m),
                                           references = c(fi$levels[1], fj$levels[1])),
                                      effect(w, st, cm_est(w)), list(p_adjusted = NA))
    }
  }
  for (f in Filter(is_numeric, factors)) {
    w <- slope_w(g, f$key, f$values, f$levels)
    lm_est <- NULL
    if (all(!is.na(beta))) {
      # Unweighted level means of the cell means, then lm's slope on them.
      lev <- tapply(beta, g[[f$key]], mean)[f$levels]
      lm_est <- coef(lm(lev ~ f$values))[[2]]
    }
    slopes[[length(slopes) + 1]] <- c(list(factor = f$key), effect(w, st, lm_est), list(p_adjusted = NA))
  }
  for (f in factors) for (l in f$levels[-1]) for (cst in Filter(is_numeric, factors)) {
    if (cst$key == f$key) next
    fr <- fieller(main_w(g, f$key, l, f$levels[1]), slope_w(g, cst$key, cst$values, cst$levels), st)
    rates[[length(rates) + 1]] <- c(list(factor = f$key, level = l, cost = cst$key), fr)
  }
  # Trade-off claims of the first factor's second level against each
  # numeric cost: one stated cost that is a step of the cost's levels (so
  # the off-diagonal cells exist) and one that is not.
  trades <- list()
  f <- factors[[1]]
  for (cst in Filter(is_numeric, factors)) {
    if (cst$key == f$key) next
    for (stated in c(cst$values[2] - cst$values[1], 3.5)) {
      trades[[length(trades) + 1]] <- tradeoff(g, st, f, f$levels[2], cst, stated)
    }
  }
  list(cells = st, expect = list(main_effects = main, interactions = inter, slopes = slopes,
                                 exchange_rates = rates, tradeoffs = trades))
}

# A tradeoff claim: the p-value of θ = stated, i.e. of the contrast
# a + stated·b = 0 (Welch), and the off-diagonal cells (l at the first cost
# level + stated against the reference at the first cost level).
tradeoff <- function(g, st, f, l, cst, stated) {
  cw <- main_w(g, f$key, l, f$levels[1])
  dw <- slope_w(g, cst$key, cst$values, cst$levels)
  x <- effect(cw + stated * dw, st)
  m <- match(TRUE, abs(cst$values - (cst$values[1] + stated)) < 1e-9)
  off <- NA
  if (!is.na(m)) {
    ind <- function(a, b) (g[[f$key]] == a & g[[cst$key]] == b) / sum(g[[f$key]] == a & g[[cst$key]] == b)
    w <- ind(l, cst$levels[m]) - ind(f$levels[1], cst$levels[1])
    off <- c(list(cells = c(paste0(f$key, "=", l, ",", cst$key, "=", cst$levels[m]),
                            paste0(f$key, "=", f$levels[1], ",", cst$key, "=", cst$levels[1]))),
             effect(w, st))
  }
  list(factor = f$key, preferred = l, cost = cst$key, stated_cost = stated, p_value = x$p_value,
       off_diagonal = off)
}

cases <- list()
add <- function(name, factors, s, alpha = ALPHA, shuffle = FALSE) {
  old <- ALPHA; ALPHA <<- alpha; on.exit(ALPHA <<- old)
  x <- expect_case(factors, s)
  cells <- if (shuffle) x$cells[sample(length(x$cells))] else x$cells
  fs <- lapply(factors, function(f) list(key = f$key, levels = f$levels, numeric = is_numeric(f),
                                        values = if (is_numeric(f)) f$values else NULL))
  cases[[length(cases) + 1]] <<- list(name = name, alpha = alpha, factors = fs, cells = cells,
                                      expect = x$expect)
  invisible(x)
}

agent <- fac("agent", c("bot", "human"))
wait3 <- fac("wait_minutes", c("5", "10", "15"), c(5, 10, 15))
# Satisfaction on a 0–10-like scale: a human is worth about 1 point, each
# minute of waiting costs 0.08, and waiting hurts a little less with a human.
sat <- function(r) {
  w <- as.numeric(r$wait_minutes)
  6 + (r$agent == "human") * 1.0 - 0.08 * (w - 5) + (r$agent == "human") * 0.02 * (w - 5)
}

# 2×2, categorical.
tone <- fac("tone", c("formal", "casual"))
add("2x2", list(agent, tone), simulate(list(agent, tone), rep(200, 4),
    function(r) 6 + (r$agent == "human") * 0.8 + (r$tone == "casual") * 0.3 -
      (r$agent == "human" & r$tone == "casual") * 0.4, function(r) 2))

# 2×3 with numeric wait: bounded exchange rate.
add("2x3_numeric_wait", list(agent, wait3), simulate(list(agent, wait3), rep(300, 6), sat, function(r) 2))

# Unequal cell sizes and variances, cells in shuffled order, α = 0.1.
add("unequal_cell_sizes", list(agent, wait3),
    simulate(list(agent, wait3), c(150, 400, 220, 80, 250, 190), sat,
             function(r) 1 + as.numeric(r$wait_minutes) / 10 + 0.5 * (r$agent == "human")),
    alpha = 0.1, shuffle = TRUE)

# Three factors, two of them numeric (price is a second cost).
channel <- fac("channel", c("chat", "phone", "email"))
add("three_factors", list(agent, wait3, channel),
    simulate(list(agent, wait3, channel), rep(c(80, 120, 150), 6),
             function(r) sat(r) + (r$channel == "phone") * 0.5 - (r$channel == "email") * 0.3,
             function(r) 1.5 + (r$channel == "email")))

# Four factors, 36 cells (the limit), a numeric factor with uneven spacing.
price <- fac("price", c("0", "2", "7"), c(0, 2, 7))
gift <- fac("gift", c("no", "yes"))
add("four_factors_36_cells", list(agent, gift, wait3, price),
    simulate(list(agent, gift, wait3, price), rep(40, 36),
             function(r) sat(r) - 0.15 * as.numeric(r$price) + (r$gift == "yes") * 0.2,
             function(r) 1.5))

# An empty cell (human, 15 minutes): the contrasts using it are null.
add("empty_cell", list(agent, wait3), simulate(list(agent, wait3), c(200, 200, 200, 200, 200, 0), sat,
    function(r) 2))

# A slope that is not clearly nonzero: Fieller's set is unbounded.
add("slope_not_significant", list(agent, wait3),
    simulate(list(agent, wait3), rep(60, 6), function(r) 6 + (r$agent == "human") * 1.0, function(r) 2))

# A binary metric (resolved), gbstats variance p(1−p).
add("binary", list(agent, wait3),
    simulate(list(agent, wait3), rep(500, 6),
             function(r) 0.55 + (r$agent == "human") * 0.2 - 0.015 * (as.numeric(r$wait_minutes) - 5),
             binary = TRUE))

# One factor of two levels: the main effect is Welch's t-test, checked
# against R's t.test.
s <- simulate(list(agent), c(40, 70), function(r) 5 + (r$agent == "human"),
              function(r) if (r$agent == "human") 3 else 1.5)
x <- add("one_factor_welch", list(agent), s)
tt <- t.test(s$data$y[s$data$agent == "human"], s$data$y[s$data$agent == "bot"])
me <- x$expect$main_effects[[1]]
stopifnot(close_to(me$se, tt$stderr), close_to(me$df, tt$parameter), close_to(me$p_value, tt$p.value),
          close_to(unlist(me$ci), tt$conf.int))

# Sanity on the designed outcomes.
rate <- function(name, i = 1) cases[[which(vapply(cases, `[[`, "", "name") == name)]]$expect$exchange_rates[[i]]
stopifnot(rate("2x3_numeric_wait")$bounded, rate("unequal_cell_sizes")$bounded,
          !rate("slope_not_significant")$bounded,
          is.na(rate("empty_cell")$estimate))

cat(paste0('{"generator":"factorial.R","r_version":"', R.version.string, '","cases":', to_json(cases), "}\n"),
    file = "../golden_factorial.json")
cat("wrote", length(cases), "cases\n")
