# Reference values for package analysis, computed with R's own tests from
# raw per-unit data (or from counts where R's test takes counts).
#
#   cd analysis/testdata/reference && Rscript generate.R
#
# writes ../golden_r.json: a list of cases, each with the Input that Analyze
# receives (the sufficient statistics of the raw data) and the expected
# values at JSON paths of the Report. Base R only; R 4.2.2 was used.

set.seed(20261122)
ALPHA <- 0.05
Z80 <- qnorm(0.8)

source("json.R") # to_json: the minimal JSON writer all the reference scripts share
arr <- function(...) list(...)          # a JSON array
interval <- function(v) arr(v[1], v[2])

# ---- input builders --------------------------------------------------------
variants <- function(keys, weights = rep(1, length(keys))) {
  lapply(seq_along(keys), function(i)
    list(Key = keys[i], Weight = weights[i], Control = (i == 1)))
}
stats_mean <- function(y, x = NULL) {
  s <- list(units = length(y), sum = sum(y), sum_sq = sum(y^2))
  if (!is.null(x)) {
    s$pre_sum <- sum(x); s$pre_sum_sq <- sum(x^2); s$pre_cross <- sum(x * y)
  }
  s
}
stats_binary <- function(k, n) list(units = n, sum = k, sum_sq = k)
stats_ratio <- function(m, d) list(units = length(m), sum = sum(m), sum_sq = sum(m^2),
                                   den_sum = sum(d), den_sum_sq = sum(d^2), den_cross = sum(m * d))
arm <- function(v, s) list(Variant = v, Stats = s)
metric <- function(name, kind, arms, higher = TRUE, ...) {
  c(list(Metric = name, Kind = kind, HigherIsBetter = higher, Arms = arms), list(...))
}
input <- function(keys, metrics, weights = rep(1, length(keys)), ...) {
  c(list(Experiment = "ref", Variants = variants(keys, weights), Metrics = metrics), list(...))
}

cases <- list()
add <- function(name, method, inp, expect) {
  cases[[length(cases) + 1]] <<- list(name = name, method = method, input = inp, expect = expect)
}

# ---- helpers for expected values -------------------------------------------
# The relative effect (μT − μC)/|μC| and its delta-method standard error.
rel_se <- function(mt, mc, vt, nt, vc, nc) sqrt(vt / (nt * mc^2) + vc * mt^2 / (nc * mc^4))

# Power figures for one comparison in a family of size m (Holm: α/m).
power_expect <- function(e, prefix, d, se, N, mc, significant, m = 1) {
  a <- if (m > 1) ALPHA / m else ALPHA
  za <- qnorm(1 - a / 2)
  e[[paste0(prefix, ".mde")]] <- (za + Z80) * se
  e[[paste0(prefix, ".mde_rel")]] <- if (mc != 0) (za + Z80) * se / abs(mc) else NA
  e[[paste0(prefix, ".units_needed")]] <-
    if (significant) NA else max(0, ceiling(((za + Z80) * se / d)^2 * N - N))
  e
}

# Welch comparison of raw samples y_t vs y_c with t.test, as Analyze reports it.
welch_expect <- function(yc, yt, prefix = "metrics.0.comparisons.0", m = 1, e = list()) {
  tt <- t.test(yt, yc)                       # var.equal = FALSE is R's default
  d <- mean(yt) - mean(yc)
  e[[paste0(prefix, ".abs_effect")]] <- d
  e[[paste0(prefix, ".abs_ci")]] <- interval(tt$conf.int)
  e[[paste0(prefix, ".p_value")]] <- tt$p.value
  e[[paste0(prefix, ".df")]] <- unname(tt$parameter)
  e[[paste0(prefix, ".se")]] <- tt$stderr
  mc <- mean(yc); mt <- mean(yt)
  if (mc != 0) {
    s <- rel_se(mt, mc, var(yt), length(yt), var(yc), length(yc))
    q <- qt(1 - ALPHA / 2, tt$parameter)
    e[[paste0(prefix, ".rel_effect")]] <- d / abs(mc)
    e[[paste0(prefix, ".rel_ci")]] <- interval(d / abs(mc) + c(-1, 1) * q * s)
    e[[paste0(prefix, ".chance_to_win")]] <- pnorm((d / abs(mc)) / s)
  } else {
    e[[paste0(prefix, ".rel_effect")]] <- NA
    e[[paste0(prefix, ".rel_null_reason")]] <- "control mean is 0"
  }
  if (m == 1) {
    e[[paste0(prefix, ".p_adjusted")]] <- tt$p.value
    e[[paste0(prefix, ".significant")]] <- tt$p.value < ALPHA
    e <- power_expect(e, prefix, d, tt$stderr, length(yc) + length(yt), mc, tt$p.value < ALPHA)
  }
  e
}
variant_expect <- function(y, prefix, e = list()) {
  e[[paste0(prefix, ".units")]] <- length(y)
  e[[paste0(prefix, ".mean")]] <- mean(y)
  e[[paste0(prefix, ".sd")]] <- sd(y)
  e[[paste0(prefix, ".ci")]] <- interval(t.test(y)$conf.int)
  e
}

# Welch on sufficient statistics with the gbstats binary variance p(1−p);
# R's t.test on 0/1 data would use n/(n−1)·p(1−p), so the formula is used.
binary_welch <- function(kc, nc, kt, nt) {
  pc <- kc / nc; pt_ <- kt / nt
  vc <- pc * (1 - pc) / nc; vt <- pt_ * (1 - pt_) / nt
  se <- sqrt(vc + vt)
  df <- (vc + vt)^2 / (vt^2 / (nt - 1) + vc^2 / (nc - 1))
  d <- pt_ - pc
  list(d = d, se = se, df = df, p = 2 * pt(-abs(d / se), df), pc = pc, pt = pt_,
       q = qt(1 - ALPHA / 2, df))
}
wilson <- function(k, n) suppressWarnings(prop.test(k, n, correct = FALSE)$conf.int)

# ---- Welch, mean metrics ---------------------------------------------------
yc <- rnorm(40, 10, 2); yt <- rnorm(60, 11, 3.5)
e <- welch_expect(yc, yt)
e <- variant_expect(yc, "metrics.0.variants.0", e)
e <- variant_expect(yt, "metrics.0.variants.1", e)
add("welch_mean", "t.test", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))), e)
welch_mean_data <- list(yc = yc, yt = yt)

yc <- rnorm(30, -5, 2); yt <- rnorm(30, -4.2, 2)
add("negative_control_mean", "t.test", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))),
    welch_expect(yc, yt))

yc <- c(-3, -2, -1, 0, 1, 2, 3); yt <- rnorm(20, 1, 1)
add("control_mean_zero", "t.test", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))),
    welch_expect(yc, yt))

yc <- rep(3, 12); yt <- rnorm(15, 4, 1)
e <- welch_expect(yc, yt)
e[["metrics.0.comparisons.0.df"]] <- 14   # exactly n_t − 1
add("zero_variance_one_arm", "t.test", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))), e)

# t.test stops with "data are essentially constant": Analyze reports nulls.
yc <- rep(3, 10); yt <- rep(4, 10)
add("zero_variance_both", "t.test (errors)", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))),
    list("metrics.0.comparisons.0.abs_effect" = 1, "metrics.0.comparisons.0.abs_ci" = NA,
         "metrics.0.comparisons.0.p_value" = NA,
         "metrics.0.comparisons.0.p_null_reason" = "both variances are 0",
         "metrics.0.comparisons.0.rel_effect" = NA,
         "metrics.0.comparisons.0.rel_null_reason" = "both variances are 0",
         "metrics.0.comparisons.0.significant" = FALSE,
         "metrics.0.variants.0.ci" = interval(c(3, 3)), "family_size" = 0))

add("binary_zero_both", "prop.test", input(c("control", "treatment"),
    list(metric("m", "binary", list(arm("control", stats_binary(0, 500)), arm("treatment", stats_binary(0, 400)))))),
    list("metrics.0.comparisons.0.p_value" = NA,
         "metrics.0.comparisons.0.p_null_reason" = "both variances are 0",
         "metrics.0.variants.0.ci" = interval(wilson(0, 500)),
         "metrics.0.variants.1.ci" = interval(wilson(0, 400))))

yt <- rnorm(10, 5, 1)
add("n_equals_1", "t.test (errors)", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("control", stats_mean(5)), arm("treatment", stats_mean(yt)))))),
    list("metrics.0.comparisons.0.p_value" = NA,
         "metrics.0.comparisons.0.p_null_reason" = "fewer than 2 units in an arm",
         "metrics.0.comparisons.0.abs_effect" = mean(yt) - 5,
         "metrics.0.variants.0.ci" = NA, "metrics.0.variants.0.sd" = NA,
         "metrics.0.variants.1.ci" = interval(t.test(yt)$conf.int)))

add("empty_arm", "definition", input(c("control", "treatment"),
    list(metric("m", "mean", list(arm("treatment", stats_mean(yt)))))),
    list("metrics.0.comparisons.0.p_value" = NA,
         "metrics.0.comparisons.0.p_null_reason" = "an arm has no units",
         "metrics.0.comparisons.0.abs_effect" = 0,
         "metrics.0.variants.0.units" = 0, "metrics.0.variants.0.ci" = NA))

# Extreme z: |t| ≈ 11 and ≈ 35 at df ≈ 1e4, p ≈ 1e-30 and ≈ 1e-250 (R's pt
# is exact below 4e5 df; Normal.Survival would give 0).
for (shift in c(0.23, 0.7)) {
  yc <- rnorm(5000, 0, 1); yt <- rnorm(5000, shift, 1)
  add(sprintf("extreme_z_%g", shift), "t.test", input(c("control", "treatment"),
      list(metric("m", "mean", list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt)))))),
      welch_expect(yc, yt))
}

# ---- Welch, binary metrics (issue 2's example) -----------------------------
b <- binary_welch(610, 1000, 700, 1000)
rs <- rel_se(b$pt, b$pc, b$pt * (1 - b$pt), 1000, b$pc * (1 - b$pc), 1000)
e <- list("metrics.0.comparisons.0.abs_effect" = b$d,
          "metrics.0.comparisons.0.abs_ci" = interval(b$d + c(-1, 1) * b$q * b$se),
          "metrics.0.comparisons.0.p_value" = b$p, "metrics.0.comparisons.0.df" = b$df,
          "metrics.0.comparisons.0.rel_effect" = b$d / b$pc,
          "metrics.0.comparisons.0.rel_ci" = interval(b$d / b$pc + c(-1, 1) * b$q * rs),
          "metrics.0.comparisons.0.chance_to_win" = pnorm(b$d / b$pc / rs),
          "metrics.0.comparisons.0.significant" = TRUE,
          "metrics.0.variants.0.mean" = 0.61, "metrics.0.variants.0.ci" = interval(wilson(610, 1000)),
          "metrics.0.variants.1.ci" = interval(wilson(700, 1000)),
          "srm.p_value" = chisq.test(c(1000, 1000))$p.value, "srm.status" = "ok", "srm.ok" = TRUE)
e <- power_expect(e, "metrics.0.comparisons.0", b$d, b$se, 2000, b$pc, TRUE)
add("binary_issue2_example", "Welch formula with pt; prop.test (Wilson); chisq.test",
    input(c("bot", "human"), list(metric("resolved", "binary",
      list(arm("bot", stats_binary(610, 1000)), arm("human", stats_binary(700, 1000)))))), e)

# A lower-is-better binary metric: chance_to_win flips.
b <- binary_welch(300, 1000, 270, 1000)
rs <- rel_se(b$pt, b$pc, b$pt * (1 - b$pt), 1000, b$pc * (1 - b$pc), 1000)
e <- list("metrics.0.comparisons.0.p_value" = b$p,
          "metrics.0.comparisons.0.chance_to_win" = pnorm(-(b$d / b$pc) / rs),
          "metrics.0.comparisons.0.significant" = b$p < ALPHA)
e <- power_expect(e, "metrics.0.comparisons.0", b$d, b$se, 2000, b$pc, b$p < ALPHA)
add("binary_lower_is_better", "Welch formula with pt; pnorm",
    input(c("control", "treatment"), list(metric("churn", "binary",
      list(arm("control", stats_binary(300, 1000)), arm("treatment", stats_binary(270, 1000))), higher = FALSE))), e)

# ---- SRM --------------------------------------------------------------------
srm_case <- function(name, obs, w, status) {
  ct <- suppressWarnings(chisq.test(obs, p = w / sum(w)))
  inp <- input(paste0("v", seq_along(obs)), list(), weights = w,
               Assigned = lapply(seq_along(obs), function(i) list(Variant = paste0("v", i), Units = obs[i])))
  e <- list("srm.p_value" = ct$p.value, "srm.chi_sq" = unname(ct$statistic),
            "srm.df" = unname(ct$parameter), "srm.status" = status, "srm.ok" = status != "mismatch")
  for (i in seq_along(obs)) e[[sprintf("srm.variants.%d.expected", i - 1)]] <- unname(ct$expected[i])
  add(name, "chisq.test", inp, e)
}
srm_case("srm_balanced", c(1000, 980), c(1, 1), "ok")
srm_case("srm_zero_arm", c(500, 0, 480), c(1, 1, 1), "mismatch")
srm_case("srm_weighted", c(1000, 520, 440), c(2, 1, 1), "ok")
srm_case("srm_weighted_mismatch", c(1000, 600, 400), c(2, 1, 1), "mismatch")
srm_case("srm_not_enough", c(3, 2), c(1, 1), "not_enough_traffic")

# ---- Claims -----------------------------------------------------------------
share_claim <- function(k, n, stated, survey_n, margin = 0.05) {
  p <- k / n
  se <- sqrt(p * (1 - p) / n + stated * (1 - stated) / survey_n)
  g <- p - stated
  e <- list(revealed = p, revealed_ci = interval(wilson(k, n)), stated = stated, gap = g,
            p_value = binom.test(k, n, 0.5)$p.value, units = n)
  if (se > 0) {
    e$gap_ci <- interval(g + c(-1, 1) * qnorm(1 - ALPHA / 2) * se)
    e$equivalence_ci <- interval(g + c(-1, 1) * qnorm(1 - ALPHA) * se)
    e$gap_p_value <- 2 * pnorm(-abs(g / se))
    eq <- g - qnorm(1 - ALPHA) * se > -margin && g + qnorm(1 - ALPHA) * se < margin
    e$magnitude <- if (eq) "matches" else if (e$gap_p_value < ALPHA) (if (g < 0) "overstated" else "understated") else "unclear"
  } else {
    e$gap_p_value <- NA
    e$magnitude <- if (abs(g) < margin) "matches" else if (g < 0) "overstated" else "understated"
  }
  e
}
prefix_list <- function(l, prefix) setNames(l, paste0(prefix, ".", names(l)))

# The human-vs-bot share: 61% of 2000 chose the human, against a stated 74%
# of 2128. The metric's own comparison (presentation order) is in the family.
k1 <- 590; n1 <- 1000; k2 <- 630; n2 <- 1000
b <- binary_welch(k1, n1, k2, n2)
sc <- share_claim(k1 + k2, n1 + n2, 0.74, 2128)
padj <- p.adjust(c(b$p, sc$p_value), "holm")
e <- prefix_list(sc, "claims.0")
e[["claims.0.p_adjusted"]] <- padj[2]
e[["claims.0.verdict"]] <- if (padj[2] < ALPHA) "holds" else "inconclusive"
e[["metrics.0.comparisons.0.p_adjusted"]] <- padj[1]
e[["family_size"]] <- 2
e[["power_alpha"]] <- ALPHA / 2
add("claim_share_human", "binom.test; prop.test (Wilson); unpooled z; p.adjust(holm)",
    input(c("human_first", "bot_first"), list(metric("chose_human", "binary",
      list(arm("human_first", stats_binary(k1, n1)), arm("bot_first", stats_binary(k2, n2))))),
      Claims = arr(list(statement = "stated", id = "human", kind = "share", metric = "chose_human", stated_share = 0.74,
                        survey_n = 2128, option = "a human"))), e)

share_only <- function(name, k, n, stated, verdict, extra = list()) {
  sc <- share_claim(k, n, stated, 2128)
  e <- prefix_list(sc, "claims.0")
  e[["claims.0.p_adjusted"]] <- sc$p_value   # the only p-value in the family
  e[["claims.0.verdict"]] <- verdict
  add(name, "binom.test; prop.test (Wilson); unpooled z",
      input(c("a", "b"), list(metric("chose", "binary",
        list(arm("a", stats_binary(k, n)), arm("b", stats_binary(0, 0))))),
        Claims = arr(c(list(statement = "stated", id = "c", kind = "share", metric = "chose", stated_share = stated, survey_n = 2128), extra))), e)
}
share_only("claim_share_zero_percent", 0, 50, 0.74, "contradicted")
share_only("claim_share_hundred_percent", 50, 50, 1.0, "holds")
share_only("claim_share_matches", 2940, 4000, 0.74, "holds")
share_only("claim_share_understated", 1600, 2000, 0.58, "holds")
share_only("claim_share_below_half", 700, 2000, 0.42, "holds")
sc <- share_claim(27, 50, 0.58, 2128)
need <- ceiling(((qnorm(1 - ALPHA / 2) * 0.5 + Z80 * sqrt(0.54 * 0.46)) / (0.54 - 0.5))^2 - 50)
share_only("claim_share_inconclusive", 27, 50, 0.58, "inconclusive")
cases[[length(cases)]]$expect[["claims.0.units_needed"]] <- need

# segment_gap: Gen Z 76% vs Boomers 51%, revealed from two segments.
ka <- 330; na <- 500; kb <- 290; nb <- 480
pa <- ka / na; pb <- kb / nb
se <- sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
d <- pa - pb; ds <- 0.76 - 0.51
seg <- sqrt(se^2 + 0.76 * 0.24 / 400 + 0.51 * 0.49 / 600)
pdir <- 2 * pnorm(-abs(d / se))
gp <- 2 * pnorm(-abs((d - ds) / seg))
seg_metric <- function(k, n) arr(metric("teach", "binary", list(arm("a", stats_binary(k, n)))))
add("claim_segment_gap", "unpooled two-proportion z (formula)",
    input(c("a", "b"), list(metric("teach", "binary", list(arm("a", stats_binary(ka + kb, na + nb))))),
      Segments = arr(list(Attribute = "generation", Value = "genz", Metrics = seg_metric(ka, na)),
                     list(Attribute = "generation", Value = "boomer", Metrics = seg_metric(kb, nb))),
      Claims = arr(list(statement = "stated", id = "gen", kind = "segment_gap", metric = "teach", segment_a = "generation=genz",
                        segment_b = "generation=boomer", stated_a = 0.76, stated_b = 0.51,
                        survey_n_a = 400, survey_n_b = 600, survey_n = 1000))),
    list("claims.0.revealed" = d, "claims.0.revealed_ci" = interval(d + c(-1, 1) * qnorm(0.975) * se),
         "claims.0.stated" = ds, "claims.0.gap" = d - ds,
         "claims.0.gap_ci" = interval(d - ds + c(-1, 1) * qnorm(0.975) * seg),
         "claims.0.gap_p_value" = gp, "claims.0.p_value" = pdir, "claims.0.p_adjusted" = pdir,
         "claims.0.verdict" = if (pdir < ALPHA) "holds" else "inconclusive",
         "claims.0.magnitude" = if (gp < ALPHA) "overstated" else "unclear",
         "claims.0.units_needed" = if (pdir < ALPHA) NA else
           max(0, ceiling(((qnorm(0.975) + Z80) * se / d)^2 * (na + nb) - (na + nb)))))

# effect claim: "human" preferred over the control "bot" on satisfaction.
yc <- rnorm(200, 3.8, 1); yt <- rnorm(200, 3.95, 1)
tt <- t.test(yt, yc)
stated <- 0.5
se <- tt$stderr; df <- unname(tt$parameter); g <- mean(yt) - mean(yc) - stated
e <- list("claims.0.revealed" = mean(yt) - mean(yc), "claims.0.revealed_ci" = interval(tt$conf.int),
          "claims.0.p_value" = tt$p.value,
          "claims.0.p_adjusted" = p.adjust(c(tt$p.value, tt$p.value), "holm")[2],
          "claims.0.gap" = g, "claims.0.gap_ci" = interval(g + c(-1, 1) * qt(0.975, df) * se),
          "claims.0.equivalence_ci" = interval(g + c(-1, 1) * qt(0.95, df) * se),
          "claims.0.gap_p_value" = 2 * pt(-abs(g / se), df))
add("claim_effect", "t.test; p.adjust(holm)",
    input(c("bot", "human"), list(metric("satisfaction", "mean",
      list(arm("bot", stats_mean(yc)), arm("human", stats_mean(yt))))),
      Claims = arr(list(statement = "stated", id = "e", kind = "effect", survey_n = 1000, metric = "satisfaction", preferred = "human",
                        stated_effect = stated, margin = 0.2))), e)

# effect claim on a lower-is-better metric (minutes to resolution): the
# preferred variant is significantly slower, so the claim is contradicted.
yc <- rexp(300, 1 / 10); yt <- rexp(300, 1 / 13)
tt <- t.test(yt, yc)
add("claim_effect_contradicted", "t.test; p.adjust(holm)",
    input(c("bot", "human"), list(metric("minutes", "mean",
      list(arm("bot", stats_mean(yc)), arm("human", stats_mean(yt))), higher = FALSE)),
      Claims = arr(list(statement = "stated", id = "e", kind = "effect", survey_n = 1000, metric = "minutes", preferred = "human"))),
    list("claims.0.p_value" = tt$p.value, "claims.0.p_adjusted" = p.adjust(c(tt$p.value, tt$p.value), "holm")[2],
         "claims.0.verdict" = if (p.adjust(c(tt$p.value, tt$p.value), "holm")[2] < ALPHA) "contradicted" else "inconclusive",
         "claims.0.revealed" = mean(yt) - mean(yc), "claims.0.stated" = NA,
         "metrics.0.comparisons.0.chance_to_win" =
           pnorm(-((mean(yt) - mean(yc)) / mean(yc)) / rel_se(mean(yt), mean(yc), var(yt), 300, var(yc), 300))))

# ---- multiple comparisons ---------------------------------------------------
mc_case <- function(name, correction, method) {
  set.seed(7)
  y <- lapply(c(0, 0.25, 0.6), function(m) rnorm(80, 5 + m, 1.5))
  ks <- c(410, 455, 440); ns <- c(1000, 1000, 1000)
  ps <- c(t.test(y[[2]], y[[1]])$p.value, t.test(y[[3]], y[[1]])$p.value,
          binary_welch(ks[1], ns[1], ks[2], ns[2])$p, binary_welch(ks[1], ns[1], ks[3], ns[3])$p,
          binom.test(sum(ks), sum(ns), 0.5)$p.value)
  adj <- p.adjust(ps, method)
  keys <- c("control", "t1", "t2")
  inp <- input(keys, list(
    metric("m", "mean", lapply(1:3, function(i) arm(keys[i], stats_mean(y[[i]])))),
    metric("b", "binary", lapply(1:3, function(i) arm(keys[i], stats_binary(ks[i], ns[i]))))),
    Correction = correction,
    Claims = arr(list(statement = "stated", id = "c", kind = "share", metric = "b", stated_share = 0.6, survey_n = 500)))
  paths <- c("metrics.0.comparisons.0", "metrics.0.comparisons.1",
             "metrics.1.comparisons.0", "metrics.1.comparisons.1", "claims.0")
  e <- list(family_size = 5)
  for (i in seq_along(paths)) {
    e[[paste0(paths[i], ".p_value")]] <- ps[i]
    e[[paste0(paths[i], ".p_adjusted")]] <- adj[i]
    if (i < 5) e[[paste0(paths[i], ".significant")]] <- adj[i] < ALPHA
  }
  add(name, paste0("p.adjust(", method, ")"), inp, e)
}
mc_case("correction_holm", "holm", "holm")
mc_case("correction_bh", "bh", "BH")
mc_case("correction_none", "none", "none")

# ---- ratio metrics ----------------------------------------------------------
# Reference by linearisation: the delta-method variance of ΣM/ΣD equals
# var(M − R·D)/D̄² per unit, computed here from the raw units with var().
ratio_arm <- function(m, d) {
  r <- sum(m) / sum(d)
  list(mean = r, v = var(m - r * d) / mean(d)^2, n = length(m))
}
dc <- 1 + rpois(300, 3); mc_ <- rbinom(300, dc, 0.6) + rnorm(300, 0, 0.3)
dt <- 1 + rpois(250, 3.3); mt_ <- rbinom(250, dt, 0.66) + rnorm(250, 0, 0.3)
A <- ratio_arm(mc_, dc); B <- ratio_arm(mt_, dt)
vc <- A$v / A$n; vt <- B$v / B$n; se <- sqrt(vc + vt)
df <- (vc + vt)^2 / (vt^2 / (B$n - 1) + vc^2 / (A$n - 1))
d <- B$mean - A$mean; q <- qt(0.975, df)
rs <- rel_se(B$mean, A$mean, B$v, B$n, A$v, A$n)
add("ratio_delta_method", "linearisation with var(); Welch formula with pt",
    input(c("control", "treatment"), list(metric("csat_per_rating", "ratio",
      list(arm("control", stats_ratio(mc_, dc)), arm("treatment", stats_ratio(mt_, dt)))))),
    list("metrics.0.variants.0.mean" = A$mean, "metrics.0.variants.0.sd" = sqrt(A$v),
         "metrics.0.comparisons.0.abs_effect" = d, "metrics.0.comparisons.0.se" = se,
         "metrics.0.comparisons.0.df" = df, "metrics.0.comparisons.0.p_value" = 2 * pt(-abs(d / se), df),
         "metrics.0.comparisons.0.abs_ci" = interval(d + c(-1, 1) * q * se),
         "metrics.0.comparisons.0.rel_effect" = d / A$mean,
         "metrics.0.comparisons.0.rel_ci" = interval(d / A$mean + c(-1, 1) * q * rs)))

# ---- CUPED ------------------------------------------------------------------
# θ pooled over both arms; t.test on the adjusted per-unit values y − θx
# gives the same effect, standard error and Welch df as the sufficient
# statistics (sample variances throughout).
xc <- rnorm(400, 20, 5); yc <- 5 + 0.8 * xc + rnorm(400, 0, 3)
xt <- rnorm(380, 20, 5); yt <- 5.6 + 0.8 * xt + rnorm(380, 0, 3)
theta <- cov(c(yc, yt), c(xc, xt)) / var(c(xc, xt))
ta <- t.test(yt - theta * xt, yc - theta * xc)
tu <- t.test(yt, yc)
mcy <- mean(yc); mty <- mean(yt)
vadj_t <- var(yt - theta * xt)
relv <- vadj_t / (length(yt) * mcy^2) +
  (var(yc) * mty^2 / mcy^2 - 2 * theta * cov(yc, xc) * mty / mcy + theta^2 * var(xc)) / (length(yc) * mcy^2)
dadj <- unname(ta$estimate[1] - ta$estimate[2]); q <- qt(0.975, ta$parameter)
add("cuped", "t.test on y − θx with θ = cov/var pooled; gbstats relative variance",
    input(c("control", "treatment"), list(metric("revenue", "mean",
      list(arm("control", stats_mean(yc, xc)), arm("treatment", stats_mean(yt, xt))), CUPED = TRUE))),
    list("metrics.0.comparisons.0.cuped.theta" = theta,
         "metrics.0.comparisons.0.cuped.variance_reduction" = 1 - ta$stderr^2 / tu$stderr^2,
         "metrics.0.comparisons.0.abs_effect" = dadj, "metrics.0.comparisons.0.se" = ta$stderr,
         "metrics.0.comparisons.0.df" = unname(ta$parameter), "metrics.0.comparisons.0.p_value" = ta$p.value,
         "metrics.0.comparisons.0.abs_ci" = interval(ta$conf.int),
         "metrics.0.comparisons.0.rel_effect" = dadj / abs(mcy),
         "metrics.0.comparisons.0.rel_ci" = interval(dadj / abs(mcy) + c(-1, 1) * q * sqrt(relv)),
         "metrics.0.variants.0.mean" = mcy))

# ---- Bayesian: a proper prior N(0, 0.3²) on the relative effect ------------
yc <- welch_mean_data$yc; yt <- welch_mean_data$yt
rel <- (mean(yt) - mean(yc)) / abs(mean(yc))
s2 <- rel_se(mean(yt), mean(yc), var(yt), length(yt), var(yc), length(yc))^2
post_prec <- 1 / 0.09 + 1 / s2
post_mean <- (0 / 0.09 + rel / s2) / post_prec
add("bayes_proper_prior", "conjugate Gaussian posterior, pnorm",
    input(c("control", "treatment"), list(metric("m", "mean",
      list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt))),
      Prior = list(Mean = 0, Variance = 0.09)))),
    list("metrics.0.comparisons.0.chance_to_win" = pnorm(post_mean * sqrt(post_prec))))

# ---- sequential: asymptotic confidence sequence (Waudby-Smith et al. 2023) --
# Written from the paper (eq. 9 and 161), with N = n_t + n_c and per-unit
# variance σ² = se²·N, as GrowthBook does.
cs_rho2 <- function(alpha, nstar) (-2 * log(alpha) + log(-2 * log(alpha) + 1)) / nstar
cs_half <- function(se, N, alpha, nstar) {
  r2 <- cs_rho2(alpha, nstar)
  sqrt(se^2 * N) * sqrt(2 * (N * r2 + 1) / (N^2 * r2) * log(sqrt(N * r2 + 1) / alpha))
}
cs_p <- function(d, se, N, alpha, nstar) {
  r2 <- cs_rho2(alpha, nstar)
  min(1, 1 / (exp(r2 * (d^2 * N / se^2) / (2 * (N * r2 + 1))) / sqrt(N * r2 + 1)))
}
tt <- t.test(yt, yc); d <- mean(yt) - mean(yc); N <- length(yc) + length(yt)
rsd <- sqrt(s2)
for (nstar in c(5000, 200)) {
  p <- cs_p(d, tt$stderr, N, ALPHA, nstar)
  h <- cs_half(tt$stderr, N, ALPHA, nstar)
  prior <- 1e-4
  add(sprintf("sequential_nstar_%d", nstar), "asymptotic CS formula (paper eq. 9, 161)",
      input(c("control", "treatment"), list(metric("m", "mean",
        list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt))))),
        Sequential = list(NStar = nstar, Prior = arr(
          list(Metric = "m", Variant = "treatment", PValue = 0.5),
          list(Metric = "m", Variant = "treatment", PValue = prior),
          list(Metric = "other", Variant = "treatment", PValue = 1e-9)))),
      list("metrics.0.comparisons.0.p_value_snapshot" = p,
           "metrics.0.comparisons.0.p_value" = min(p, prior),
           "metrics.0.comparisons.0.abs_ci" = interval(d + c(-1, 1) * h),
           "metrics.0.comparisons.0.rel_ci" = interval(rel + c(-1, 1) * cs_half(rsd, N, ALPHA, nstar)),
           "sequential.n_star" = nstar))
}
# Without prior snapshots, the power figures under the sequential boundary:
# the MDE is (half-width/se + z₀.₈)·se at the current N.
p <- cs_p(d, tt$stderr, N, ALPHA, 5000)
add("sequential_power", "asymptotic CS formula",
    input(c("control", "treatment"), list(metric("m", "mean",
      list(arm("control", stats_mean(yc)), arm("treatment", stats_mean(yt))))),
      Sequential = list(NStar = 5000)),
    list("metrics.0.comparisons.0.p_value" = p,
         "metrics.0.comparisons.0.mde" = cs_half(tt$stderr, N, ALPHA, 5000) + Z80 * tt$stderr))

# ---- segments and heterogeneity -------------------------------------------
seg_data <- function(mu_c, mu_t, n) list(c = rnorm(n, mu_c, 2), t = rnorm(n, mu_t, 2))
segs <- list(s1 = seg_data(10, 10.2, 150), s2 = seg_data(10, 11.5, 160), s3 = seg_data(10, 10.8, 140))
seg_input <- function(names_) {
  input(c("control", "treatment"), list(metric("m", "mean",
    list(arm("control", stats_mean(unlist(lapply(segs[names_], `[[`, "c")))),
         arm("treatment", stats_mean(unlist(lapply(segs[names_], `[[`, "t"))))))),
    Segments = lapply(names_, function(s) list(Attribute = "region", Value = s, Metrics = arr(
      metric("m", "mean", list(arm("control", stats_mean(segs[[s]]$c)), arm("treatment", stats_mean(segs[[s]]$t))))))))
}
eff <- sapply(segs, function(s) { tt <- t.test(s$t, s$c); c(d = mean(s$t) - mean(s$c), se = tt$stderr, p = tt$p.value) })
z <- (eff["d", 1] - eff["d", 2]) / sqrt(eff["se", 1]^2 + eff["se", 2]^2)
e <- list("heterogeneity.0.method" = "z", "heterogeneity.0.statistic" = unname(z),
          "heterogeneity.0.p_value" = unname(2 * pnorm(-abs(z))),
          "segments.0.attribute" = "region", "segments.0.value" = "s1",
          "segments.0.metrics.0.comparisons.0.p_value" = unname(eff["p", 1]),
          "segments.1.metrics.0.comparisons.0.p_value" = unname(eff["p", 2]))
add("heterogeneity_two_segments", "t.test per segment; z-test of the difference", seg_input(c("s1", "s2")), e)
w <- 1 / eff["se", ]^2; dbar <- sum(w * eff["d", ]) / sum(w); Q <- sum(w * (eff["d", ] - dbar)^2)
add("heterogeneity_cochran_q", "t.test per segment; Cochran's Q with pchisq", seg_input(c("s1", "s2", "s3")),
    list("heterogeneity.0.method" = "cochran_q", "heterogeneity.0.statistic" = Q, "heterogeneity.0.df" = 2,
         "heterogeneity.0.p_value" = pchisq(Q, 2, lower.tail = FALSE),
         "heterogeneity.0.i2" = max(0, (Q - 2) / Q)))

# ---- percentile caps: R's default quantile (type 7) -------------------------
x <- rexp(1001, 0.1)
caps <- list(values = x, probs = c(0.5, 0.9, 0.99, 1, 0),
             expect = unname(quantile(x, c(0.5, 0.9, 0.99, 1, 0), type = 7)))

# ---- p.adjust on its own, with ties and tiny values --------------------------
p_sets <- list(c(0.01, 0.04, 0.03, 0.005, 0.5), c(0.02, 0.02, 0.02, 0.9), c(1e-300, 0.3, 1e-30, 0.049),
               c(0.8), c(0.6, 0.7, 0.9, 0.95))
p_adjust <- lapply(p_sets, function(p) list(p = as.list(p),
  holm = as.list(p.adjust(p, "holm")), bh = as.list(p.adjust(p, "BH"))))

cat(paste0('{"generator":"generate.R","r_version":"', R.version.string, '","alpha":', ALPHA,
           ',"cases":', to_json(cases), ',"percentile_caps":', to_json(caps),
           ',"p_adjust":', to_json(p_adjust), "}\n"),
    file = "../golden_r.json")
cat("wrote", length(cases), "cases\n")
