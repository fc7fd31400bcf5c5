"""Deployment: the CloudFormation resources and IAM policies that `make package` merges into Chalice's template.

Nothing here is deployed; it runs on the operator's machine and in the tests. Generated files
(`deploy/templates/<stage>.json`, `.chalice/policies/<stage>/<function>.json`) are committed so
reviews see infrastructure changes, and a test fails when they fall behind the code.
"""
