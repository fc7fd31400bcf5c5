"""The pages people open may show the business's logo from its https address, and nothing else from elsewhere."""

from __future__ import annotations

import pytest

from chalicelib.api.web import PAGE_POLICY


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("page", ["/v1/pages/privacy", "/v1/pages/preferences", "/v1/pages/confirm"])
def test_only_images_may_come_from_another_https_origin(client, page):
    answer = client.http.get(page)
    assert answer.status_code == 200
    served = directives(answer.headers["Content-Security-Policy"])
    assert served["img-src"] == "'self' data: https:"  # the logo, on https only: never http
    strict = directives(PAGE_POLICY)
    assert strict["img-src"] == "'self' data:"  # staff pages keep the strict policy
    assert {k: v for k, v in served.items() if k != "img-src"} == {k: v for k, v in strict.items() if k != "img-src"}
    assert served["script-src"] == served["connect-src"] == served["style-src"] == "'self'"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
