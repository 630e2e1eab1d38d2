"""Prints the benchmark results (one JSON object per line) as a Markdown table: each
scenario's throughput and latency, SQL statements per request, the server's peak RSS, the
raw-SQL baseline's throughput and PartnerGraph's share of it, and how much the p50 grew from
the smallest to the largest data size. A scenario measured in several passes at one size
is one row: the mean of its passes."""
import json
import sys

passes = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]


def combined(same):
    """One cell from the passes of one scenario at one size: the means of throughput,
    latencies and statements, the lowest success rate, the highest RSS."""
    mean = lambda values: sum(values) / len(values)
    raws = [p["raw"] for p in same if p["raw"]]
    return {**same[0],
            "rps": mean([p["rps"] for p in same]), "p50": mean([p["p50"] for p in same]),
            "p99": mean([p["p99"] for p in same]), "ok": min(p["ok"] for p in same),
            "statements": mean([p["statements"] for p in same]),
            "rss": max(p["rss"] for p in same),
            "raw": {"rps": mean([r["rps"] for r in raws])} if raws else None}


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


print("| database | registrations | scenario | req/s | p50 ms | p99 ms | ok | SQL/req "
      "| peak RSS MB | raw req/s | share of raw | p50 growth |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    raw = r["raw"]
    raw_rps = f'{raw["rps"]:.0f}' if raw else "—"
    share = f'{r["rps"] / raw["rps"]:.2f}' if raw else "—"
    print(f'| {r["db"]} | {r["size"]:,} | {r["scenario"]} | {r["rps"]:.0f} | {r["p50"]:.1f} '
          f'| {r["p99"]:.1f} | {r["ok"]:.0%} | {r["statements"]:.1f} | {r["rss"]} '
          f'| {raw_rps} | {share} | {growth(r)} |')
