"""Races between writers of the same item, run for real: neither one's change is lost."""

from __future__ import annotations

from chalicelib.store import leads
from tests.support.http import body_of
from tests.support.leads import lead_body, post_lead


def test_two_consent_summaries_written_at_once_keep_both_grants(client, widget):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    ours, theirs = leads.get(lead_id), leads.get(lead_id)
    raced: list[int] = []

    def summarise(current: dict[str, bool]) -> dict[str, bool]:
        if not raced:  # another writer lands between our read and our write
            raced.append(1)
            leads.set_consents(theirs, lambda now: {**now, "marketing_sms": True})
        return {**current, "marketing_email": True}

    leads.set_consents(ours, summarise)
    stored = leads.consents_of(leads.get(lead_id))
    assert raced and stored["marketing_sms"] is True and stored["marketing_email"] is True
    assert stored["contact"] is True
