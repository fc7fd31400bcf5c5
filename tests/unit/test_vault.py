"""Envelope encryption, crypto-shredding, blind indexes and the master keys."""

from __future__ import annotations

import os
import stat

import boto3
import pytest
from cryptography.exceptions import InvalidTag

from chalicelib import invocation
from chalicelib.config import ConfigError, get_settings
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store.models.person_keys import PersonKeyRecord, key_ref
from chalicelib.vault import envelope
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.master import FileMasterKey, KmsMasterKey, master_key_for
from chalicelib.vault.minimise import round_location, truncate_ip
from tests.support.people import EMAIL_NORMALISED


def test_seal_and_unseal_round_trip_any_unicode(tenant):
    with invocation.invocation():
        subject = envelope.new_subject(tenant)
        for text in ("Priya", "名前 🙂", "", "a" * 5000):
            blob = envelope.stored_key(tenant, subject.subject_id).seal("name", text)
            assert text.encode() not in blob or text == ""
            assert envelope.stored_key(tenant, subject.subject_id).unseal("name", blob) == text


def test_a_sealed_value_moved_to_another_field_or_person_does_not_open(tenant):
    with invocation.invocation():
        alice, bob = envelope.new_subject(tenant), envelope.new_subject(tenant)
        blob = envelope.stored_key(tenant, alice.subject_id).seal("email", EMAIL_NORMALISED)
        with pytest.raises(InvalidTag):
            envelope.stored_key(tenant, alice.subject_id).unseal("phone", blob)
        with pytest.raises(InvalidTag):
            envelope.stored_key(tenant, bob.subject_id).unseal("email", blob)


def test_a_leads_inline_key_opens_in_a_fresh_invocation_and_only_for_that_lead(tenant):
    lead, other = "led_" + "a" * 20, "led_" + "b" * 20
    with invocation.invocation():
        inline = envelope.new_inline_key(tenant, lead)
        blob = inline.key.seal("profile", "Priya")
    with invocation.invocation():  # nothing cached and nothing loaded first: the key carries its wrapped copy
        assert envelope.SubjectKey(tenant, lead, inline.wrapped).unseal("profile", blob) == "Priya"
        with pytest.raises(InvalidTag):  # the wrapped key is bound to its lead
            envelope.SubjectKey(tenant, other, inline.wrapped).unseal("profile", blob)


def test_each_person_gets_their_own_data_key(tenant):
    with invocation.invocation():
        first, second = envelope.new_subject(tenant), envelope.new_subject(tenant)
    assert first.subject_id != second.subject_id
    assert first.record.wrapped_key != second.record.wrapped_key


def test_destroying_the_key_makes_every_copy_unreadable(tenant):
    with invocation.invocation():
        subject = envelope.new_subject(tenant)
        backup_copy = envelope.stored_key(tenant, subject.subject_id).seal("email", EMAIL_NORMALISED)
        envelope.destroy_subject(tenant, subject.subject_id)
        with pytest.raises(envelope.SubjectKeyMissing):
            envelope.stored_key(tenant, subject.subject_id).unseal("email", backup_copy)
    with invocation.invocation(), pytest.raises(envelope.SubjectKeyMissing):
        envelope.stored_key(tenant, subject.subject_id).unseal("email", backup_copy)


def test_unwrapped_keys_are_cached_per_invocation_only(tenant, monkeypatch):
    with invocation.invocation():
        subject = envelope.new_subject(tenant)
        blob = envelope.stored_key(tenant, subject.subject_id).seal("name", "x")
    reads: list[str] = []
    original_get = PersonKeyRecord.get.__func__

    def counting_get(cls, *args, **kwargs):
        reads.append(args[0])
        return original_get(cls, *args, **kwargs)

    monkeypatch.setattr(PersonKeyRecord, "get", classmethod(counting_get))
    for _ in range(2):
        with invocation.invocation():
            for _ in range(3):
                envelope.stored_key(tenant, subject.subject_id).unseal("name", blob)
    assert reads == [key_ref(tenant, subject.subject_id)] * 2


def test_blind_index_is_stable_within_a_tenant_and_differs_across_tenants(tenant, operator):
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    with invocation.invocation():
        mine, theirs = require_tenant(tenant), require_tenant(other)
        first = blind_index(mine, "email", EMAIL_NORMALISED)
        assert blind_index(mine, "email", EMAIL_NORMALISED) == first
        assert blind_index(mine, "phone", EMAIL_NORMALISED) != first
        assert blind_index(theirs, "email", EMAIL_NORMALISED) != first
    assert EMAIL_NORMALISED not in first and len(first) == 43


def test_local_master_key_file_is_created_0600_and_reused(tmp_path):
    path = tmp_path / "keys" / "master.key"
    first = FileMasterKey(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    plaintext, wrapped = first.generate({"tenant_id": "t"})
    assert FileMasterKey(path).unwrap(wrapped, {"tenant_id": "t"}) == plaintext
    with pytest.raises(InvalidTag):
        FileMasterKey(path).unwrap(wrapped, {"tenant_id": "other"})


def test_a_master_key_file_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "master.key"
    FileMasterKey(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError):
        FileMasterKey(path)


def test_kms_master_key_is_used_when_configured(aws, monkeypatch):
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("LEADVAULT_KMS_KEY_ID", key_id)
    master = master_key_for(get_settings())
    assert isinstance(master, KmsMasterKey)
    context = {"tenant_id": "t", "subject_id": "s"}
    plaintext, wrapped = master.generate(context)
    assert len(plaintext) == 32 and plaintext not in wrapped
    assert master.unwrap(wrapped, context) == plaintext


def test_kms_stage_round_trip_through_the_vault(aws, monkeypatch, operator):
    from chalicelib.store.schema import create_tables

    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    monkeypatch.setenv("LEADVAULT_KMS_KEY_ID", key_id)
    create_tables()
    tenant = operator("admin_create_tenant", {"name": "Kms Co", "default_region": "IN"})["tenant_id"]
    with invocation.invocation():
        subject = envelope.new_subject(tenant)
        blob = envelope.stored_key(tenant, subject.subject_id).seal("email", EMAIL_NORMALISED)
    assert subject.record.master_key == f"kms:{key_id}"
    with invocation.invocation():
        assert envelope.stored_key(tenant, subject.subject_id).unseal("email", blob) == EMAIL_NORMALISED


def test_cloud_stages_refuse_to_run_without_kms(monkeypatch):
    monkeypatch.setenv("LEADVAULT_STAGE", "prod")
    with pytest.raises(ConfigError):
        get_settings()


@pytest.mark.parametrize(
    ("address", "kept"),
    [("203.0.113.77", "203.0.113.0/24"), ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
     ("not an ip", None), (None, None)],
)
def test_ip_addresses_are_truncated(address, kept):
    assert truncate_ip(address) == kept


def test_locations_are_rounded_to_two_decimals():
    assert round_location(12.971598, 77.594566) == (12.97, 77.59)
