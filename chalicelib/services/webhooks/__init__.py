"""Webhooks: tenants' subscriptions, the event catalogue, and deliveries (a test, a redelivery, the log)."""
