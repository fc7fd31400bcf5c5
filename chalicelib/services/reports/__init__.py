"""What staff's admin reports read: privacy requests, retention, field work and the audit log, each from a
query or a counter kept with the writes, never a scan."""
