#!/usr/bin/env python3
"""The side-by-side markdown report from run.sh's results (one JSON line per tern-loadgen run, see collect.py).

usage: report.py RESULTS.jsonl --command C --started T --machine M --tern V --prosody V --ejabberd V ...
                 [--charts PREFIX]

--charts PREFIX also draws the charts with gnuplot (Debian's gnuplot-nox): PREFIX-SCENARIO.png, one per
scenario (its headline figure, each server, fresh and aged), and PREFIX-summary.png (tern's ratio to each
peer on every headline figure); the report links them by file name, so PREFIX should sit next to it.
"""
import argparse
import json
import os
import subprocess
import tempfile

SERVERS = ("tern", "prosody", "ejabberd")
NAMES = {"tern": "tern", "prosody": "Prosody", "ejabberd": "ejabberd"}

# scenario: (title, what one run does, [(figure key, row label, higher is better, decimals)])
SCENARIOS = {
    "login": ("Logins (STARTTLS + SCRAM-SHA-1 + bind + close)",
              "full login cycles over 100 accounts, 200 in flight",
              [("rate", "logins/s", True, 0), ("per_cpu", "logins per server CPU-second", True, 0),
               ("p99_ms", "p99 login latency, ms", False, 1)]),
    "handshake": ("Bare TLS 1.3 handshakes (direct TLS, no XMPP)",
                  "connect, handshake, close, 200 in flight: the ceiling for logins",
                  [("rate", "handshakes/s", True, 0), ("per_cpu", "handshakes per server CPU-second", True, 0),
                   ("p99_ms", "p99 handshake latency, ms", False, 1)]),
    "idle": ("Memory per idle authenticated TLS session",
             "sessions logged in at 300/s, then the server's VmRSS delta over the sessions",
             [("rss_kib", "RSS per idle session, KiB", False, 1), ("rate", "logins/s while ramping", True, 0)]),
    "message": ("Routed messages (chat between bound sessions, window 10 per sender)",
                "both sides of every pair send to the other's full JID",
                [("rate", "messages/s delivered", True, 0),
                 ("per_cpu", "messages per server CPU-second", True, 0),
                 ("p99_ms", "p99 end-to-end latency, ms", False, 1)]),
    "extdisco1": ("XEP-0215 credential IQs, one connection (window 10)",
                  "<services xmlns='urn:xmpp:extdisco:2'/> requests pipelined, 10 in flight",
                  [("rate", "IQs/s", True, 0), ("per_cpu", "IQs per server CPU-second", True, 0),
                   ("p99_ms", "p99 IQ latency, ms", False, 1)]),
    "extdisco50": ("XEP-0215 credential IQs, 50 connections (window 10 each)",
                   "<services xmlns='urn:xmpp:extdisco:2'/> requests pipelined, 10 in flight per connection",
                   [("rate", "IQs/s", True, 0), ("per_cpu", "IQs per server CPU-second", True, 0),
                    ("p99_ms", "p99 IQ latency, ms", False, 1)]),
    "storm": ("Login storms between the fresh and the aged measurements",
              "the logins that age each process, on the process of the scenario named in the state column",
              [("rate", "logins/s", True, 0), ("per_cpu", "logins per server CPU-second", True, 0)]),
}
# The phase whose rate the table shows, for tern-loadgen's own CPU share in that phase.
MAIN_PHASE = {"login": "login", "storm": "login", "idle": "login", "message": "message", "extdisco1": "extdisco",
              "extdisco50": "extdisco", "handshake": "handshake"}
ORDER = ("login", "handshake", "idle", "message", "extdisco1", "extdisco50", "storm")
# The figure each scenario's chart shows: per server CPU-second where there is one, else memory.
HEADLINE = {"login": ("per_cpu", "logins per server CPU-second"),
            "handshake": ("per_cpu", "handshakes per server CPU-second"),
            "idle": ("rss_kib", "KiB per idle TLS session (lower is better)"),
            "message": ("per_cpu", "messages per server CPU-second"),
            "extdisco1": ("per_cpu", "IQs per server CPU-second, 1 connection"),
            "extdisco50": ("per_cpu", "IQs per server CPU-second, 50 connections"),
            "storm": ("per_cpu", "logins per server CPU-second")}
SHORT = {"login": "logins", "handshake": "TLS handshakes", "idle": "idle memory", "message": "messages",
         "extdisco1": "extdisco 1", "extdisco50": "extdisco 50"}
COLOURS = {"tern": "#2b7bba", "prosody": "#e08a1e", "ejabberd": "#5aa05a"}


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def bar_chart(path, title, ylabel, groups, series, rows, extra=""):
    """A clustered bar chart: one cluster per group (x axis), one bar per series; rows[g][s] or None."""
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as data:
        for group, values in zip(groups, rows):
            cells = ["NaN" if v is None else repr(float(v)) for v in values]
            data.write('"' + group + '" ' + " ".join(cells) + "\n")
    try:
        plots = ", ".join(
            f"'{data.name}' using {i + 2}:xtic(1) title '{label}' lc rgb '{colour}'"
            for i, (label, colour) in enumerate(series))
        gnuplot(f"""set terminal pngcairo size 900,480 noenhanced font ',10'
set output '{path}'
set title '{title}'
set ylabel '{ylabel}'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key outside bottom center horizontal
{extra}
plot {plots}
""")
    finally:
        os.unlink(data.name)


def draw_charts(prefix, records, by_key, present, peers):
    """The per-scenario charts and the summary chart; returns {scenario or 'summary': file name}."""
    drawn = {}
    for scenario in ORDER:
        if scenario == "storm" or not any(r["scenario"] == scenario for r in records):
            continue
        key, label = HEADLINE[scenario]
        rows = [[value_of(by_key.get((server, scenario, state)), key) for server in present]
                for state in ("fresh", "aged")]
        path = f"{prefix}-{scenario}.png"
        bar_chart(path, SCENARIOS[scenario][0], label, ["fresh", "aged"],
                  [(NAMES[s], COLOURS[s]) for s in present], rows)
        drawn[scenario] = os.path.basename(path)
    if peers and drawn:
        groups, rows = [], []
        for scenario in drawn:
            key, _ = HEADLINE[scenario]
            higher_better = key != "rss_kib"
            tern = value_of(by_key.get(("tern", scenario, "fresh")), key)
            line = []
            for peer in peers:
                value = value_of(by_key.get((peer, scenario, "fresh")), key)
                ok = tern and value
                line.append(None if not ok else (tern / value if higher_better else value / tern))
            groups.append(SHORT[scenario])
            rows.append(line)
        path = f"{prefix}-summary.png"
        bar_chart(path, "tern vs Prosody and ejabberd, fresh processes (per server CPU-second; memory per session)",
                  "times better than the peer (1 = equal)", groups,
                  [("tern vs " + NAMES[p], COLOURS[p]) for p in peers], rows,
                  extra="set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb 'black'")
        drawn["summary"] = os.path.basename(path)
    return drawn


def fmt(value, decimals):
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def ratio(tern, peer, higher_better):
    if tern is None or peer is None or tern == 0 or peer == 0:
        return "—"
    r = tern / peer if higher_better else peer / tern
    return f"{r:.2f}×"


def value_of(record, key):
    if record is None:
        return None
    if key == "loadgen_pct":
        return ((record.get("phases") or {}).get(MAIN_PHASE.get(record["scenario"], ""), {})).get("loadgen_cpu_pct")
    return (record.get("figures") or {}).get(key)


def cell(record, key, decimals):
    if record is None:
        return "not run"
    if record.get("failed") and not record.get("figures"):
        return "failed"
    text = fmt(value_of(record, key), decimals)
    if key == "loadgen_pct":
        return text
    figures = record.get("figures") or {}
    if figures.get("failed"):
        text += " ⚠"
    if figures.get("generator_bound"):
        text += " ‡"
    return text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    for option in ("command", "started", "machine", "tern", "prosody", "ejabberd", "pinning", "settings",
                   "load-before", "load-after", "charts"):
        parser.add_argument("--" + option, default="")
    a = parser.parse_args()

    records = [json.loads(line) for line in open(a.results) if line.strip()]
    # A storm ages the process for the aged measurement that follows it: name it after that scenario.
    for i, r in enumerate(records):
        if r["scenario"] == "storm":
            after = next((n["scenario"] for n in records[i + 1:] if n["server"] == r["server"]), "?")
            r["state"] = "before aged " + after
    by_key = {(r["server"], r["scenario"], r["state"]): r for r in records}
    present = [s for s in SERVERS if any(r["server"] == s for r in records)]
    peers = [s for s in present if s != "tern"]
    charts = draw_charts(a.charts, records, by_key, present, peers) if a.charts else {}

    out = []
    w = out.append
    w("# tern, Prosody and ejabberd side by side")
    w("")
    w(f"Generated by `{a.command}` on {a.started}. Every figure below comes from that one run, on one machine,")
    w("with the same load generator (tern-loadgen) against each server in turn. Ratios are how many times")
    w("better tern is (above 1× tern is better: higher rates, lower latency and memory). **fresh**: a newly")
    w("started server process; **aged**: the same process after the login storm (last table). ⚠: the run")
    w("had failures (listed under the table); ‡: tern-loadgen used over 90% of its core, so the generator,")
    w("not the server, may have set that rate.")
    w("")
    if "summary" in charts:
        w(f"![tern's ratio to each peer on every headline figure]({charts['summary']})")
        w("")
    w("## Setup")
    w("")
    w(f"- Machine: {a.machine}; load average {a.load_before} before, {a.load_after} after (the machine was")
    w("  shared with other work: compare the per-server-CPU-second rows as well as the raw rates).")
    if a.pinning:
        w(f"- Pinning: {a.pinning} (taskset), so each server has one core and the generator the other.")
    w(f"- tern: {a.tern}.")
    w(f"- {a.prosody}.")
    w(f"- {a.ejabberd}.")
    w("- Equal settings: one ECDSA P-256 certificate for all three (TLS 1.3), SCRAM-SHA-1 with 4096 iterations")
    w("  (tern `scram_iterations`, Prosody `default_iteration_count`, ejabberd 23.01's fixed count with")
    w("  `auth_password_format: scram`), the same four XEP-0215 services (stun udp, turn udp+tcp, turns tcp)")
    w("  with one shared secret (tern `[turn]`, Prosody `mod_external_services`, ejabberd `mod_stun_disco`")
    w("  with `offer_local_services: false`), ejabberd's c2s shaper off, logging at errors/warnings only,")
    w("  20,000 descriptors for every process. Configs: `scripts/bench/peers/*.in`.")
    w(f"- Sizes: {a.settings}.")
    w("")

    for scenario in ORDER:
        if not any(r["scenario"] == scenario for r in records):
            continue
        title, what, rows = SCENARIOS[scenario]
        w(f"## {title}")
        w("")
        w(what + ".")
        w("")
        if scenario in charts:
            w(f"![{title}]({charts[scenario]})")
            w("")
        if scenario == "idle":
            w("Only the fresh figure is a per-session cost: an aged process reuses memory its allocator kept")
            w("from the storm, so its delta is smaller (FACTS §8).")
            w("")
        header = ["figure", "state"] + [NAMES[s] for s in present] + [f"tern vs {NAMES[p]}" for p in peers]
        w("| " + " | ".join(header) + " |")
        w("|" + "|".join(["---", "---"] + ["---:"] * (len(present) + len(peers))) + "|")
        states = ("fresh", "aged")
        if scenario == "storm":
            states = tuple(dict.fromkeys(r["state"] for r in records if r["scenario"] == "storm"))
        for key, label, higher_better, decimals in rows + [("loadgen_pct", "tern-loadgen CPU, % of its core", None, 0)]:
            for state in states:
                line = [label, state]
                for server in present:
                    line.append(cell(by_key.get((server, scenario, state)), key, decimals))
                tern = value_of(by_key.get(("tern", scenario, state)), key)
                for peer in peers:
                    value = value_of(by_key.get((peer, scenario, state)), key)
                    per_session = scenario != "idle" or key != "rss_kib" or state == "fresh"
                    line.append("" if higher_better is None or not per_session else ratio(tern, value, higher_better))
                w("| " + " | ".join(line) + " |")
        w("")
        problems = [r for r in records if r["scenario"] == scenario and
                    (r.get("failed") or (r.get("figures") or {}).get("failed") or r.get("status"))]
        for r in problems:
            detail = r.get("failed") or f"exit {r.get('status')}, failed {r['figures'].get('failed')}, " \
                                         f"errors {r['figures'].get('errors')}"
            w(f"- {NAMES[r['server']]} {r['state']}: {detail}")
        if problems:
            w("")

    failures = [r for r in records if r["scenario"] == "*"]
    if failures:
        w("## Servers that could not be measured")
        w("")
        for r in failures:
            w(f"- {NAMES[r['server']]}: {r.get('failed')}")
        w("")

    w("## Commands")
    w("")
    w("Each tern-loadgen run, in order (ports are the run's free loopback ports):")
    w("")
    w("```")
    for r in records:
        if r.get("command"):
            w(f"# {r['server']} {r['state']} {r['scenario']}: {r.get('summary', '')}")
            w(r["command"])
    w("```")
    print("\n".join(out))


if __name__ == "__main__":
    main()
