"""Response models: the shapes the routes answer with, kept beside them so the OpenAPI document is generated.

The services build plain dicts; these models only describe them. A unit test drives the routes and
holds every answer against the document, and the fuzzer does the same over real HTTP.
"""
