#!/usr/bin/env python3
"""Turns the raw outputs of bench/batch/run.sh into its markdown tables (stdout). Method: bench/README.md."""
import argparse
import glob
import json
import math
import os
import re


def wrk_dir(path):
    """Sum of the `BENCH` lines of the wrk runs in `path` (one per sim, run at the same time)."""
    total = {"requests": 0, "rps": 0.0, "seconds": 0.0, "errors": 0, "p99_ms": 0.0, "runs": 0}
    for name in sorted(glob.glob(os.path.join(path, "wrk-*.txt"))):
        with open(name) as f:
            line = next((l for l in f if l.startswith("BENCH ")), None)
        if line is None:
            raise SystemExit(f"no BENCH line in {name}")
        kv = dict(x.split("=", 1) for x in line.split()[1:])
        total["requests"] += int(kv["requests"])
        total["rps"] += float(kv["rps"])
        total["seconds"] = max(total["seconds"], float(kv["seconds"]))
        total["errors"] += sum(int(kv[k]) for k in ("connect", "read", "write", "timeout", "status"))
        total["p99_ms"] = max(total["p99_ms"], float(kv["p99_ms"]))
        total["runs"] += 1
    if total["runs"] == 0:
        raise SystemExit(f"no wrk output in {path}")
    return total


def watch(path):
    with open(path) as f:
        line = f.read().strip()
    return json.loads(line[len("WATCH "):])


def phase_seconds(w, name):
    return sum(p["seconds"] for p in w["phases"] if p["name"] == name)


CHUNK_DONE = re.compile(r"Chunk (\S+)/(\d+) done: (\d+) succeeded, (\d+) failed in ([\d.]+)s")
LEASED = re.compile(r"Leased chunk (\S+)/(\d+) \(attempt (\d+)\)")
STOPPED = re.compile(r"Stopped work on chunk (\S+)/|Completion of chunk (\S+)/")


def agent_stats(logs, batch_id):
    per_agent = []
    retries = dropped = 0
    for name in logs:
        chunks, held = 0, 0.0
        with open(name, errors="replace") as f:
            for line in f:
                m = CHUNK_DONE.search(line)
                if m and m.group(1) == batch_id:
                    chunks += 1
                    held += float(m.group(5))
                m = LEASED.search(line)
                if m and m.group(1) == batch_id and int(m.group(3)) > 1:
                    retries += 1
                m = STOPPED.search(line)
                if m and batch_id in (m.group(1), m.group(2)):
                    dropped += 1
        per_agent.append((chunks, held))
    return per_agent, retries, dropped


def f2(x):
    return f"{x:,.2f}"


def mib(kb):
    return "—" if kb is None else f"{kb / 1024:,.0f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--direct-before", required=True)
    p.add_argument("--direct-after")
    p.add_argument("--throughput", required=True)
    p.add_argument("--agent-logs", nargs="*", default=[])
    p.add_argument("--lines", type=int, required=True)
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--chunk-lines", type=int, default=128)
    p.add_argument("--big")
    p.add_argument("--big-lines", type=int)
    p.add_argument("--big-bytes", type=int)
    p.add_argument("--big-max-tokens", type=int)
    p.add_argument("--target-mib", type=float, default=300)
    p.add_argument("--describe", default="")
    p.add_argument("--clk-tck", type=int, default=100)
    p.add_argument("--cpu", nargs="*", default=[], help="KEY=TICKS from run.sh (direct_sims, batch_server, ...)")
    a = p.parse_args()

    before = wrk_dir(a.direct_before)
    after = wrk_dir(a.direct_after) if a.direct_after else None
    limit = (before["rps"] + after["rps"]) / 2 if after else before["rps"]

    w = watch(a.throughput)
    b = w["batch"]
    n = a.lines
    counts = b["request_counts"]
    e2e = w["end"] - w["t0"]
    create = phase_seconds(w, "upload+create")
    validating = phase_seconds(w, "validating")
    running = phase_seconds(w, "in_progress")
    if running <= 0:
        raise SystemExit("the throughput batch was never seen in_progress (too small a batch for the poll interval?)")
    finalizing = phase_seconds(w, "finalizing")
    obj_running = (b["finalizing_at"] or 0) - (b["in_progress_at"] or 0)
    obj_total = (b["completed_at"] or 0) - b["created_at"]
    direct_s = n / limit
    chunks = math.ceil(n / a.chunk_lines)

    out = []
    o = out.append
    o(f"### 1. Throughput — {n:,} lines, {a.agents} agents × {a.concurrency} concurrent, {a.describe}")
    o("")
    o("| Row | Requests | Seconds | Requests/s | / limit |")
    o("|---|---:|---:|---:|---:|")
    o(f"| Limit, before: wrk straight at the {before['runs']} sims, {a.concurrency} connections each | {before['requests']:,} | "
      f"{before['seconds']:.1f} | {f2(before['rps'])} | — |")
    if after:
        o(f"| Limit, after (same, once the batch was done) | {after['requests']:,} | {after['seconds']:.1f} | {f2(after['rps'])} | — |")
    o(f"| **Limit used (mean)** | | | **{f2(limit)}** | 1.00 |")
    o(f"| Batch end to end: `atoll batch create` started → `completed` seen | {counts['completed']:,} | {e2e:.1f} | "
      f"{f2(n / e2e)} | {n / e2e / limit:.3f} |")
    o(f"| Batch queue: `in_progress` → `finalizing` seen (polled every 0.1 s) | {n:,} | {running:.1f} | "
      f"{f2(n / running)} | {n / running / limit:.3f} |")
    if obj_running > 0:
        o(f"| Batch queue: `in_progress_at` → `finalizing_at` of the batch object (whole seconds) | {n:,} | {obj_running} | "
          f"{f2(n / obj_running)} | {n / obj_running / limit:.3f} |")
    o("")
    o(f"Result: status `{b['status']}`, request_counts completed {counts['completed']:,}, failed {counts['failed']:,} of "
      f"{counts['total']:,}; direct errors (non-2xx + socket): {before['errors'] + (after['errors'] if after else 0)}.")
    o(f"Batch object: created_at → completed_at {obj_total} s. The CLI printed the batch id "
      f"{w['id_printed_at'] - w['t0']:.2f} s after it was started"
      + (f" and exited {w['cli_exited_at'] - w['id_printed_at']:.2f} s after that" if w.get("cli_exited_at") else "")
      + f". Slowest status poll during the batch: {w.get('poll_max_ms', 0)} ms. Server peak RSS during this batch: "
      f"{mib(max((ph['hwm_kb'] or 0) for ph in w['phases']))} MiB.")
    o("")
    o("| Where the end-to-end time went | Seconds |")
    o("|---|---:|")
    o(f"| upload + create (`atoll batch create` started → it printed the id; {n:,} lines) | {create:.2f} |")
    o(f"| validating (until `in_progress` seen) | {validating:.2f} |")
    o(f"| in_progress (chunks leased and run) | {running:.2f} |")
    o(f"| finalizing (output file written) | {finalizing:.2f} |")
    o("")
    o("| Queue overhead | Value |")
    o("|---|---:|")
    o(f"| Time the same {n:,} requests take straight at the sims, at the limit ({n:,} / {f2(limit)}) | {direct_s:.2f} s |")
    o(f"| Per request, queue: (in_progress − direct) / requests | {(running - direct_s) / n * 1000:.3f} ms |")
    o(f"| Per request, end to end: (end to end − direct) / requests | {(e2e - direct_s) / n * 1000:.3f} ms |")
    o(f"| Per chunk of {a.chunk_lines}, per agent: (in_progress − direct) × {a.agents} agents / {chunks} chunks | "
      f"{(running - direct_s) * a.agents / chunks * 1000:.0f} ms |")
    per_agent, retries, dropped = agent_stats(a.agent_logs, w["batch_id"])
    done = sum(c for c, _ in per_agent)
    if done:
        held = sum(h for _, h in per_agent)
        direct_chunk = a.chunk_lines / (limit / a.agents)
        o(f"| Agent logs: chunks done (per agent) | {done} ({', '.join(str(c) for c, _ in per_agent)}) |")
        o(f"| Agent logs: mean time a chunk's lease is held (read, {a.chunk_lines} requests, upload, complete; 0.1 s rounding) | "
          f"{held / done * 1000:.0f} ms |")
        o(f"| Same {a.chunk_lines} requests straight at one sim at the limit ({a.chunk_lines} / ({f2(limit)} / {a.agents})) | "
          f"{direct_chunk * 1000:.0f} ms |")
        o(f"| Agent logs: mean time between chunks (in_progress × {a.agents} − held) / chunks: lease claim round trip, idle tail | "
          f"{(running * a.agents - held) / done * 1000:.0f} ms |")
        o(f"| Agent logs: chunks leased again (attempt > 1) / attempts dropped | {retries} / {dropped} |")
    cpu = {k: int(v) for k, v in (x.split("=", 1) for x in a.cpu)}
    if cpu:
        per_k = lambda ticks, reqs: ticks / a.clk_tck * 1000 / reqs * 1000  # CPU ms per 1,000 requests
        share = lambda key: cpu[f"{key}_machine_busy"] / max(cpu[f"{key}_machine_total"], 1)
        o("")
        o("| CPU time (user + system, /proc/PID/stat), ms per 1,000 requests | Direct (wrk) | Batch |")
        o("|---|---:|---:|")
        o(f"| sims | {per_k(cpu['direct_sims'], before['requests']):.0f} | {per_k(cpu['batch_sims'], n):.0f} |")
        o(f"| agents ({a.agents}) | — (wrk instead, not measured) | {per_k(cpu['batch_agents'], n):.0f} |")
        o(f"| server | — | {per_k(cpu['batch_server'], n):.0f} |")
        ours = cpu["batch_sims"] + cpu["batch_agents"] + cpu["batch_server"]
        o(f"| sims + agents + server | — | {per_k(ours, n):.0f} |")
        o(f"| whole machine busy (all processes, everyone's), share of all cores | {share('direct'):.0%} | {share('batch'):.0%} |")
        o(f"| of which not this benchmark's server, agents or sims (other work, wrk, watch.py, the CLI) | — | "
          f"{(cpu['batch_machine_busy'] - ours) / max(cpu['batch_machine_total'], 1):.0%} |")
    rows = {"limit": limit, "e2e_rps": n / e2e, "queue_rps": n / running, "e2e_ratio": n / e2e / limit,
            "queue_ratio": n / running / limit, "overhead_ms": (running - direct_s) / n * 1000}

    if a.big:
        g = watch(a.big)
        gb = g["batch"]
        gc = gb["request_counts"]
        o("")
        mb = a.big_bytes / 1048576
        o(f"### 2. Server memory — {a.big_bytes:,}-byte input ({mb:.1f} MiB, {a.big_lines:,} lines of "
          f"{a.big_bytes // a.big_lines:,} bytes, max_tokens {a.big_max_tokens}), fresh server, same sims and agents' settings")
        o("")
        o("| Phase | Seconds | Peak RSS in the phase (VmHWM, reset at its start) MiB | Max sampled VmRSS (20 ms) MiB |")
        o("|---|---:|---:|---:|")
        o(f"| idle, before the upload | — | — | {mib(g.get('idle_rss_kb'))} |")
        names = {"upload": "upload: POST /v1/files (multipart, streamed)", "validating": "validating (input streamed, chunks queued)",
                 "in_progress": "in_progress (agents read chunks, write results)", "finalizing": "finalizing (output and error files)",
                 "cancelling": "cancelling (finalizer over what finished)"}
        peak = 0
        for ph in g["phases"]:
            peak = max(peak, ph["hwm_kb"] or 0, ph["max_rss_kb"] or 0)
            o(f"| {names.get(ph['name'], ph['name'])} | {ph['seconds']:.1f} | {mib(ph['hwm_kb'])} | {mib(ph['max_rss_kb'])} |")
        o(f"| **whole run** | {g['end'] - g['t0']:.1f} | **{mib(peak)}** | |")
        o("")
        outb = (g.get("output_file") or {}).get("bytes")
        errb = (g.get("error_file") or {}).get("bytes")
        o(f"Result: status `{gb['status']}`{' (cancelled by the benchmark at its time limit)' if g['cancelled_by_watch'] else ''}; "
          f"request_counts completed {gc['completed']:,}, failed {gc['failed']:,} of {gc['total']:,}; "
          f"output file {outb or 0:,} bytes, error file {errb or 0:,} bytes; in_progress at "
          f"{f2(gc['completed'] / max(phase_seconds(g, 'in_progress'), 1e-9))} requests/s. "
          f"VmHWM reset worked: {g.get('hwm_reset_ok')}.")
        rows["peak_mib"] = peak / 1024
        rows["big_status"] = gb["status"]

    o("")
    o("### Targets")
    o("")
    o("| Target | Measured | Verdict |")
    o("|---|---|---|")
    o(f"| Batch throughput vs the sims' combined capacity (no number set; reported) | end to end {rows['e2e_ratio']:.3f}, "
      f"queue {rows['queue_ratio']:.3f} of the limit | — |")
    if "peak_mib" in rows:
        verdict = "MET" if rows["peak_mib"] <= a.target_mib else "MISSED"
        o(f"| Server peak RSS ≤ {a.target_mib:.0f} MB while uploading and finalizing a 200 MB file | {rows['peak_mib']:.0f} MiB | {verdict} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
