"""One detection step for many series at once (numpy, no Python loop over series).

For every series, each bucket goes through the same five stages:

1. **Forecast.** Up to three baselines compete: the recent level (flat), a time-of-day profile
   on top of a slow level (daily) and a day-of-week-and-time profile (weekly). The one with the
   lowest recent squared error gives the expected value. A profile slot seen for the first time
   is learned as is, so a daily shape is known after one day; its uncertainty (one sample) is
   part of the predictive variance until the slot has been seen a few times.
2. **Predictive law.** Counts follow a negative binomial whose overdispersion comes from the
   errors (variance mu + alpha mu²); other values a normal law with the error variance.
3. **Calibration.** Each series keeps a histogram of its own evidence (surprise -log10 p, or a
   run of surprise) under the law as is. If the law is right, 1% of buckets reach p = 0.01; a
   series where more do is more erratic than its law (heavy tails, or errors that come in runs),
   and its tails are widened by `tau` until they match: being erratic is learned, not alerted on.
4. **Evidence and decision.** Surprise of the tested direction, plus a CUSUM of surprise above
   an allowance (a moderate surge that lasts adds up). A spike opens an incident when the
   evidence passes the threshold, with a minimum count, a minimum share of distinct authors, a
   warm-up and a cooldown; the incident is back to baseline after calm buckets in a row.
5. **Learning.** Baselines learn winsorised values, and the error and calibration statistics
   stop learning while an incident is open (for at most `max_freeze`), so a spike does not
   raise its own baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import stats
from .params import SpikeParams
from .state import CALIB_BINS, CALIB_WIDTH, DAILY, DAY, FLAT, MAX_VISITS, N_PRED, WEEK, WEEKLY, Layout

_MONDAY = 4 * DAY  # 1970-01-05 was a Monday: weekly slot 0 starts on Mondays, 00:00 UTC
_CALIB_MIN_WEIGHT = 50.0  # buckets needed before the calibration is trusted
_SCALE_FLOOR = 1e-3  # relative floor of the predictive sd, so a flat line does not give z = inf
_LOG10_2 = math.log10(2)


@dataclass
class StepOutput:
    """Per-row results of one step (arrays aligned with the rows passed in)."""

    expected: np.ndarray
    log10_p: np.ndarray  # log10 of the tail probability in the tested direction(s)
    evidence: np.ndarray  # max(surprise, CUSUM)
    is_spike: np.ndarray
    back_to_baseline: np.ndarray
    active: np.ndarray
    scored: np.ndarray  # False while there is no baseline yet (first buckets of a series)
    predictor: np.ndarray  # index of the baseline used (state.PREDICTOR_NAMES), -1 when unscored
    is_count: np.ndarray


class Engine:
    def __init__(self, params: SpikeParams, layout: Layout) -> None:
        self.p = params
        self.layout = layout
        self.bucket = params.bucket_seconds
        fast = (params.fast_halflife, params.fast_halflife) if params.fast_halflife else (72, 12)
        self.a_fast_count = 1 - 0.5 ** (1 / fast[0])
        self.a_fast_value = 1 - 0.5 ** (1 / fast[1])
        self.a_level = 1 - 0.5 ** (self.bucket / params.level_halflife.total_seconds())
        self.b_err = 1 - 0.5 ** (1 / params.error_halflife)
        self.calib_decay = np.float32(0.5 ** (1 / params.tail_halflife))
        self.g = params.season_rate
        # an EWMA profile with weight g keeps g / (2 - g) of one observation's variance
        self.profile_noise = params.season_rate / (2 - params.season_rate)
        # buckets that fall in one profile slot (a weekly slot of an hour holds 12 five-minute buckets)
        self.per_slot = np.array([
            1.0,
            max(1.0, round(DAY / layout.daily_slots / self.bucket)),
            max(1.0, round(WEEK / layout.weekly_slots / self.bucket)),
        ])
        # Occam factor: a profile must beat a simpler baseline by a few percent to be used
        self.complexity = np.array([1.0, 1.05, 1.10])
        use = {"none": (FLAT,), "daily": (FLAT, DAILY), "weekly": (FLAT, WEEKLY), "auto": (FLAT, DAILY, WEEKLY)}
        self.candidates = np.zeros(N_PRED, dtype=bool)
        self.candidates[list(use[params.seasonality])] = True
        self.cusum_cap = 2 * params.threshold
        # calibration: the surprise a calibrated law reaches in (1 - tail_quantile) of buckets,
        # and the normal quantile of each histogram bin's upper edge (one- and two-sided)
        self.calib_ref = -math.log10(1 - params.tail_quantile)
        edges = (np.arange(CALIB_BINS) + 1) * CALIB_WIDTH
        self.z_one = np.array([_z_of_tail(10.0**-u) for u in edges])
        self.z_two = np.array([_z_of_tail(10.0**-u / 2) for u in edges])
        self.z_ref_one = _z_of_tail(10.0**-self.calib_ref)
        self.z_ref_two = _z_of_tail(10.0**-self.calib_ref / 2)

    # ------------------------------------------------------------------------------------
    def advance(self, s: dict[str, np.ndarray], t: float, y: np.ndarray, authors: np.ndarray) -> StepOutput:
        """`step` after filling the buckets missed since each row's last update (per `gaps`).

        A bucket_start at or before the previous one is taken as the next bucket (no gap).
        Spikes and recoveries that happen inside the filled buckets are reported with this one.
        """
        n = len(y)
        t_arr = np.full(n, float(t))
        fill = self._fill_counts(s, t_arr)
        spikes = np.zeros(n, dtype=bool)
        backs = np.zeros(n, dtype=bool)
        for j in range(int(fill.max(initial=0)), 0, -1):
            rows = np.flatnonzero(fill >= j)
            sub = {name: arr[rows] for name, arr in s.items()}
            out = self.step(sub, t_arr[rows] - j * self.bucket, np.zeros(len(rows)), np.full(len(rows), np.nan))
            for name, arr in s.items():
                arr[rows] = sub[name]
            spikes[rows] |= out.is_spike
            backs[rows] |= out.back_to_baseline
        out = self.step(s, t_arr, y, authors)
        out.is_spike |= spikes
        out.back_to_baseline |= backs & ~s["active"]
        return out

    def _fill_counts(self, s: dict[str, np.ndarray], t: np.ndarray) -> np.ndarray:
        policy = self.p.gaps
        if policy == "skip":
            return np.zeros(len(t), dtype=np.int64)
        missed = np.floor((t - s["t_last"]) / self.bucket + 0.5) - 1
        missed = np.where(np.isfinite(missed) & (missed > 0), missed, 0).astype(np.int64)
        if policy == "auto":
            missed = np.where(s["is_count"], missed, 0)
        return np.minimum(missed, self.p.max_gap_fill)

    def slots(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = np.floor((np.mod(t, DAY) / DAY) * self.layout.daily_slots).astype(np.int64)
        w = np.floor((np.mod(t - _MONDAY, WEEK) / WEEK) * self.layout.weekly_slots).astype(np.int64)
        return np.minimum(d, self.layout.daily_slots - 1), np.minimum(w, self.layout.weekly_slots - 1)

    # ------------------------------------------------------------------------------------
    def step(self, s: dict[str, np.ndarray], t: np.ndarray, y: np.ndarray, authors: np.ndarray) -> StepOutput:
        """Advance the rows in `s` (a dict of row arrays, updated in place) by one bucket."""
        p = self.p
        n = len(y)
        idx = np.arange(n)
        first = s["n_seen"] == 0
        if p.mode == "auto":
            s["is_count"] &= (y >= 0) & (y == np.floor(y))
        else:
            s["is_count"][:] = p.mode == "count"
        is_count = s["is_count"]
        dslot, wslot = self.slots(t)

        # 1-2. forecast and predictive variance of every baseline ---------------------------
        dvis = s["daily_visits"][idx, dslot].astype(float)
        wvis = s["weekly_visits"][idx, wslot].astype(float)
        visits = np.column_stack([np.full(n, np.inf), dvis, wvis])  # bucket updates of the slot
        periods = visits / self.per_slot  # how many days (weeks) the slot has been seen
        known = (visits > 0) & ~first[:, None]
        profile = np.column_stack([np.zeros(n), s["daily"][idx, dslot], s["weekly"][idx, wslot]])
        # a count profile seen on few days is shrunk toward the level: one Poisson draw is a poor rate
        frac = np.divide(periods, periods + 1, out=np.ones_like(periods), where=np.isfinite(periods))
        shrink = np.where(is_count[:, None] & known, frac, 1.0)
        fc = s["level"] + profile * np.where(np.isinf(periods), 1.0, shrink)
        # uncertainty of a profile slot: few samples at first, the EWMA's own noise later
        extra = np.where(np.isinf(visits), 0.0, np.maximum(1 / np.maximum(periods, 1e-9), self.profile_noise))
        weight = s["err_weight"]
        has_err = weight > 0
        w = np.where(has_err, weight, 1.0)
        mse = s["sq_err"] / w
        m1 = s["mean_mu"] / w
        m2 = s["mean_mu2"] / w
        mu = np.where(is_count[:, None], np.maximum(fc, p.min_expected), fc)
        alpha = np.maximum(0.0, (mse - m1) / np.maximum(m2, 1e-12))
        floor = _SCALE_FLOOR * s["magnitude"][:, None] + 1e-9
        var_value = (np.sqrt(mse * (1 + extra)) + floor) ** 2
        var_count = (mu + alpha * mu * mu) * (1 + extra)
        var = np.where(is_count[:, None], var_count, var_value)
        usable = known & has_err & self.candidates[None, :]

        # the baseline that has been most accurate lately gives the expectation
        best = np.argmin(np.where(usable, mse * self.complexity, np.inf), axis=1)
        scored = usable[idx, best]
        e = mu[idx, best]
        v = var[idx, best]

        # 3. surprise under the model as is (for calibration) and widened by tau (for decisions)
        share_low = np.isfinite(authors) & (y > 0) & (authors < p.min_author_share * y)
        y_eff = np.where(share_low, authors, y)  # too few authors: each counts once
        up_on, down_on = self._directions(is_count)
        both = up_on & down_on
        u0_up, u0_down = self._surprises(y_eff, e, v, np.ones(n), is_count, scored, up_on, down_on)
        tau = s["tau"]
        wide = scored & (tau > 1)
        u_up, u_down = u0_up.copy(), u0_down.copy()
        if wide.any():
            wu, wd = self._surprises(y_eff[wide], e[wide], v[wide], tau[wide], is_count[wide], scored[wide],
                                     up_on[wide], down_on[wide])
            u_up[wide], u_down[wide] = wu, wd
        surprise = np.maximum(np.maximum(u_up, u_down) - np.where(both, _LOG10_2, 0.0), 0.0)
        surprise0 = np.maximum(np.maximum(u0_up, u0_down) - np.where(both, _LOG10_2, 0.0), 0.0)

        # 4. evidence, decision and incident state -------------------------------------------
        warm = ~first & (t - s["t_first"] >= p.warmup.total_seconds())
        live = warm & scored
        k = p.cusum_allowance
        s["cusum_up"] = np.where(live, np.clip(s["cusum_up"] + u_up - k, 0.0, self.cusum_cap), 0.0)
        s["cusum_down"] = np.where(live, np.clip(s["cusum_down"] + u_down - k, 0.0, self.cusum_cap), 0.0)
        evidence = np.maximum(surprise, np.maximum(s["cusum_up"], s["cusum_down"]))
        # evidence of the law as is: what the calibration sees (runs of surprise count too)
        s["cusum0"] = np.where(live, np.clip(s["cusum0"] + np.maximum(u0_up, u0_down) - k, 0.0, self.cusum_cap), 0.0)
        evidence0 = np.maximum(surprise0, s["cusum0"])
        going_up = y_eff > e
        count_ok = ~(is_count & going_up) | (y_eff >= p.min_count)
        anomalous = live & (evidence >= p.threshold) & count_ok
        active = s["active"]
        cooled = t - s["last_onset"] >= p.cooldown.total_seconds()
        is_spike = anomalous & ~active & cooled
        calm = np.where(surprise < p.recovery_threshold, s["calm"] + 1, 0)
        back = active & ~anomalous & (calm >= p.recovery_buckets)
        s["calm"] = np.where(is_spike, 0, calm)
        s["last_onset"] = np.where(is_spike, t, s["last_onset"])
        s["active"] = (active | is_spike) & ~back
        s["cusum_up"] = np.where(back, 0.0, s["cusum_up"])
        s["cusum_down"] = np.where(back, 0.0, s["cusum_down"])
        s["cusum0"] = np.where(back, 0.0, s["cusum0"])

        # 5. learning ---------------------------------------------------------------------
        freeze = s["active"] & (t - s["last_onset"] < p.max_freeze.total_seconds())
        # While evidence builds up, baselines learn more slowly (down to a tenth), so a ramp cannot
        # hide in its own baseline; an open incident freezes them until max_freeze, after which a
        # lasting change is learned at the normal speed (the new normal).
        building = np.clip(1 - np.maximum(s["cusum_up"], s["cusum_down"]) / p.threshold, 0.1, 1.0)
        gate = np.where(freeze, 0.0, np.where(s["active"], 1.0, building))
        self._calibrate(s, evidence0, live & ~freeze, both)
        self._learn(s, idx, t, y, first, fc, mu, np.sqrt(var) * tau[:, None], known, has_err, dslot, wslot, freeze, gate)

        return StepOutput(
            expected=np.where(scored, e, np.nan),
            log10_p=-np.where(scored, surprise + np.where(both, _LOG10_2, 0.0), 0.0),
            evidence=evidence,
            is_spike=is_spike,
            back_to_baseline=back,
            active=s["active"].copy(),
            scored=scored,
            predictor=np.where(scored, best, -1),
            is_count=is_count.copy(),
        )

    # ------------------------------------------------------------------------------------
    def _directions(self, is_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = self.p.direction
        if d == "auto":
            return np.ones_like(is_count), ~is_count
        return np.full_like(is_count, d in ("up", "both")), np.full_like(is_count, d in ("down", "both"))

    def _surprises(self, y, e, v, tau, is_count, scored, up_on, down_on) -> tuple[np.ndarray, np.ndarray]:
        """-log10 P(X >= y) and -log10 P(X <= y) under each row's law widened by tau (0 if not tested)."""
        n = len(y)
        log_up = np.zeros(n)
        log_down = np.zeros(n)
        val = scored & ~is_count
        if val.any():
            z = (y[val] - e[val]) / (np.sqrt(v[val]) * tau[val])
            log_up[val] = np.where(up_on[val], stats.norm_logsf(z), 0.0)
            log_down[val] = np.where(down_on[val], stats.norm_logsf(-z), 0.0)
        cnt = scored & is_count
        if cnt.any():
            # the negative binomial with the same mean and the variance widened by tau²
            alpha = np.maximum(0.0, (tau**2 * v - e) / (e * e))
            for on, fn, out in ((up_on, stats.nb_log_upper, log_up), (down_on, stats.nb_log_lower, log_down)):
                rows = cnt & on
                if rows.any():
                    out[rows] = fn(y[rows], e[rows], alpha[rows])
        return -log_up / stats.LN10, -log_down / stats.LN10

    def _calibrate(self, s, evidence0, learn, both) -> None:
        """Add this bucket's evidence to the series' histogram; tau matches its upper quantile."""
        if not learn.any():
            return
        rows = np.flatnonzero(learn)
        hist = s["calib"][rows] * self.calib_decay
        b = np.minimum((evidence0[rows] / CALIB_WIDTH).astype(np.int64), CALIB_BINS - 1)
        hist[np.arange(len(rows)), b] += 1
        s["calib"][rows] = hist
        total = hist.sum(axis=1)
        above = np.cumsum(hist[:, ::-1], axis=1)  # weight at or above each bin, from the top
        top = CALIB_BINS - 1 - np.argmax(above >= (1 - self.p.tail_quantile) * total[:, None], axis=1)
        quantile = (top + 1) * CALIB_WIDTH  # upper edge of the bin holding the quantile
        two = both[rows]
        z = np.where(two, self.z_two[top], self.z_one[top])
        z_ref = np.where(two, self.z_ref_two, self.z_ref_one)
        tau = np.where((total >= _CALIB_MIN_WEIGHT) & (quantile > self.calib_ref), z / z_ref, 1.0)
        s["tau"][rows] = np.maximum(tau, 1.0)

    def _learn(self, s, idx, t, y, first, fc, mu, sd, known, has_err, dslot, wslot, freeze, gate) -> None:
        p = self.p
        resid = y[:, None] - fc
        clipped = np.minimum(np.maximum(resid, -p.winsorize * sd), p.winsorize * sd)
        clipped = np.where(has_err, clipped, resid)  # the first error sets the scale unclipped
        learn = known & ~freeze[:, None]

        # bias-corrected running means: stat += b (x - stat), weight += b (1 - weight)
        b = self.b_err
        for name, x in (("sq_err", clipped * clipped), ("mean_mu", mu), ("mean_mu2", mu * mu)):
            s[name] = np.where(learn, s[name] + b * (x - s[name]), s[name])
        s["err_weight"] = np.where(learn, s["err_weight"] + b * (1 - s["err_weight"]), s["err_weight"])

        # baselines learn the winsorised value; the first visit of a slot takes the value as is
        target = fc + clipped
        level = s["level"]
        new_level = level.copy()
        a_fast = np.where(s["is_count"], self.a_fast_count, self.a_fast_value) * gate
        a_level = self.a_level * gate
        flat = level[:, FLAT] + a_fast * (target[:, FLAT] - level[:, FLAT])
        new_level[:, FLAT] = np.where(known[:, FLAT], flat, y)
        for j, prof, vis, slot in ((DAILY, "daily", "daily_visits", dslot), (WEEKLY, "weekly", "weekly_visits", wslot)):
            cur = s[prof][idx, slot].astype(float)
            count = s[vis][idx, slot].astype(np.int64)
            lv = np.where(first, y, level[:, j])
            lv_new = np.where(known[:, j], lv + a_level * (target[:, j] - cur - lv), lv)
            # a running mean over the slot's first period, then an EWMA worth g per period
            rate = np.maximum(1 / (count + 1), self.g / self.per_slot[j]) * np.where(count > 0, gate, 1.0)
            s[prof][idx, slot] = np.where(first, 0.0, cur + rate * (target[:, j] - lv_new - cur))
            s[vis][idx, slot] = np.minimum(count + 1, MAX_VISITS)
            new_level[:, j] = lv_new
        s["level"] = new_level
        s["magnitude"] = np.where(first, np.abs(y), s["magnitude"] + b * (np.abs(y) - s["magnitude"]))
        s["t_first"] = np.where(first, t, s["t_first"])
        s["t_last"] = np.broadcast_to(t, y.shape).astype(float)
        s["n_seen"] = s["n_seen"] + 1


def _z_of_tail(p: float) -> float:
    """z with P(Z >= z) = p (bisection; only used to build small tables)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(mid / math.sqrt(2)) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
