# Reference values for the key-driver analysis (analysis/drivers.go),
# computed from raw per-unit data with base R:
#
#   cd analysis/testdata/reference && Rscript drivers.R
#
# writes ../golden_drivers.json: a list of cases, each with its raw data (the
# Go test accumulates the moments itself), the stated shares, and the
# expected values. R 4.2.2 was used. relaimpo (calc.relimp(type = "lmg")) is
# not packaged for Debian bookworm, so LMG is written out from its
# definition on lm() fits of every subset, and Johnson's weights from the
# paper on cor(); neither uses the Go code's moment algebra.
#
#   betas, R²      lm() on the raw data; standardized beta = b·sd(x)/sd(y)
#   Johnson (2000) Rxx = VΛVᵀ, Λ½ = VΛ^½Vᵀ, β* = Λ½⁻¹ rxy,
#                  raw weight_j = Σ_k (Λ½)²_jk β*²_k
#   LMG            mean over all p! orderings of the R² gained when the
#                  driver enters (p ≤ 6), or the subset form with weights
#                  |S|!(p−|S|−1)!/p! (p > 6); every R² from lm()
#   ρ, τ           cor(method = "spearman" / "kendall") of the stated shares
#                  and the Johnson weights (R's Kendall is τ-b)
#   stated CI      prop.test(correct = FALSE)$conf.int (Wilson)

set.seed(20261212)
ALPHA <- 0.05

source("json.R") # to_json: the minimal JSON writer all the reference scripts share
arr <- function(v) as.list(v)           # always a JSON array, even of length 1

# ---- data ------------------------------------------------------------------
# Drivers with a common correlation rho and an outcome built from them.
simulate <- function(n, p, rho = 0.3, noise = 1) {
  S <- matrix(rho, p, p); diag(S) <- 1
  X <- matrix(rnorm(n * p), n) %*% chol(S)
  b <- runif(p, 0.05, 1)
  y <- as.vector(X %*% b + rnorm(n, sd = noise))
  list(y = y, X = X)
}
continuous <- function(d) list(y = round(d$y, 3), X = round(d$X, 3))
# Ratings on a 1–10 scale, as a satisfaction survey gives them.
ratings <- function(d) {
  r <- function(z) pmin(10, pmax(1, round(5.5 + 1.6 * z / sd(z))))
  list(y = r(d$y), X = apply(d$X, 2, r))
}
stated_shares <- function(p) {
  s <- round(rexp(p)^1.5, 3)
  round(s / sum(s), 2)                  # rounding makes ties likely
}

# ---- the methods, from the definitions -------------------------------------
r2_of <- function(y, X, S) {
  if (length(S) == 0) return(0)
  summary(lm(y ~ X[, S, drop = FALSE]))$r.squared
}

johnson <- function(R, rxy) {
  e <- eigen(R, symmetric = TRUE)
  lam <- pmax(e$values, 0); V <- e$vectors
  half <- V %*% diag(sqrt(lam), length(lam)) %*% t(V)
  keep <- lam > 1e-9 * max(lam)
  if (all(keep)) {
    bstar <- solve(half, rxy)
  } else {
    # exact collinearity: the pseudo-inverse of Λ½
    Vk <- V[, keep, drop = FALSE]
    bstar <- Vk %*% diag(1 / sqrt(lam[keep]), sum(keep)) %*% t(Vk) %*% rxy
  }
  as.vector(half^2 %*% bstar^2)
}

lmg <- function(y, X) {
  p <- ncol(X)
  cache <- new.env()
  r2 <- function(S) {
    S <- sort(S); key <- paste(c("s", S), collapse = ",")
    if (is.null(cache[[key]])) cache[[key]] <- r2_of(y, X, S)
    cache[[key]]
  }
  out <- numeric(p)
  if (p <= 6) {
    perms <- function(v) if (length(v) <= 1) list(v) else
      do.call(c, lapply(seq_along(v), function(i) lapply(perms(v[-i]), function(r) c(v[i], r))))
    P <- perms(seq_len(p))
    for (o in P) for (k in seq_len(p)) {
      j <- o[k]; before <- o[seq_len(k - 1)]
      out[j] <- out[j] + r2(c(before, j)) - r2(before)
    }
    return(out / length(P))
  }
  for (j in seq_len(p)) {
    others <- setdiff(seq_len(p), j)
    for (mask in 0:(2^(p - 1) - 1)) {
      S <- others[bitwAnd(mask, 2^(0:(p - 2))) > 0]
      s <- length(S)
      w <- factorial(s) * factorial(p - s - 1) / factorial(p)
      out[j] <- out[j] + w * (r2(c(S, j)) - r2(S))
    }
  }
  out
}

# ---- cases -----------------------------------------------------------------
cases <- list()
add_case <- function(name, d, shares, respondents = 400, drop = integer(0),
                     collinear = integer(0), missing_rows = integer(0)) {
  p <- ncol(d$X)
  names <- paste0("driver", seq_len(p))
  y <- d$y; X <- d$X
  if (length(missing_rows)) {           # a missing rating: the unit is left out
    y[missing_rows[1]] <- NA
    if (length(missing_rows) > 1) X[missing_rows[-1], 1] <- NA
  }
  ok <- complete.cases(y, X)
  yc <- y[ok]; Xc <- X[ok, , drop = FALSE]
  use <- setdiff(seq_len(p), drop)      # drop: drivers with zero variance
  Xu <- Xc[, use, drop = FALSE]
  fit <- lm(yc ~ Xu)
  b <- coef(fit)[-1] * apply(Xu, 2, sd) / sd(yc)
  b[use %in% collinear] <- NA           # not identified; lm aliases one of them
  C <- cor(cbind(yc, Xu))
  jw <- johnson(C[-1, -1], C[-1, 1])
  r2 <- summary(fit)$r.squared
  lm_w <- lmg(yc, Xu)
  full <- function(v) { out <- rep(NA_real_, p); out[use] <- v; out }
  sh <- shares[use]
  # Weights equal to 9 digits are ties (the collinear pair's weights differ
  # only by rounding); the Go code groups them the same way.
  jt <- signif(jw, 9)
  ci <- lapply(seq_len(p), function(j)
    arr(prop.test(round(shares[j] * respondents), respondents, correct = FALSE)$conf.int))
  expect <- list(
    n = sum(ok), left_out = sum(!ok), r2 = r2,
    r2_check_johnson = sum(jw), r2_check_lmg = sum(lm_w),
    beta = arr(full(b)), johnson = arr(full(jw)), johnson_pct = arr(full(jw / r2)),
    lmg = arr(full(lm_w)), derived_rank = arr(full(rank(-jt, ties.method = "min"))),
    spearman = cor(sh, jt, method = "spearman"), kendall = cor(sh, jt, method = "kendall"),
    stated_rank = arr(rank(-shares, ties.method = "min")), stated_ci = ci)
  stopifnot(abs(sum(jw) - r2) < 1e-10, abs(sum(lm_w) - r2) < 1e-10)
  cases[[length(cases) + 1]] <<- list(
    name = name, drivers = arr(names),
    stated = lapply(seq_len(p), function(j) list(share = shares[j], respondents = respondents)),
    outcome = arr(y), data = lapply(seq_len(p), function(j) arr(X[, j])),
    expect = expect)
  cat(sprintf("%-22s n=%d p=%d R2=%.4f\n", name, sum(ok), p, r2))
}

add_case("continuous_n50_p3", continuous(simulate(52, 3, rho = 0.4)), stated_shares(3),
         missing_rows = c(7, 19))
add_case("ratings_n500_p8", ratings(simulate(500, 8, rho = 0.35)), stated_shares(8))
add_case("continuous_n200_p10", continuous(simulate(200, 10, rho = 0.2, noise = 2)),
         stated_shares(10))
add_case("continuous_n10_p8", continuous(simulate(10, 8, rho = 0.3)), stated_shares(8))

d <- ratings(simulate(60, 4, rho = 0.3))
d$X[, 3] <- 7                           # every respondent rates driver3 7
add_case("zero_variance", d, stated_shares(4), drop = 3)

d <- continuous(simulate(80, 4, rho = 0.3))
d$X[, 4] <- 2 * d$X[, 1] + 1            # driver4 is driver1 rescaled
add_case("collinear", d, stated_shares(4), collinear = c(1, 4))

cat(paste0('{"generator":"drivers.R","r_version":"', R.version.string,
           '","relaimpo":null,"alpha":', ALPHA, ',"cases":', to_json(cases), "}\n"),
    file = "../golden_drivers.json")
cat("wrote", length(cases), "cases\n")
