#!/usr/bin/env python3
"""Soak-run figures: turns `tern-loadgen mixed --json` interval lines into a CSV and judges growth.

    soak_report.py csv JSONL CSV       one CSV row per "interval" JSON line
    soak_report.py verdict CSV         prints the verdict; exit status 1 if something grew or failed

The verdict skips a warm-up (the first tenth of the samples, at least one), then compares the last third
with the first third of what is left: RSS growing by more than 10%, open descriptors growing, p99 latency
more than doubling, or any errors are flagged.
"""
import csv
import json
import sys

COLUMNS = ["minute", "rss_kib", "fds", "events_per_s", "p50_ms", "p99_ms", "errors"]


def to_csv(jsonl_path, csv_path):
    with open(jsonl_path) as source, open(csv_path, "w", newline="") as sink:
        out = csv.writer(sink)
        out.writerow(COLUMNS)
        for line in source:
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if record.get("phase") != "interval":
                continue
            latency = record.get("latency_ms", {})
            out.writerow([
                f"{record['elapsed_s'] / 60:.2f}",
                record.get("server_rss_kib", ""),
                record.get("server_fds", ""),
                f"{record['events_per_s']:.1f}",
                f"{latency.get('p50', 0):.3f}",
                f"{latency.get('p99', 0):.3f}",
                record.get("errors_total", 0),
            ])


def mean(values):
    return sum(values) / len(values)


def verdict(csv_path):
    with open(csv_path) as source:
        rows = list(csv.DictReader(source))
    findings = []
    errors = sum(int(r["errors"]) for r in rows)
    if errors:
        findings.append(f"{errors} errors during the run")
    warm_up = max(1, len(rows) // 10)
    judged = rows[warm_up:]
    if len(judged) < 3:
        print(f"verdict: too short to judge growth ({len(rows)} samples, {warm_up} of them warm-up)"
              + (f"; {findings[0]}" if findings else ""))
        return 1 if findings else 0
    third = len(judged) // 3
    first, last = judged[:third], judged[-third:]

    def column(part, name):
        return [float(r[name]) for r in part if r[name] != ""]

    rss_first, rss_last = column(first, "rss_kib"), column(last, "rss_kib")
    if rss_first and rss_last:
        growth = mean(rss_last) / mean(rss_first) - 1
        print(f"RSS: first third {mean(rss_first):.0f} KiB, last third {mean(rss_last):.0f} KiB ({growth:+.1%})")
        if growth > 0.10:
            findings.append(f"RSS grew by {growth:.1%} (more than 10%)")
    fds_first, fds_last = column(first, "fds"), column(last, "fds")
    if fds_first and fds_last:
        print(f"open descriptors: first third {mean(fds_first):.1f}, last third {mean(fds_last):.1f}")
        if mean(fds_last) > mean(fds_first) + 1:
            findings.append("open descriptors grew")
    p99_first, p99_last = column(first, "p99_ms"), column(last, "p99_ms")
    print(f"p99 latency: first third {mean(p99_first):.2f} ms, last third {mean(p99_last):.2f} ms")
    if mean(p99_last) > 2 * mean(p99_first):
        findings.append("p99 latency more than doubled")
    if findings:
        print("verdict: GROWTH OR FAILURES: " + "; ".join(findings))
        return 1
    print("verdict: steady (no growth in RSS, descriptors or p99 latency; no errors)")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "csv":
        to_csv(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "verdict":
        return verdict(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
