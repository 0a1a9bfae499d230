"""One detection step, written once for a bank of series (numpy) and for one series (floats).

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
   an allowance (a moderate surge that lasts adds up), a CUSUM of the rate of extreme buckets,
   and for values a mean-shift test (the last hour's mean against the long mean). A spike opens
   an incident when the evidence passes the threshold, with a minimum count, a minimum share of
   distinct authors, a warm-up and a cooldown; the incident is back to baseline after calm
   buckets in a row.
5. **Learning.** Baselines learn winsorised values, and the error and calibration statistics
   stop learning while an incident is open (for at most `max_freeze`), so a spike does not
   raise its own baseline.

`step` takes the state as a dict of per-series quantities and an `xp` (ops.py): numpy arrays
with `ArrayOps` (SpikeBank), plain Python numbers with `SCALAR` (SeriesState), where a step
costs tens of microseconds instead of the ~600 µs numpy needs on one-element arrays.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import stats
from .ops import SCALAR, ArrayOps, Table
from .params import SpikeParams
from .state import (
    CALIB_BINS, CALIB_EDGES, CALIB_LINEAR, CALIB_RATIO, CALIB_WIDTH, DAILY, DAY, FLAT, MAX_VISITS, N_PRED,
    PREDICTOR_NAMES, WEEK, WEEKLY, Layout,
)

_MONDAY = 4 * DAY  # 1970-01-05 was a Monday: weekly slot 0 starts on Mondays, 00:00 UTC
_SCALE_FLOOR = 1e-3  # relative floor of the predictive sd, so a flat line does not give z = inf
_LOG10_2 = math.log10(2)
_CALIB_RESCALE = 2.0**30  # the calibration's growing weight is folded back into the bins past this
_INF = math.inf
# the rate of extremes a Bernoulli CUSUM looks for, as a multiple of the calibrated rate
# (1 - tail_quantile): 20 times 1% is one bucket in five
RATE_RATIO = 20.0
_MIN_FACTOR = 1e-3  # floor of a count profile's factor and level when dividing by them
_LINEAR_TOP = CALIB_LINEAR * CALIB_WIDTH  # surprise where the calibration's bins start to grow
_NAN = math.nan


@functools.lru_cache(maxsize=1)
def _z_of_bins() -> np.ndarray:
    """The normal quantile of each calibration bin's upper edge (one-sided)."""
    return np.array([stats.z_of_surprise(u) for u in CALIB_EDGES])


@functools.lru_cache(maxsize=64)
def engine_for(params: SpikeParams) -> "Engine":
    """The engine of a set of settings (engines hold constants only, so series share them)."""
    return Engine(params, Layout.for_params(params))


@dataclass
class StepOutput:
    """Per-series results of one step: arrays aligned with the rows passed in, or plain scalars."""

    expected: object
    log10_p: object  # log10 of the tail probability in the tested direction(s)
    evidence: object  # max(surprise, CUSUM)
    is_spike: object
    back_to_baseline: object
    active: object
    scored: object  # False while there is no baseline yet (first buckets of a series)
    predictor: object  # index of the baseline used (state.PREDICTOR_NAMES), -1 when unscored
    is_count: object


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
        self.calib_grow = 0.5 ** (-1 / params.tail_halflife)
        self.g = params.season_rate
        # an EWMA profile with weight g keeps g / (2 - g) of one observation's variance
        self.profile_noise = params.season_rate / (2 - params.season_rate)
        # buckets that fall in one profile slot (a weekly slot of an hour holds 12 five-minute buckets)
        self.per_slot = (
            1.0,
            max(1.0, float(round(DAY / layout.daily_slots / self.bucket))),
            max(1.0, float(round(WEEK / layout.weekly_slots / self.bucket))),
        )
        # Occam factor: a profile must beat a simpler baseline by a few percent to be used
        self.complexity = (1.0, 1.05, 1.10)
        use = {"none": (FLAT,), "daily": (FLAT, DAILY), "weekly": (FLAT, WEEKLY), "auto": (FLAT, DAILY, WEEKLY)}
        self.candidates = tuple(j in use[params.seasonality] for j in range(N_PRED))
        self.profiles = {DAILY: ("daily", "daily_visits"), WEEKLY: ("weekly", "weekly_visits")}
        # state fields of each baseline: level, error weight, squared error, mean mu, mean mu²
        self.fields = [tuple(f"{name}_{b}" for name in ("level", "err_weight", "sq_err", "mean_mu", "mean_mu2"))
                       for b in PREDICTOR_NAMES]
        self.cusum_cap = 2 * params.threshold
        self.a_shift = 1 - 0.5 ** (1 / params.shift_halflife)
        self.a_shift_long = 1 - 0.5 ** (1 / params.shift_baseline_halflife)
        self.b_shift = 1 - 0.5 ** (1 / params.tail_halflife)
        # the recent mean varies sqrt(a / (2 - a)) as much as one bucket: so does its floor
        self.shift_floor = math.sqrt(self.a_shift / (2 - self.a_shift))
        self.shift_scale = params.threshold / params.shift_z if params.shift_z > 0 else 0.0
        self.warmup = params.warmup.total_seconds()
        self.cooldown = params.cooldown.total_seconds()
        self.max_freeze = params.max_freeze.total_seconds()
        # calibration: the surprise a calibrated law reaches in (1 - tail_quantile) of buckets
        # (each direction has half of that when both are tested)
        self.calib_ref = -math.log10(1 - params.tail_quantile)
        calib_ref_two = self.calib_ref + _LOG10_2
        p0 = 1 - params.tail_quantile
        p1 = min(0.5, RATE_RATIO * p0)
        self.rate_up = math.log10(p1 / p0)
        self.rate_down = math.log10((1 - p1) / (1 - p0))
        self.calib_log_ratio = math.log(CALIB_RATIO)
        # tau for each bin that can hold the quantile: the widening that maps its upper edge to the
        # reference, one- and two-sided
        z_bins = _z_of_bins()
        tau_one = z_bins / stats.z_of_surprise(self.calib_ref)
        tau_two = z_bins / stats.z_of_surprise(calib_ref_two)
        self.tau_one = Table(np.maximum(np.where(CALIB_EDGES > self.calib_ref, tau_one, 1.0), 1.0))
        self.tau_two = Table(np.maximum(np.where(CALIB_EDGES > calib_ref_two, tau_two, 1.0), 1.0))
        self.need_one = 1 - params.tail_quantile
        self.need_two = 0.5 * (1 - params.tail_quantile)

    # --- entry points: fill the buckets missed since the last update (per `gaps`), then step ---
    def advance(self, s: dict[str, np.ndarray], t: float, y: np.ndarray, authors: np.ndarray) -> StepOutput:
        """Many series (arrays aligned with the rows of `s`, updated in place) by one bucket.

        A bucket_start at or before the previous one is taken as the next bucket (no gap).
        Spikes and recoveries that happen inside the filled buckets are reported with this one.
        """
        n = len(y)
        t_arr = np.full(n, float(t))
        fill = np.asarray(self._missed(s, t_arr, ArrayOps(n)))
        spikes = np.zeros(n, dtype=bool)
        backs = np.zeros(n, dtype=bool)
        for j in range(int(fill.max(initial=0)), 0, -1):
            rows = np.flatnonzero(fill >= j)
            sub = {name: arr[rows] for name, arr in s.items()}
            out = self.step(sub, t_arr[rows] - j * self.bucket, np.zeros(len(rows)), np.full(len(rows), np.nan),
                            ArrayOps(len(rows)))
            for name, arr in s.items():
                arr[rows] = sub[name]
            spikes[rows] |= out.is_spike
            backs[rows] |= out.back_to_baseline
        out = self.step(s, t_arr, y, authors, ArrayOps(n))
        out.is_spike = out.is_spike | spikes
        out.back_to_baseline = out.back_to_baseline | (backs & ~s["active"])
        return out

    def advance_one(self, h: dict, t: float, y: float, authors: float) -> StepOutput:
        """One series (`h`: plain numbers, lists and profile rows, updated in place) by one bucket."""
        spikes = backs = False
        for j in range(self._missed(h, t, SCALAR), 0, -1):
            out = self.step(h, t - j * self.bucket, 0.0, _NAN, SCALAR)
            spikes = spikes or out.is_spike
            backs = backs or out.back_to_baseline
        out = self.step(h, t, y, authors, SCALAR)
        out.is_spike = out.is_spike or spikes
        out.back_to_baseline = out.back_to_baseline or (backs and not h["active"])
        return out

    def _missed(self, s, t, xp):
        """Buckets to fill with a zero count before this one."""
        policy = self.p.gaps
        if policy == "skip":
            return xp.to_int(xp.full(0))
        gap = t - s["t_last"]
        gap = xp.where(xp.isfinite(gap), gap, 0.0)  # the first bucket of a series
        missed = xp.maximum(xp.floor(gap / self.bucket + 0.5) - 1, 0.0)
        if policy == "auto":
            missed = xp.where(s["is_count"], missed, 0.0)
        return xp.to_int(xp.minimum(missed, float(self.p.max_gap_fill)))

    def slots(self, t, xp):
        d = xp.to_int(xp.floor(((t % DAY) / DAY) * self.layout.daily_slots))
        w = xp.to_int(xp.floor((((t - _MONDAY) % WEEK) / WEEK) * self.layout.weekly_slots))
        return xp.minimum(d, self.layout.daily_slots - 1), xp.minimum(w, self.layout.weekly_slots - 1)

    # ------------------------------------------------------------------------------------
    def step(self, s: dict, t, y, authors, xp) -> StepOutput:
        """Advance the series in `s` (updated in place) by one bucket."""
        p = self.p
        where, maximum, minimum, gather = xp.where, xp.maximum, xp.minimum, xp.gather
        first = s["n_seen"] == 0
        seen = xp.not_(first)
        was_count = s["is_count"]
        if p.mode == "auto":
            s["is_count"] = was_count & (y >= 0) & (y == xp.floor(y))
        else:
            s["is_count"] = xp.full(p.mode == "count")
        is_count = s["is_count"]
        # a count series that turns out to hold other values relearns its profiles (they are
        # multiplicative for counts, additive for values)
        restart = was_count & xp.not_(is_count) & seen
        if xp.any(restart):
            for prof, vis in self.profiles.values():
                xp.zero_rows(s[vis], restart)
        slot = (None,) + self.slots(t, xp)  # indexed by baseline: DAILY, WEEKLY
        floor = _SCALE_FLOOR * s["magnitude"] + 1e-9

        # 1-2. forecast and predictive law of every baseline; the most accurate lately is used
        counted_and_seen = is_count & seen
        base = []
        for j in range(N_PRED):
            f_level, f_weight, f_sq, f_m1, f_m2 = self.fields[j]
            level = s[f_level]
            if j == FLAT:
                known, fc, widen = seen, level, 1.0
            else:
                prof, vis = self.profiles[j]
                periods = gather(s[vis], slot[j]) / self.per_slot[j]  # days (weeks) the slot was seen
                known = (periods > 0) & seen
                # a count profile seen on few days is shrunk toward the level: one Poisson draw is a poor rate
                shrink = where(counted_and_seen, periods / (periods + 1), 1.0)
                fc = _seasonal(is_count, level, gather(s[prof], slot[j]), shrink, xp)
                # uncertainty of a profile slot: few samples at first, the EWMA's own noise later
                widen = 1 + maximum(1 / maximum(periods, 1e-9), self.profile_noise)
            weight = s[f_weight]
            has_err = weight > 0
            w = where(has_err, weight, 1.0)
            mse = s[f_sq] / w
            mu = where(is_count, maximum(fc, p.min_expected), fc)
            alpha = maximum(0.0, (mse - s[f_m1] / w) / maximum(s[f_m2] / w, 1e-12))
            var = where(is_count, (mu + alpha * mu * mu) * widen, (xp.sqrt(mse * widen) + floor) ** 2)
            base.append((known, has_err, fc, mu, var))
            if not self.candidates[j]:
                score = _INF
            else:
                score = where(known & has_err, mse * self.complexity[j], _INF)
            if j == FLAT:
                best_score, best, e, v = score, xp.full(0), mu, var
            else:
                better = score < best_score
                best_score = where(better, score, best_score)
                best = where(better, j, best)
                e = where(better, mu, e)
                v = where(better, var, v)
        scored = best_score < _INF

        # 3. surprise under the law as is (for calibration) and widened by tau (for decisions)
        share_low = xp.isfinite(authors) & (y > 0) & (authors < p.min_author_share * y)
        y_eff = where(share_low, authors, y)  # too few authors: each counts once
        up_on, down_on = self._directions(is_count, xp)
        both = up_on & down_on
        two_sided = where(both, _LOG10_2, 0.0)
        u0_up = xp.branch(scored & up_on, _tail_up, _zero, y_eff, e, v, 1.0, is_count, xp)
        u0_down = xp.branch(scored & down_on, _tail_down, _zero, y_eff, e, v, 1.0, is_count, xp)
        tau_up, tau_down = s["tau_up"], s["tau_down"]
        u_up = xp.branch(scored & up_on & (tau_up > 1), _tail_up, _same, y_eff, e, v, tau_up, is_count, xp, u0_up)
        u_down = xp.branch(scored & down_on & (tau_down > 1), _tail_down, _same, y_eff, e, v, tau_down, is_count, xp,
                           u0_down)
        # widening only ever discounts evidence (a wider count law can make one post at a near-zero
        # mean more surprising, as it moves mass to 0)
        u_up, u_down = minimum(u_up, u0_up), minimum(u_down, u0_down)
        surprise = maximum(maximum(u_up, u_down) - two_sided, 0.0)

        # 4. evidence, decision and incident state -------------------------------------------
        live = seen & (t - s["t_first"] >= self.warmup) & scored
        k = p.cusum_allowance
        cap = self.cusum_cap
        # (a CUSUM times `live` is 0 where the series is not judged yet)
        s["cusum_up"] = minimum(maximum(s["cusum_up"] + u_up - k, 0.0), cap) * live
        s["cusum_down"] = minimum(maximum(s["cusum_down"] + u_down - k, 0.0), cap) * live
        run = maximum(s["cusum_up"], s["cusum_down"])
        # extremes (calibrated surprise past the calibration's own level, 1% of buckets when all is
        # normal) that come more often than that: a Bernoulli CUSUM for a rate RATE_RATIO times higher
        # For counts only buckets with min_count posts count (a sparse series' single posts are not
        # a burst, however unlikely each one is).
        count_ok = xp.not_(is_count & (y_eff > e)) | (y_eff >= p.min_count)
        extreme = (surprise >= self.calib_ref) & count_ok
        rate = s["rate_cusum"] + where(extreme, self.rate_up, self.rate_down)
        # inside an incident it is capped at the threshold: it keeps the incident open while extremes
        # keep coming (one in about 14 buckets), and lets it end a few buckets after they stop (from
        # twice the threshold, its slow downward steps took four and a half hours)
        s["rate_cusum"] = minimum(maximum(rate, 0.0), where(s["active"], p.threshold, cap)) * live
        shift_ev = self._shift_evidence(s, y_eff, first, up_on, down_on, is_count, floor, live, xp)
        evidence = maximum(maximum(maximum(surprise, run), s["rate_cusum"]), shift_ev)
        # evidence of the law as is, per direction: what the calibration sees (runs of surprise count too)
        s["cusum0_up"] = minimum(maximum(s["cusum0_up"] + u0_up - k, 0.0), cap) * live
        s["cusum0_down"] = minimum(maximum(s["cusum0_down"] + u0_down - k, 0.0), cap) * live
        anomalous = live & (evidence >= p.threshold) & count_ok
        active = s["active"]
        is_spike = anomalous & xp.not_(active) & (t - s["last_onset"] >= self.cooldown)
        calm = where(surprise < p.recovery_threshold, s["calm"] + 1, 0)
        # hysteresis: a mean shift must fall to half its threshold before an incident is over
        back = active & xp.not_(anomalous) & (calm >= p.recovery_buckets) & (shift_ev < 0.5 * p.threshold)
        s["calm"] = where(is_spike, 0, calm)
        s["last_onset"] = where(is_spike, t, s["last_onset"])
        s["active"] = (active | is_spike) & xp.not_(back)
        still = xp.not_(back)
        s["cusum_up"] = s["cusum_up"] * still
        s["cusum_down"] = s["cusum_down"] * still
        s["cusum0_up"] = s["cusum0_up"] * still
        s["cusum0_down"] = s["cusum0_down"] * still
        s["rate_cusum"] = s["rate_cusum"] * (still & xp.not_(is_spike))  # its job is done once an incident opens

        # 5. learning ---------------------------------------------------------------------
        freeze = s["active"] & (t - s["last_onset"] < self.max_freeze)
        # While evidence builds up, baselines learn more slowly (down to a tenth), so a ramp cannot
        # hide in its own baseline; an open incident freezes them until max_freeze, after which a
        # lasting change is learned at the normal speed (the new normal).
        building = minimum(maximum(1 - maximum(s["cusum_up"], s["cusum_down"]) / p.threshold, 0.1), 1.0)
        gate = where(freeze, 0.0, where(s["active"], 1.0, building))
        # the calibration sees every bucket but those inside an open incident; the first bucket of
        # an incident counts, so that events which keep coming back become normal for the series
        learn = live & (xp.not_(freeze) | is_spike)
        self._calibrate(s, "up", maximum(u0_up, s["cusum0_up"]), learn & up_on, both, xp)
        self._calibrate(s, "down", maximum(u0_down, s["cusum0_down"]), learn & down_on, both, xp)
        self._learn(s, t, y, first | restart, base, slot, freeze, gate, xp)
        # The long mean and the spread of the shift learn outside a shift, and in an incident only
        # after max_freeze (a lasting change becomes the new normal, as for the baselines). A shift
        # that builds up is learned ever more slowly (fully up to half the threshold, not at all
        # from the threshold on), so that it cannot widen its own yardstick on the way up.
        building = minimum(maximum(2 - 2 * shift_ev / p.threshold, 0.0), 1.0)
        calm_mean = where(freeze, 0.0, where(s["active"], 1.0, building)) * seen
        b_shift = self.b_shift * calm_mean
        diff = s["shift_recent"] - s["shift_long"]
        s["shift_sq"] = s["shift_sq"] + b_shift * (diff * diff - s["shift_sq"])
        s["shift_weight"] = s["shift_weight"] + b_shift * (1 - s["shift_weight"])
        # a running mean at first (no bias toward the first value), then an EWMA
        a_long = maximum(1 / (s["n_seen"] + 1.0), self.a_shift_long) * calm_mean
        s["shift_long"] = where(first, y_eff, s["shift_long"] + a_long * (y_eff - s["shift_long"]))

        return StepOutput(
            expected=where(scored, e, _NAN),
            log10_p=-where(scored, surprise + two_sided, 0.0),
            evidence=evidence,
            is_spike=is_spike,
            back_to_baseline=back,
            active=s["active"],
            scored=scored,
            predictor=where(scored, best, -1),
            is_count=is_count,
        )

    # ------------------------------------------------------------------------------------
    def _shift_evidence(self, s, y, first, up_on, down_on, is_count, floor, live, xp):
        """Mean-shift test: how far the recent mean (an EWMA over `shift_halflife` buckets) is from
        the long mean, in units of that distance's own usual spread, scaled so that `shift_z` is the
        threshold. It finds changes that each bucket hides: spikes of ordinary size that come
        densely, or a level that moves a little and stays (each bucket is then unremarkable for the
        fast baseline, which follows it)."""
        where, maximum = xp.where, xp.maximum
        s["shift_recent"] = where(first, y, s["shift_recent"] + self.a_shift * (y - s["shift_recent"]))
        if not self.shift_scale:
            return xp.full(0.0)
        weight = s["shift_weight"]
        has = weight > 0
        sd = xp.sqrt(s["shift_sq"] / where(has, weight, 1.0)) + floor * self.shift_floor
        z = (s["shift_recent"] - s["shift_long"]) / sd
        z_up = where(up_on, maximum(z, 0.0), 0.0)
        z_down = where(down_on, maximum(-z, 0.0), 0.0)
        # values only: a count series' fast baseline is slow (six hours) and its CUSUM and rate of
        # extremes already see a lasting surge, while an EWMA of counts would remember one burst
        # for hours and raise it again as a shift once the cooldown is over
        return where(live & has & xp.not_(is_count), maximum(z_up, z_down) * self.shift_scale, 0.0)

    def _directions(self, is_count, xp):
        d = self.p.direction
        if d == "auto":
            return xp.full(True), xp.not_(is_count)
        return xp.full(d in ("up", "both")), xp.full(d in ("down", "both"))

    def _calibrate(self, s, side, evidence0, learn, both, xp) -> None:
        """Add this bucket's evidence in one direction to the series' histogram of it; the tail
        widening of that direction (tau) matches the histogram's upper quantile. When both
        directions are tested, each has half of the tail: together they match tail_quantile."""
        if not xp.any(learn):
            return
        where, gather = xp.where, xp.gather
        hist = s["calib_" + side]
        # the newest bucket weighs 1/decay times the previous one (instead of every bin decaying)
        grown = s["calib_w_" + side] * where(learn, self.calib_grow, 1.0)
        add = grown * learn
        linear = evidence0 < _LINEAR_TOP
        b = xp.to_int(where(linear, evidence0 / CALIB_WIDTH, xp.minimum(
            CALIB_LINEAR + xp.log(xp.maximum(evidence0, _LINEAR_TOP) / _LINEAR_TOP) / self.calib_log_ratio,
            CALIB_BINS - 1.0)))
        xp.scatter(hist, b, gather(hist, b) + add)
        # top: the highest bin with at least (1 - tail_quantile) of the weight at or above it, kept
        # up to date with `above`, the weight at or above it (one bucket moves it a bin or two)
        top = s["calib_top_" + side]
        above = s["calib_above_" + side] + add * (b >= top)
        total = s["calib_total_" + side] + add
        rescale = grown > _CALIB_RESCALE
        if xp.any(rescale):
            factor = where(rescale, 1.0 / grown, 1.0)
            xp.scale_rows(hist, factor)
            total, above, grown = total * factor, above * factor, grown * factor
        need = where(both, self.need_two, self.need_one) * total
        for _ in range(CALIB_BINS):
            rise = learn & (top < CALIB_BINS - 1) & (above - gather(hist, top) >= need)
            if not xp.any(rise):
                break
            above = above - gather(hist, top) * rise
            top = top + rise
        for _ in range(CALIB_BINS):
            fall = learn & (top > 0) & (above < need)
            if not xp.any(fall):
                break
            top = top - fall
            above = above + gather(hist, top) * fall
        s["calib_top_" + side], s["calib_above_" + side] = top, above
        s["calib_total_" + side], s["calib_w_" + side] = total, grown
        tau = where(both, xp.take(self.tau_two, top), xp.take(self.tau_one, top))
        s["tau_" + side] = where(learn, tau, s["tau_" + side])

    def _learn(self, s, t, y, first, base, slot, freeze, gate, xp) -> None:
        p = self.p
        where, maximum, minimum, gather, scatter = xp.where, xp.maximum, xp.minimum, xp.gather, xp.scatter
        is_count = s["is_count"]
        not_frozen = xp.not_(freeze)
        a_fast = where(is_count, self.a_fast_count, self.a_fast_value) * gate
        limit_scale = p.winsorize * maximum(s["tau_up"], s["tau_down"])
        # counts: level and profile of (count + 1), multiplied; values: of the value, added
        first_level = where(first, where(is_count, y + 1, y), 0.0)
        first_profile = where(is_count, 1.0, 0.0)
        for j, (known, has_err, fc, mu, var) in enumerate(base):
            f_level, f_weight, f_sq, f_m1, f_m2 = self.fields[j]
            resid = y - fc
            limit = limit_scale * xp.sqrt(var)
            clipped = where(has_err, minimum(maximum(resid, -limit), limit), resid)  # the first error sets the scale
            # bias-corrected running means: stat += b (x - stat), weight += b (1 - weight); b is 0
            # where the baseline does not learn this bucket
            b = self.b_err * (known & not_frozen)
            s[f_sq] = s[f_sq] + b * (clipped * clipped - s[f_sq])
            s[f_m1] = s[f_m1] + b * (mu - s[f_m1])
            s[f_m2] = s[f_m2] + b * (mu * mu - s[f_m2])
            s[f_weight] = s[f_weight] + b * (1 - s[f_weight])

            # baselines learn the winsorised value; the first visit of a slot takes the value as is
            target = fc + clipped
            level = s[f_level]
            if j == FLAT:
                s[f_level] = where(known, level + a_fast * (target - level), y)
                continue
            prof, vis = self.profiles[j]
            cur = gather(s[prof], slot[j])
            count = gather(s[vis], slot[j])
            lv = where(first, first_level, level)
            if_count = (target + 1) / maximum(cur, _MIN_FACTOR)
            lv = lv + (self.a_level * gate * known) * (where(is_count, if_count, target - cur) - lv)
            # a running mean over the slot's first period, then an EWMA worth g per period
            rate = where(count > 0, maximum(1 / (count + 1), self.g / self.per_slot[j]) * gate, 1.0)
            aim = where(is_count, (target + 1) / maximum(lv, _MIN_FACTOR), target - lv)
            scatter(s[prof], slot[j], where(first, first_profile, cur + rate * (aim - cur)))
            scatter(s[vis], slot[j], minimum(count + 1, MAX_VISITS))
            s[f_level] = lv
        n_seen = s["n_seen"]
        s["magnitude"] = where(n_seen == 0, xp.fabs(y), s["magnitude"] + self.b_err * (xp.fabs(y) - s["magnitude"]))
        s["t_first"] = where(n_seen == 0, t, s["t_first"])
        s["t_last"] = t + 0.0 * y  # one per series
        s["n_seen"] = n_seen + 1


def _seasonal(is_count, level, profile, shrink, xp):
    """Forecast of a profile baseline. Counts: (level + 1) times the slot's factor, minus 1, so a
    rhythm scales with the level (a quiet holiday has quiet nights too) while a sparse series
    (well under one post a bucket) keeps an additive rhythm. Values: level plus the slot's offset."""
    return xp.where(is_count, level * (1 + (profile - 1) * shrink) - 1, level + profile * shrink)


# tails in -log10 units, for branch(): the law widened by tau; counts: the negative binomial with
# the same mean and the variance widened by tau²
def _tail_up(y, e, v, tau, is_count, xp, *_):
    return xp.branch(is_count, _count_up, _value_up, y, e, v, tau, xp)


def _tail_down(y, e, v, tau, is_count, xp, *_):
    return xp.branch(is_count, _count_down, _value_down, y, e, v, tau, xp)


def _count_up(y, e, v, tau, xp):
    return -stats.nb_log_upper(y, e, xp.maximum(0.0, (tau * tau * v - e) / (e * e)), xp) / stats.LN10


def _count_down(y, e, v, tau, xp):
    return -stats.nb_log_lower(y, e, xp.maximum(0.0, (tau * tau * v - e) / (e * e)), xp) / stats.LN10


def _value_up(y, e, v, tau, xp):
    return -stats.norm_logsf((y - e) / (xp.sqrt(v) * tau), xp) / stats.LN10


def _value_down(y, e, v, tau, xp):
    return -stats.norm_logsf((e - y) / (xp.sqrt(v) * tau), xp) / stats.LN10


def _zero(*_):
    return 0.0


def _same(*args):
    return args[-1]
