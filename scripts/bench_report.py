#!/usr/bin/env python3
# The report of scripts/bench.sh: reads its results (one JSON line per mode, workload and round)
# and prints the table, the same-run ratios and the targets, and writes the JSON.
#
# With several rounds (bench.sh --repeat N: the modes run in turn, N times) every figure in the
# table is the MEDIAN over the rounds of that mode's figure, and every ratio is taken between
# those medians, so one lucky or unlucky round moves nothing. The spread (min / median / max per
# round) of the figures a change is judged on follows the table.
#
#   bench_report.py RESULTS.jsonl OUT.json PRESET NOTES_JSON   (BENCH_STEAL_S, BENCH_WALL_S set)
import datetime
import json
import os
import statistics
import sys


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def median_figures(runs):
    """One figures dict from a round's dicts: numbers become their median (recursively)."""
    out = {}
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        if all(is_number(v) for v in values):
            out[key] = statistics.median(values)
        elif all(isinstance(v, dict) for v in values):
            out[key] = median_figures(values)
        elif key == "errors":
            out[key] = [e for v in values for e in v][:5]
        else:
            out[key] = values[0]
    return out


def load(path):
    """-> (modes in order, {(mode, workload, n): [figures per round]}, recorder lines, rounds)."""
    modes, runs, recorder, rounds = [], {}, {}, set()
    for line in open(path):
        r = json.loads(line)
        rounds.add(r.get("round", 1))
        if "recorder" in r:
            recorder.setdefault(r["mode"], []).append(r["recorder"])
            continue
        f = r["figures"]
        if r["mode"] not in modes:
            modes.append(r["mode"])
        key = (r["mode"], f["workload"], f.get("sessions", f.get("connections")))
        runs.setdefault(key, []).append(f)
    return modes, runs, recorder, max(rounds) if rounds else 1


def why_broken(w, f):
    """Why one workload's run carried nothing (None if it did)."""
    if w in ("realtime", "saturate") and (f["opened"] == 0 or f["received"] == 0):
        return f"nothing relayed ({f.get('errors')})"
    if w == "http" and (f["requests_ok"] == 0 or f["sse_ok"] == 0):
        return f"no request or SSE answered ({f.get('errors')})"
    if w == "idle" and f["opened"] == 0:
        return f"no session opened ({f.get('errors')})"
    return None


def broken_runs(runs):
    broken = []
    for (mode, w, n), fs in runs.items():
        for i, f in enumerate(fs, 1):
            why = why_broken(w, f)
            if why:
                broken.append(f"{mode} {w} n={n} round {i}: {why}")
    return broken


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


class Report:
    def __init__(self, modes, runs):
        self.modes, self.runs = modes, runs
        # A broken round (the benchmark failed, the script exits 1) stays out of the medians.
        self.runs = {k: [f for f in fs if not why_broken(k[1], f)] or fs
                     for k, fs in runs.items()}
        self.by = {k: median_figures(fs) for k, fs in self.runs.items()}
        self.lines = []

    def get(self, mode, w, n=None):
        for (m, ww, nn), f in self.by.items():
            if m == mode and ww == w and (n is None or nn == n):
                return f
        return None

    def per_round(self, mode, w, n, pick):
        for (m, ww, nn), fs in self.runs.items():
            if m == mode and ww == w and (n is None or nn == n):
                return [pick(f) for f in fs]
        return []

    def row(self, *cols, widths=(14, 8, 6, 8, 8, 8, 8, 8, 7, 7, 8, 9)):
        self.lines.append("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                    for i, (c, w) in enumerate(zip(cols, widths))))

    def realtime_ns(self):
        return sorted({n for (m, w, n) in self.by if w == "realtime"})

    def realtime_tables(self):
        for n in self.realtime_ns():
            self.lines.append(
                f"realtime cadence: {n} sessions, one ~6.5 KB append per 20 ms each, echoed")
            self.row("mode", "echoed", "echo%", "p50 ms", "p99 ms", "p99.9ms", "max ms", "unsent",
                     "lost", ">100ms", "+p99 ms", "CPU s/GB")
            direct = self.get("direct", "realtime", n)
            for mode in self.modes:
                f = self.get(mode, "realtime", n)
                if f:
                    self.realtime_row(mode, f, direct)
            self.lines.append("")

    def realtime_row(self, mode, f, direct):
        lat = f["latency"]
        added = None if not direct else lat["p99_ms"] - direct["latency"]["p99_ms"]
        f["added_p50_ms"] = None if not direct else lat["p50_ms"] - direct["latency"]["p50_ms"]
        f["added_p99_ms"] = added
        f["added_p999_ms"] = None if not direct else lat["p999_ms"] - direct["latency"]["p999_ms"]
        due = f["sent"] + f.get("unsent", 0)
        f["echoed_fraction"] = f["received"] / due if due else None
        self.row(mode, fmt(f["received"], ".0f"),
                 fmt(f["echoed_fraction"] and 100 * f["echoed_fraction"], ".1f"),
                 fmt(lat["p50_ms"]), fmt(lat["p99_ms"]), fmt(lat["p999_ms"]), fmt(lat["max_ms"]),
                 fmt(f.get("unsent", 0), ".0f"), fmt(f["lost"], ".0f"),
                 fmt(lat["delayed_over_100ms"], ".0f"), fmt(added),
                 fmt(f.get("proxy_cpu_s_per_gb")))

    def summary_table(self):
        self.lines.append("saturation / HTTP / idle / CPU")
        self.row("mode", "msgs/s", "MB/s", "req/s", "http p99", "SSE 1st", "idle", "KiB/sess",
                 "CPU s/GB", widths=(14, 9, 8, 8, 8, 8, 7, 9, 9))
        for mode in self.modes:
            s, h, i = self.get(mode, "saturate"), self.get(mode, "http"), self.get(mode, "idle")
            self.row(mode, fmt(s and s["msgs_per_s"], ".0f"), fmt(s and s["mb_per_s_each_way"], ".1f"),
                     fmt(h and h["req_per_s"], ".0f"), fmt(h and h["p99_ms"]),
                     fmt(h and h["sse_ttfe_p50_ms"]), fmt(i and i["opened"], ".0f"),
                     fmt(i and i.get("rss_kib_per_session"), ".1f"),
                     fmt(s and s.get("proxy_cpu_s_per_gb"), ".2f"),
                     widths=(14, 9, 8, 8, 8, 8, 7, 9, 9))
        self.lines += [
            "(echo%: echoed / due; latency and +p99 (added against direct) describe only the "
            "echoed messages, so read them together with echo%)",
            "(unsent: due before the end of the run but not yet sent: the client could not keep "
            "the 20 ms cadence; lost: sent, never echoed within the drain time)",
            "(MB/s: payload per direction; SSE 1st: p50 ms to the first event; CPU s/GB: the "
            "proxy's utime+stime over that run per GB relayed, both directions: the same work at "
            "the same cadence, so it depends little on how busy the machine is)"]

    # The figures a change is judged on: (label, workload, n, pick).
    def judged(self):
        out = [(f"cadence {n} CPU s/GB", "realtime", n, lambda f: f.get("proxy_cpu_s_per_gb"))
               for n in self.realtime_ns()]
        out += [("saturation msgs/s", "saturate", None, lambda f: f["msgs_per_s"]),
                ("saturation CPU s/GB", "saturate", None, lambda f: f.get("proxy_cpu_s_per_gb")),
                ("http req/s", "http", None, lambda f: f["req_per_s"]),
                ("idle KiB/sess", "idle", None, lambda f: f.get("rss_kib_per_session"))]
        return out

    def spread(self, rounds):
        self.lines.append("")
        self.lines.append(f"spread over {rounds} rounds (min / median / max; the table holds "
                          "the medians)")
        for label, w, n, pick in self.judged():
            for mode in self.modes:
                vals = [v for v in self.per_round(mode, w, n, pick) if v is not None]
                if len(vals) < 2:
                    continue
                self.lines.append(f"  {label:<22} {mode:<15} {min(vals):10.2f} "
                                  f"{statistics.median(vals):10.2f} {max(vals):10.2f}   "
                                  + " ".join(f"{v:.2f}" for v in vals))
        for a, b in self.ab_pairs():
            for label, w, n, pick in self.judged():
                pa, pb = self.per_round(a, w, n, pick), self.per_round(b, w, n, pick)
                pairs = [ratio(x, y) for x, y in zip(pa, pb)]
                pairs = [v for v in pairs if v is not None]
                if len(pairs) >= 2:
                    self.lines.append(f"  {label:<22} {a + '/' + b:<26} A/B per round: "
                                      + " ".join(f"{v:.2f}" for v in pairs)
                                      + f" (median {statistics.median(pairs):.2f})")

    def ratios(self):
        def sat(mode):
            f = self.get(mode, "saturate")
            return f and f["msgs_per_s"]
        hr = lambda m: (self.get(m, "http") or {}).get("req_per_s")
        cpu = lambda m: (self.get(m, "saturate") or {}).get("proxy_cpu_s_per_gb")
        R = {}
        R["saturation_relaytap_over_direct"] = ratio(sat("relaytap"), sat("direct"))
        R["saturation_relaytap_rec_over_direct"] = ratio(sat("relaytap_rec"), sat("direct"))
        R["saturation_relaytap_rec_over_mitmproxy"] = ratio(sat("relaytap_rec"), sat("mitmproxy"))
        R["saturation_mitmproxy_over_relaytap"] = ratio(sat("mitmproxy"), sat("relaytap"))
        R["saturation_recording_on_over_off"] = ratio(sat("relaytap_rec"), sat("relaytap"))
        R["http_relaytap_over_direct"] = ratio(hr("relaytap"), hr("direct"))
        R["http_mitmproxy_over_relaytap"] = ratio(hr("mitmproxy"), hr("relaytap"))
        R["http_recording_on_over_off"] = ratio(hr("relaytap_rec"), hr("relaytap"))
        R["cpu_per_gb_mitmproxy_over_relaytap"] = ratio(cpu("mitmproxy"), cpu("relaytap"))
        R["cpu_per_gb_recording_on_over_off"] = ratio(cpu("relaytap_rec"), cpu("relaytap"))
        for n in self.realtime_ns():
            rcpu = lambda m: (self.get(m, "realtime", n) or {}).get("proxy_cpu_s_per_gb")
            R[f"cadence_{n}_cpu_per_gb_recording_on_over_off"] = ratio(rcpu("relaytap_rec"),
                                                                      rcpu("relaytap"))
        R.update(self.ab_ratios())
        return R

    # A binary against B (bench.sh --relaytap-b): each mode X beside its X_b, from the medians.
    def ab_pairs(self):
        return [(m[:-2], m) for m in self.modes if m.endswith("_b") and m[:-2] in self.modes]

    def ab_ratios(self):
        R = {}
        for a, b in self.ab_pairs():
            for label, w, n, pick in self.judged():
                fa, fb = self.get(a, w, n), self.get(b, w, n)
                if fa and fb:
                    key = label.replace(" ", "_").replace("/", "_per_").lower()
                    R[f"ab_{a}_{key}"] = ratio(pick(fa), pick(fb))
        return R

    # Nothing of a realtime run unsent or lost.
    @staticmethod
    def none_lost_or_unsent(f):
        return f["lost"] == 0 and f.get("unsent", 0) == 0

    def targets(self, R):
        T = {}
        rt200 = self.get("relaytap_rec", "realtime", 200)
        if rt200 and "added_p99_ms" in rt200:
            T["realtime_200_added_p99_le_1ms"] = (rt200["added_p99_ms"] is not None
                                                  and rt200["added_p99_ms"] <= 1)
            T["realtime_200_none_over_100ms"] = rt200["latency"]["delayed_over_100ms"] == 0
            T["realtime_200_zero_lost_or_unsent"] = self.none_lost_or_unsent(rt200)
        v = R["saturation_relaytap_rec_over_direct"]
        if v is not None:
            T["saturation_ge_50pct_direct"] = v >= 0.5
        v = R["saturation_relaytap_rec_over_mitmproxy"]
        if v is not None:
            T["saturation_ge_10x_mitmproxy"] = v >= 10
        i = self.get("relaytap_rec", "idle")
        if i and i.get("rss_kib_per_session") is not None:
            T["idle_le_64kib_per_session"] = i["rss_kib_per_session"] <= 64
        v = R["saturation_recording_on_over_off"]
        if v is not None:
            T["recording_costs_le_15pct"] = v >= 0.85
        return T

    # Issue #19: CPU per GB close to the cryptography's.
    def targets_19(self, R):
        T = {}
        for mode, limit in (("relaytap_rec", 3.0), ("relaytap", 2.0)):
            f = self.get(mode, "realtime", 50)
            if f and f.get("proxy_cpu_s_per_gb") is not None:
                T[f"cadence_50_{mode}_cpu_per_gb_le_{limit:g}"] = f["proxy_cpu_s_per_gb"] <= limit
        for key, limit in (("saturation_relaytap_rec_over_direct", 0.6),
                           ("saturation_relaytap_over_direct", 0.75)):
            if R.get(key) is not None:
                T[f"{key}_ge_{limit:g}"] = R[key] >= limit
        if R.get("cadence_50_cpu_per_gb_recording_on_over_off") is not None:
            T["cadence_50_recording_on_over_off_le_1.2"] = (
                R["cadence_50_cpu_per_gb_recording_on_over_off"] <= 1.2)
        for mode in ("relaytap", "relaytap_rec"):
            i = self.get(mode, "idle")
            if i and i.get("rss_kib_per_session") is not None:
                T[f"idle_{mode}_le_40kib_per_session"] = i["rss_kib_per_session"] <= 40
        # 200 sessions at cadence with recording: added p99 <= 10 ms, no echo over 100 ms that
        # direct does not also have, nothing unsent or lost.
        rec, direct = self.get("relaytap_rec", "realtime", 200), self.get("direct", "realtime", 200)
        if rec and rec.get("added_p99_ms") is not None:
            T["cadence_200_rec_added_p99_le_10ms"] = rec["added_p99_ms"] <= 10
            if direct:
                T["cadence_200_rec_no_more_over_100ms_than_direct"] = (
                    rec["latency"]["delayed_over_100ms"] <= direct["latency"]["delayed_over_100ms"])
            T["cadence_200_rec_zero_lost_or_unsent"] = self.none_lost_or_unsent(rec)
        return T


def verdicts(T):
    return ", ".join(f"{k}={'met' if ok else 'MISSED'}" for k, ok in T.items()) or "none evaluated"


def main():
    results, out_path, preset, notes = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    modes, runs, recorder, rounds = load(results)
    rep = Report(modes, runs)
    rep.realtime_tables()
    rep.summary_table()
    if rounds > 1:
        rep.spread(rounds)
    R = rep.ratios()
    T, T19 = rep.targets(R), rep.targets_19(R)
    lines = rep.lines
    lines.append("")
    which = f"medians of {rounds} rounds" if rounds > 1 else "same run"
    lines.append(f"ratios ({which}): " + ", ".join(f"{k}={fmt(v)}" for k, v in R.items()))
    lines.append("targets (recording on): " + verdicts(T))
    lines.append("targets (#19): " + verdicts(T19))
    for mode, recs in recorder.items():
        for line in recs:
            lines.append(f"{mode} {line}")
    steal_s, wall_s = float(os.environ["BENCH_STEAL_S"]), int(os.environ["BENCH_WALL_S"])
    steal_share = steal_s / (wall_s * os.cpu_count()) if wall_s else None
    lines.append(f"machine: {os.cpu_count()} cores; {steal_s:.1f} s of CPU stolen by the "
                 f"hypervisor in the {wall_s} s run ({fmt(steal_share and 100 * steal_share, '.1f')}% "
                 "of the cores' time; runs with more steal are slower and noisier)")
    for n in notes:
        lines.append("note: " + n)

    summary = {
        "preset": preset, "notes": notes, "rounds": rounds, "ratios": R, "targets": T,
        "targets_19": T19,
        "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"nproc": os.cpu_count(), "loadavg": open("/proc/loadavg").read().split()[:3],
                    "steal_s": steal_s, "wall_s": wall_s, "steal_share": steal_share},
        "recorder": recorder,
        "results": [{"mode": m, **f} for (m, w, n), f in rep.by.items()],
        "per_round": [{"mode": m, "round": i, **f} for (m, w, n), fs in runs.items()
                      for i, f in enumerate(fs, 1)],
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as fh:
        json.dump(summary, fh, indent=1)
    print("\n".join(lines))
    print(f"\nJSON: {out_path}")
    broken = broken_runs(runs)
    if broken:
        print("bench: BROKEN:\n  " + "\n  ".join(broken), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
