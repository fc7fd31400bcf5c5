"""The hosted privacy portal and preferences page, in a real browser, with codes read from the outbox."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from tests.browser.conftest import accessibility_violations, admin_headers, tenant_of
from tests.support import outbox


def new_lead(service, email: str, phone: str) -> str:
    status, lead = service.request("POST", "/v1/leads", {"name": "Kiran Rao", "email": email, "phone": phone},
                                   headers=admin_headers(service))
    assert status == 201, lead
    return lead["lead_id"]


def code_for(service, email: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            return outbox.last_code(email, service.data_dir / "outbox")
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def file_request(page, service, kind: str, email: str) -> None:
    page.goto(f"{service.base_url}/v1/pages/privacy#key={service.keys()['widget']}")
    form = page.get_by_role("form", name="Privacy request")
    form.get_by_label("Erase my data" if kind == "erasure" else "Get a copy of my data").check()
    form.get_by_label("E-mail address").fill(email)
    form.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name=f"Your {kind} request")).to_be_focused()


def test_an_erasure_through_the_portal_with_the_code_from_the_outbox(service, page, screenshots):
    email = "kiran.erase@example.com"
    lead_id = new_lead(service, email, "+91 98450 40001")
    file_request(page, service, "erasure", email)
    assert accessibility_violations(page) == []

    code_box = page.get_by_label("The 6-digit code we sent you")
    real = code_for(service, email)
    code_box.fill("000000" if real != "000000" else "111111")
    page.get_by_role("button", name="Confirm").click()
    expect(code_box).to_have_accessible_description(re.compile("code", re.I))
    expect(code_box).to_have_attribute("aria-invalid", "true")

    code_box.fill(real)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text("Done.", timeout=30_000)
    receipt = page.locator(".lv-receipt")
    expect(receipt).to_contain_text("1 record of your contact details")  # in people's words
    expect(receipt).not_to_contain_text(re.compile(r"Leads:|Identity claims|Idempotency|: 0|_"))
    expect(page.get_by_text("technical records that linked these together")).to_be_visible()
    page.screenshot(path=str(screenshots / "privacy-portal-erasure.png"), full_page=True)

    assert service.request("GET", f"/v1/leads/{lead_id}", headers=admin_headers(service))[0] == 404


def test_an_access_request_sends_a_download_link_that_works_once(service, page, screenshots):
    email = "kiran.access@example.com"
    new_lead(service, email, "+91 98450 40002")
    file_request(page, service, "access", email)
    page.get_by_label("The 6-digit code we sent you").fill(code_for(service, email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(re.compile("We sent a download link"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Download my data")).to_have_count(0)  # the widget key is not enough
    page.screenshot(path=str(screenshots / "privacy-portal-access.png"), full_page=True)

    link = outbox.wait_for(outbox.download_link, email, outbox=service.data_dir / "outbox")
    page.goto("about:blank")  # a new link: a fragment change alone would not load the page again
    page.goto(link)
    download_button = page.get_by_role("button", name="Download my data")
    expect(download_button).to_be_visible()
    expect(page).to_have_url(re.compile(r"/v1/pages/privacy$"))  # the token is out of the address bar
    assert accessibility_violations(page) == []
    with page.expect_download() as downloaded:
        download_button.click()
    exported = json.loads(downloaded.value.path().read_text(encoding="utf-8"))
    assert email in json.dumps(exported) and "+919845040002" in json.dumps(exported)
    expect(page.get_by_role("status")).to_have_text(re.compile("^Downloaded"))

    page.goto("about:blank")
    page.goto(link)  # the same link again: it worked once
    page.get_by_role("button", name="Download my data").click()
    result = page.get_by_role("status")
    expect(result).to_have_text("This link was already used or has expired; file a new access request.")
    expect(result).to_be_focused()


def test_the_preferences_page_behind_the_signed_link(service, page, screenshots):
    email = "kiran.prefs@example.com"
    new_lead(service, email, "+91 98450 40003")
    file_request(page, service, "access", email)
    token = outbox.preferences_token(email, service.data_dir / "outbox")

    page.goto(f"{service.base_url}/v1/pages/preferences#token={token}")
    texts = page.get_by_label("Send me offers by text message")
    expect(texts).not_to_be_checked()
    texts.check()
    page.get_by_role("button", name="Save my choices").click()
    saved = page.get_by_role("status")
    expect(saved).to_have_text("Saved. Thank you.")
    expect(saved).to_be_focused()  # the person hears and sees it at once
    assert accessibility_violations(page) == []
    page.screenshot(path=str(screenshots / "preferences.png"), full_page=True)
    status, shown = service.request("POST", "/v1/preferences/read", {"token": token})
    assert status == 200 and shown["grants"]["marketing_sms"] is True

    page.goto("about:blank")  # a new link: a fragment change alone would not load the page again
    page.goto(f"{service.base_url}/v1/pages/preferences#token=forged.token")
    expect(page.get_by_role("alert")).to_have_text(re.compile("not valid or has expired"))


def test_a_complaint_through_the_portal_reaches_the_officer(service, page):
    """Last in the module: it names the demo tenant's officer, which adds the complaint form to the portal."""
    service.operator("admin_set_grievance_officer", {"tenant_id": tenant_of(service), "grievance_officer": {
        "name": "Meera Iyer", "email": "grievance@demo.example"}})
    email = "kiran.complaint@example.com"
    page.goto(f"{service.base_url}/v1/pages/privacy#key={service.keys()['widget']}")
    officer = re.compile(r"Meera Iyer, the grievance officer \(grievance@demo.example\)")
    expect(page.get_by_text(officer)).to_be_visible()
    form = page.get_by_role("form", name="Complaint")
    form.get_by_label("Your complaint").fill("short")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_role("button", name="Send me a code").click()
    expect(form.get_by_label("Your complaint")).to_have_accessible_description(re.compile("at least 10", re.I))
    form.get_by_label("Your complaint").fill("You called me at night after I asked you to stop.")
    form.get_by_role("button", name="Send me a code").click()
    expect(page.get_by_role("heading", name="Confirm your complaint")).to_be_focused()
    assert accessibility_violations(page) == []
    page.get_by_label("The 6-digit code we sent you").fill(code_for(service, email))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("^Sent. We will answer by"))
    assert accessibility_violations(page) == []

    def complaint(to, box):
        found = [m["text"] for m in outbox.messages(box) if m["to"] == to]
        assert found, "no notice yet"
        return found[-1]

    notice = outbox.wait_for(complaint, "grievance@demo.example", outbox=service.data_dir / "outbox")
    assert "asked you to stop" in notice
