"""Prints the benchmark results (one JSON object per line) as a Markdown table: each
scenario's throughput and latency, SQL statements per request, the server's peak RSS, the
raw-SQL baseline's throughput and PartnerGraph's share of it, and how much the p50 grew from
the smallest to the largest data size."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
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
