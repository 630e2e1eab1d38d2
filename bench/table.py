"""Prints the benchmark results (one JSON object per line) as a Markdown table: each
scenario's throughput and latency, SQL statements and server and PostgreSQL CPU per
request, the server's peak RSS, pgbench's limit (one prepared statement per request) and
PartnerGraph's share of it, the sea-orm baseline's throughput, and how much the p50 grew
from the smallest to the largest data size. A scenario measured in several passes at one
size is one row: the mean of its passes."""
import json
import sys

passes = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else None


def combined(same):
    """One cell from the passes of one scenario at one size: the means of throughput,
    latencies, statements and CPU, the lowest success rate, the highest RSS."""
    raws = [p["raw"] for p in same if p.get("raw")]
    limits = [p["limit"] for p in same if p.get("limit")]
    return {**same[0],
            "rps": mean(p["rps"] for p in same), "p50": mean(p["p50"] for p in same),
            "p99": mean(p["p99"] for p in same), "ok": min(p["ok"] for p in same),
            "statements": mean(p["statements"] for p in same),
            "cpu": mean(p["cpu"] for p in same), "pg_cpu": mean(p["pg_cpu"] for p in same),
            "rss": max(p["rss"] for p in same),
            "raw": {"rps": mean(r["rps"] for r in raws)} if raws else None,
            "limit": {k: mean(l[k] for l in limits) for k in ("rps", "p50", "p99", "pg_cpu")}
            if limits else None}


by_cell = {}
for p in passes:
    by_cell.setdefault((p["db"], p["size"], p["scenario"]), []).append(p)
rows = [combined(same) for same in by_cell.values()]
# Measured scenario by scenario across sizes; listed database, then size, then scenario.
first_seen = {}
for r in rows:
    first_seen.setdefault(r["db"], len(first_seen))
    first_seen.setdefault(r["scenario"], len(first_seen))
rows.sort(key=lambda r: (first_seen[r["db"]], r["size"], first_seen[r["scenario"]]))
sizes = sorted({r["size"] for r in rows})
by_key = {(r["db"], r["size"], r["scenario"]): r for r in rows}


def growth(r):
    if len(sizes) < 2 or r["size"] != sizes[-1]:
        return "—"
    small = by_key.get((r["db"], sizes[0], r["scenario"]))
    return f'{r["p50"] / small["p50"]:.2f}×' if small and small["p50"] > 0 else "—"


def cpu(value, db):
    return f"{value:.2f}" if value is not None and (db == "postgres" or value > 0) else "—"


print("| database | registrations | scenario | req/s | p50 ms | p99 ms | ok | SQL/req "
      "| server CPU ms/req | PostgreSQL CPU ms/req | peak RSS MB | pgbench req/s | pgbench p99 ms "
      "| share of pgbench | sea-orm baseline req/s | p50 growth |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    limit, raw = r["limit"], r["raw"]
    limit_rps = f'{limit["rps"]:.0f}' if limit else "—"
    limit_p99 = f'{limit["p99"]:.1f}' if limit else "—"
    share = f'{r["rps"] / limit["rps"]:.2f}' if limit else "—"
    raw_rps = f'{raw["rps"]:.0f}' if raw else "—"
    print(f'| {r["db"]} | {r["size"]:,} | {r["scenario"]} | {r["rps"]:.0f} | {r["p50"]:.1f} '
          f'| {r["p99"]:.1f} | {r["ok"]:.0%} | {r["statements"]:.1f} | {r["cpu"]:.2f} '
          f'| {cpu(r["pg_cpu"], r["db"])} | {r["rss"]} | {limit_rps} | {limit_p99} | {share} '
          f'| {raw_rps} | {growth(r)} |')
