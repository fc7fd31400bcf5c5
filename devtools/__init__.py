"""Developer tooling: local run and DynamoDB Local. Not deployed."""
