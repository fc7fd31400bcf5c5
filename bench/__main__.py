"""``make bench``: every benchmark, one JSON line per figure."""

from __future__ import annotations

# moto hooks every botocore session made after it is imported; the notice figures run on moto in
# this same process after the DynamoDB Local ones, whose shared session must already carry that hook.
import moto  # noqa: F401

from bench import cold_import, ddb_costs, erasure_costs, notice_costs, purge_costs, webhook_delivery

if __name__ == "__main__":
    cold_import.run()
    ddb_costs.run()
    erasure_costs.run()
    purge_costs.run()
    webhook_delivery.run()
    notice_costs.run()
