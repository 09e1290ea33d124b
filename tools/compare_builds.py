#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Times the same benchmarks from two or more builds in one run and prints a
Markdown table: each row's median in every build and its ratio to the first.

The builds run alternately, row by row and round by round (A B A B ...), so a
slow spell of a shared machine falls on both. Used for the README's tables
"portable against -march=native" (the bench binaries of build/bench-portable
and build/release) and "before against after" (a previous commit's binaries).

  tools/compare_builds.py --build native=build/release/bench \\
      --build portable=build/bench-portable/bench [--rounds 2] [--rows default]

A row is "label|binary|regex|counter", the counter a Google Benchmark counter
(items_per_second, GFLOP/s, GB/s) or "time" (real time, smaller is better).

With --pair, two rows of the same binary are timed alternately instead (ours,
then the yardstick, round by round: fp8 against oneDNN on one shape), and
the table gives each row's median, the ratio of the medians and the range
of the per-round ratios (the counter "a,b" reads a from ours and b from the
yardstick); the first --build's binaries run:

  tools/compare_builds.py --build native=build/release/bench --rounds 5 \\
      --pair "GEMM 2048^3|bench_gemm|^fp8_gemm/m:2048/.*threads:1/streamed:0/|^onednn_bf16/m:2048/|GFLOP/s"

Each regex must select one benchmark: one that selects several stops the run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

DEFAULT_ROWS = [
    ("encode float -> E4M3, 4096 (L1)", "bench_bulk", r"^BM_encode<fp8::E4M3, float>/4096$", "items_per_second"),
    ("decode E4M3 -> float, 4096 (L1)", "bench_bulk", r"^BM_decode<fp8::E4M3, float>/4096$", "items_per_second"),
    ("GEMM 2048^3", "bench_gemm", r"^fp8_gemm/m:2048/n:2048/k:2048/tb:0/threads:1/streamed:0/", "GFLOP/s"),
    ("GEMM M = 1, K = N = 4096, weights from DRAM", "bench_gemm",
     r"^fp8_gemm/m:1/n:4096/k:4096/tb:1/threads:1/streamed:1/", "GFLOP/s"),
    ("conv ResNet-50 3x3 C64, packed", "bench_conv", r"^fp8_conv2d_packed/resnet50_3x3_c64_k64_56x56/threads:1/",
     "GFLOP/s"),
    ("conv 1x1 C256 -> 64, packed", "bench_conv", r"^fp8_conv2d_packed/resnet50_1x1_c256_k64_56x56/threads:1/",
     "GFLOP/s"),
    ("conv depthwise 3x3 C144, packed", "bench_conv", r"^fp8_conv2d_packed/mobilenetv2_dw3x3_c144_56x56/threads:1/",
     "GFLOP/s"),
    ("vdpbf16ps peak (native only)", "bench_gemm", r"^peak_bf16dot", "GFLOP/s"),
    ("DRAM read stream", "bench_gemm", r"^dram_read", "GB/s"),
]


def run_once(path, regex, counter, repetitions, min_time):
    cmd = [path, "--benchmark_filter=" + regex, "--benchmark_format=json",
           "--benchmark_repetitions=%d" % repetitions, "--benchmark_min_time=%g" % min_time]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    values, names = [], set()
    for rec in json.loads(out).get("benchmarks", []):
        if rec.get("run_type") != "iteration":  # the repetitions, not their mean, median, stddev and cv
            continue
        names.add(rec["run_name"])
        if counter == "time":
            values.append(float(rec["real_time"]))
        elif counter in rec:
            v = float(rec[counter])
            values.append(v / 1e9 if counter == "items_per_second" else v)
    if len(names) > 1:  # a median over several benchmarks would mean nothing
        sys.exit("%s matches %d benchmarks of %s: %s" % (regex, len(names), path, ", ".join(sorted(names))))
    return values


def speedup(new, base, counter):
    """new over base, > 1 when new is faster."""
    return base / new if counter == "time" else new / base


def compare_pairs(args):
    directory = args.build[0].split("=", 1)[1]
    pairs = [tuple(p.split("|")) for p in args.pair]
    print("| row | ours | yardstick | ours / yardstick | per round |")
    print("|---|---|---|---|---|")
    for label, binary, ours, yardstick, counter in pairs:
        path = os.path.join(directory, binary)
        # "GFLOP/s,GB/s": each row its own counter (M = 1's rate against the read stream).
        counter_a, counter_b = (counter.split(",") + [counter])[:2]
        a, b, per_round = [], [], []
        for _ in range(args.rounds):
            va = run_once(path, ours, counter_a, args.repetitions, args.min_time)
            vb = run_once(path, yardstick, counter_b, args.repetitions, args.min_time)
            if not va or not vb:
                sys.exit("no result for %s (check the regexes)" % label)
            a.extend(va)
            b.extend(vb)
            ma, mb = statistics.median(va), statistics.median(vb)
            per_round.append(speedup(ma, mb, counter_a))
        ma, mb = statistics.median(a), statistics.median(b)
        r = speedup(ma, mb, counter_a)
        print("| %s | %.4g | %.4g | %.2f | %.2f–%.2f |" % (label, ma, mb, r, min(per_round), max(per_round)))
        sys.stdout.flush()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="append", required=True, help="name=directory holding the bench binaries")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.1)
    ap.add_argument("--row", action="append", help="label|binary|regex|counter (default: the README's rows)")
    ap.add_argument("--pair", action="append", help="label|binary|regex|yardstick regex|counter")
    args = ap.parse_args()
    if args.pair:
        return compare_pairs(args)
    builds = [b.split("=", 1) for b in args.build]
    rows = [tuple(r.split("|")) for r in args.row] if args.row else DEFAULT_ROWS
    results = {}
    for label, binary, regex, counter in rows:
        for _ in range(args.rounds):
            for name, directory in builds:
                path = os.path.join(directory, binary)
                if not os.path.exists(path):
                    continue
                vals = run_once(path, regex, counter, args.repetitions, args.min_time)
                results.setdefault((label, name), []).extend(vals)
    unit = {"items_per_second": "G/s", "time": "ns"}
    print("| row | " + " | ".join(n for n, _ in builds) + " | " +
          " | ".join("%s / %s" % (n, builds[0][0]) for n, _ in builds[1:]) + " |")
    print("|---" * (1 + 2 * len(builds) - 1) + "|")
    for label, binary, regex, counter in rows:
        meds = [statistics.median(results[(label, n)]) if results.get((label, n)) else None for n, _ in builds]
        cells = ["%.4g %s" % (m, unit.get(counter, counter)) if m is not None else "—" for m in meds]
        ratios = []
        for m in meds[1:]:
            if m is None or meds[0] is None:
                ratios.append("—")
            else:
                ratios.append("%.2f" % speedup(m, meds[0], counter))
        print("| %s | %s | %s |" % (label, " | ".join(cells), " | ".join(ratios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
