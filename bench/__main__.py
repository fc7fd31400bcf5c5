"""``make bench``: every benchmark, one JSON line per figure."""

from __future__ import annotations

from bench import cold_import, ddb_costs, erasure_costs, notice_costs, purge_costs

if __name__ == "__main__":
    cold_import.run()
    ddb_costs.run()
    erasure_costs.run()
    purge_costs.run()
    notice_costs.run()
