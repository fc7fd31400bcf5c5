"""PynamoDB models and repositories. Table names and endpoint are bound per invocation."""

from chalicelib.store.binding import all_models, bind_tables

__all__ = ["all_models", "bind_tables"]
