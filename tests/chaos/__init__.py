"""Fault-injection tests: the app on DynamoDB Local behind a proxy that throttles, loses answers, splits batches."""
