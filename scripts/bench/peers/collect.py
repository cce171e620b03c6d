#!/usr/bin/env python3
"""One tern-loadgen run's output (stdin) to one JSON line (stdout) with the figures the report compares.

usage: collect.py SERVER STATE SCENARIO EXIT_STATUS COMMAND < loadgen-output
       collect.py SERVER STATE SCENARIO EXIT_STATUS COMMAND --parts SERVER_CPU_S SECONDS CPUS OUTPUT...

--parts: the run was split over several tern-loadgen processes at once (login, storm and handshake, each
process on its own accounts); OUTPUT are their outputs, and the figures are added up: the counts summed,
the rate and the per-server-CPU-second figure over the whole window (SECONDS of wall time and SERVER_CPU_S
of server CPU, both measured by run.sh around all the processes), p99 the worst process's, and the
generator counted as the bottleneck when any process was saturated or all of them together used over 90% of
the CPUS cores they had (several processes sharing one core are each below 90% but the core is full).
"""
import json
import sys


def phases(text):
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"tool":"tern-loadgen"' in line:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            found[record.get("phase", "?")] = record
    return found


def per_cpu(count, cpu_seconds):
    return count / cpu_seconds if cpu_seconds and cpu_seconds > 0 else None


def p99(record):
    return (record.get("latency_ms") or {}).get("p99")


def errors(record):
    return {k: v for k, v in (record.get("errors") or {}).items() if v}


def figures(scenario, found):
    """The compared figures of one run: rate, per_cpu (per server CPU-second), p99_ms, rss_kib, failed."""
    if scenario in ("login", "storm"):
        r = found.get("login", {})
        return {"rate": r.get("rate_per_s"), "per_cpu": per_cpu(r.get("succeeded", 0), r.get("server_cpu_s")),
                "p99_ms": p99(r), "failed": r.get("failed"), "errors": errors(r)}
    if scenario == "idle":
        login, idle = found.get("login", {}), found.get("idle", {})
        return {"rss_kib": idle.get("rss_per_session_kib"), "sessions": idle.get("sessions"),
                "rate": login.get("rate_per_s"), "p99_ms": p99(login), "failed": login.get("failed"),
                "errors": errors(login)}
    if scenario == "message":
        r = found.get("message", {})
        return {"rate": r.get("throughput_per_s"), "per_cpu": r.get("messages_per_server_cpu_s"),
                "p99_ms": p99(r), "failed": r.get("lost"), "errors": errors(r)}
    if scenario.startswith("extdisco"):
        r = found.get("extdisco", {})
        failed = None if not r else r.get("iq_errors", 0) + r.get("unanswered", 0)
        return {"rate": r.get("iqs_per_s"), "per_cpu": r.get("iqs_per_server_cpu_s"), "p99_ms": p99(r),
                "failed": failed, "errors": errors(r)}
    if scenario == "handshake":
        r = found.get("handshake", {})
        return {"rate": r.get("rate_per_s"), "per_cpu": per_cpu(r.get("succeeded", 0), r.get("server_cpu_s")),
                "p99_ms": p99(r), "failed": r.get("failed"), "errors": errors(r)}
    return {}


def summary(fig, status, found):
    parts = []
    if fig.get("rss_kib") is not None:
        parts.append(f"{fig['rss_kib']:.1f} KiB/session ({fig.get('sessions')} sessions)")
    if fig.get("rate") is not None:
        parts.append(f"{fig['rate']:,.0f}/s")
    if fig.get("per_cpu") is not None:
        parts.append(f"{fig['per_cpu']:,.0f}/CPU-s")
    if fig.get("p99_ms") is not None:
        parts.append(f"p99 {fig['p99_ms']:.1f} ms")
    if fig.get("generator_bound"):
        parts.append("generator-bound")
    if fig.get("failed"):
        parts.append(f"failed {fig['failed']} {fig.get('errors') or ''}")
    loadgen = found.get("loadgen", {})
    if loadgen.get("deadline_hit"):
        parts.append("DEADLINE")
    if status != 0:
        parts.append(f"exit {status}")
    return ", ".join(parts) or "no figures"


COUNTED = {"login": "login", "storm": "login", "handshake": "handshake"}


def merged(scenario, parts, server_cpu_s, seconds, cpus):
    """One phase record for a run split over processes (parts: each process's phases)."""
    phase = COUNTED[scenario]
    records = [p.get(phase, {}) for p in parts]
    succeeded = sum(r.get("succeeded", 0) for r in records)
    worst_p99 = max((p99(r) or 0 for r in records), default=None)
    errors_sum = {}
    for r in records:
        for k, v in (r.get("errors") or {}).items():
            errors_sum[k] = errors_sum.get(k, 0) + v
    return {"tool": "tern-loadgen", "phase": phase, "generators": len(parts), "succeeded": succeeded,
            "failed": sum(r.get("failed", 0) for r in records), "rate_per_s": succeeded / seconds if seconds else None,
            "server_cpu_s": server_cpu_s, "latency_ms": {"p99": worst_p99}, "errors": errors_sum,
            "loadgen_cpu_pct": sum(r.get("loadgen_cpu_pct") or 0 for r in records),
            "loadgen_saturated": int(any(r.get("loadgen_saturated") for r in records) or
                                     sum(r.get("loadgen_cpu_pct") or 0 for r in records) > 90 * cpus)}


def main():
    server, state, scenario, status, command = sys.argv[1:6]
    if len(sys.argv) > 6 and sys.argv[6] == "--parts":
        server_cpu_s, seconds, cpus = float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
        outputs = [open(path).read() for path in sys.argv[10:]]
        parts = [phases(text) for text in outputs]
        found = {COUNTED[scenario]: merged(scenario, parts, server_cpu_s, seconds, cpus)} if all(parts) else {}
        text = "\n".join(outputs)
    else:
        text = sys.stdin.read()
        found = phases(text)
    fig = figures(scenario, found)
    fig["generator_bound"] = any(p.get("loadgen_saturated") for p in found.values())
    record = {"server": server, "state": state, "scenario": scenario, "status": int(status), "command": command,
              "figures": fig, "phases": found}
    if not found:
        record["failed"] = "no JSON from tern-loadgen: " + " | ".join(text.strip().splitlines()[-3:])[:400]
    record["summary"] = record.get("failed") or summary(fig, int(status), found)
    print(json.dumps(record))


if __name__ == "__main__":
    main()
