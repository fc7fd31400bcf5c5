"""HTTP layer: one blueprint per resource. Handlers parse and authorise, services decide."""
