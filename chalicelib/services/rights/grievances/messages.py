"""What grievance messages say: the person's code, acknowledgement and answer, and the officer's notice.

Every message names the officer and how to reach them. The complaint's text goes only in the body of
the officer's e-mail: never in a subject (subjects end up in mail logs and previews), never in an SMS.
"""

from __future__ import annotations

from chalicelib import clock
from chalicelib.notify import Message, send
from chalicelib.services.rights.grievances.officer import CHANNEL_OF, officer_line
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants import brand
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import consents, grievances
from chalicelib.store.grievances import Grievance


def _to_person(tenant: Tenant, grievance: Grievance, to: str, words: str, text: str, officer: dict[str, str]) -> None:
    """A legal message from the tenant to the person, on the channel they proved; its preferences link opens
    their ledger."""
    owner = consents.subject_owner(grievance.tenant_id, *grievances.identifier_of(grievance))
    send(brand.message(tenant, channel=grievance.channel, to=to, words=words,
                       text=f"{text}\n\n{officer_line(officer)}", kind="legal",
                       preferences_url=preferences_url(tenant, owner)))


def send_code(tenant: Tenant, grievance: Grievance, to: str, code: str, officer: dict[str, str]) -> None:
    text = (f"Your verification code is {code}. It expires in 10 minutes. Enter it to send your complaint "
            f"({grievance.grievance_id}) to {brand.display_name(tenant)}'s grievance officer.")
    _to_person(tenant, grievance, to, "confirm your complaint", text, officer)


def acknowledge(tenant: Tenant, grievance: Grievance, to: str, officer: dict[str, str]) -> None:
    text = (f"We received your complaint ({grievance.grievance_id}) to {brand.display_name(tenant)}. "
            f"You will have an answer by {clock.iso(grievance.due_at)[:10]} at the latest.")
    _to_person(tenant, grievance, to, "your complaint was received", text, officer)


def send_answer(tenant: Tenant, grievance: Grievance, to: str, answer: str, officer: dict[str, str]) -> None:
    text = f"The answer to your complaint ({grievance.grievance_id}) to {brand.display_name(tenant)}:\n\n{answer}"
    _to_person(tenant, grievance, to, "the answer to your complaint", text, officer)


def notify_officer(tenant: Tenant, grievance: Grievance, complaint: str, officer: dict[str, str]) -> None:
    """Tell the officer a verified grievance waits; the complaint itself only in an e-mail's body. It comes from
    LeadVault (the configured sender) to the tenant's own officer, naming the tenant."""
    due = clock.iso(grievance.due_at)[:10]
    name = brand.display_name(tenant)
    summary = (f"A complaint ({grievance.grievance_id}) was raised with {name}. Answer it by {due} "
               f"through POST /v1/grievances/{grievance.grievance_id}/answer (an admin key).")
    channel = CHANNEL_OF[officer["kind"]]
    text = f"{summary}\n\nThe complaint:\n\n{complaint}" if channel == "email" else summary
    send(Message(channel=channel, to=officer["contact"], subject=f"New grievance for {name}",
                 text=f"{text}\n\n{officer_line(officer)}"))
