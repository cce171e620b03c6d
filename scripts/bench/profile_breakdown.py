#!/usr/bin/env python3
"""Splits callgrind dumps of ternd (scripts/bench/profile_login.sh) into where a login's instructions go.

usage: profile_breakdown.py --cycles N --baseline BASELINE.out LOGIN.out [HANDSHAKE.out] [--top K]

Each dump minus the baseline (the same ternd start, warm-up and stop without the measured cycles),
function by function, divided by N.
"""
import argparse
import re
import subprocess
import sys


def inclusive(path):
    """{function: inclusive Ir} and the total, from callgrind_annotate --inclusive=yes."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--auto=no", path],
                          capture_output=True, text=True, check=True, cwd="/").stdout  # no source lookups
    total = None
    functions = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+PROGRAM TOTALS", line) or \
            re.match(r"^\s*([\d,]+)\s+PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        # "COST (PCT%)  FILE:FUNCTION [OBJECT]"; a function inlined from headers has one line per file: summed.
        m = re.match(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?([^=\s].*?)(?:\s+\[.*\])?$", line)
        if m and ":" in m.group(2):
            name = m.group(2).split(":", 1)[1]
            # "name (Nx)" lines are per-call-count entries that do not line up with the baseline's: skip them.
            if re.search(r" \(\d[\d,]*x\)$", name):
                continue
            functions[name] = functions.get(name, 0) + int(m.group(1).replace(",", ""))
    return total, functions


# Categories as sums of the inclusive cost of entry points that do not call one another (checked on the
# call tree of a dump, callgrind_annotate --tree=calling), minus the parts listed after "minus".
CATEGORIES = [
    ("TLS handshake (Engine::handshake: SSL object, key exchange, signature)",
     [r"^tern::tls::Engine::handshake\(\)$"], []),
    ("TLS records after the handshake (Engine::read, write, ~Engine)",
     [r"^tern::tls::Engine::read\(", r"^tern::tls::Engine::write\(", r"^tern::tls::Engine::~Engine\(\)$"], []),
    ("SCRAM (client-first and client-final, without the account lookup)",
     [r"^tern::sasl::Scram::client_first\(", r"^tern::sasl::Scram::client_final\("],
     [r"^tern::sasl::find_credentials\("]),
    ("account lookup (find_credentials: the store's scram_keys, SQLite)", [r"^tern::sasl::find_credentials\("], []),
    ("logging (log::emit: formatting, timestamp, write)", [r"^void tern::log::emit<"], []),
]


def breakdown(total, functions):
    rows, covered = [], 0
    for label, plus, minus in CATEGORIES:
        def cost(patterns):
            return sum(ir for name, ir in functions.items() if any(re.search(p, name) for p in patterns))
        ir = cost(plus) - cost(minus)
        covered += ir
        rows.append((label, ir))
    rows.append(("the rest (stream restarts, XML, bind, the connection, allocator)", total - covered))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, required=True)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--top", type=int, default=0, help="also print the N largest inclusive costs")
    parser.add_argument("dumps", nargs="+")
    a = parser.parse_args()
    base_total, base = inclusive(a.baseline)
    for path in a.dumps:
        total, functions = inclusive(path)
        total -= base_total
        functions = {name: ir - base.get(name, 0) for name, ir in functions.items()}
        print(f"== {path}: {total:,} instructions over the baseline, {total / a.cycles:,.0f} per cycle")
        print(f"| {'part':<70} | instructions per cycle | % |")
        print(f"|{'-' * 72}|---:|---:|")
        for label, ir in breakdown(total, functions):
            print(f"| {label:<70} | {ir / a.cycles:,.0f} | {ir / total * 100:.1f}% |")
        for name, ir in sorted(functions.items(), key=lambda kv: -kv[1])[:a.top]:
            print(f"{ir / total * 100:6.1f}%  {ir / a.cycles:>12,.0f}  {name}")


if __name__ == "__main__":
    main()
