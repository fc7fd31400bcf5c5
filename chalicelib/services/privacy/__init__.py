"""People's rights: privacy requests (access, erasure), their worker, and what they find."""
