"""Settings, read from the environment at call time.

Chalice sets stage variables only while a function runs, so nothing here may be read at import
time: callers ask for :func:`get_settings` inside the call that needs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_OVERRIDE_STAGES = frozenset({"local", "test"})
CLOUD_STAGES = frozenset({"dev", "prod"})
EMAIL_BACKENDS = frozenset({"ses", "smtp", "outbox"})
# Where `make run` serves DynamoDB Local by default: the `local` stage's endpoint when none is set, so the
# operator CLI in another shell reaches the local run without any export (other stages: unset means AWS).
LOCAL_DYNAMODB_ENDPOINT = "http://127.0.0.1:8001"


class ConfigError(RuntimeError):
    """The environment is missing or contradicting a setting the service needs."""


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    dynamodb_endpoint_url: str | None
    region: str
    kms_key_id: str | None
    master_key_file: Path
    email_backend: str
    outbox_dir: Path
    now_override: str | None
    log_level: str
    sms_backend: str = "outbox"
    email_from: str = "LeadVault <privacy@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    send_rate: float = 14.0

    @property
    def uses_kms(self) -> bool:
        return bool(self.kms_key_id)

    @property
    def backup_days(self) -> int:
        """Days the tables' point-in-time recovery keeps a deleted (shredded) key restorable: what erasure
        messages promise. The deployed stages' ``recovery_days`` (deploy/stages.py); a test holds them equal."""
        return 35 if self.stage == "prod" else 7


def get_settings(environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    """Build the settings from the environment as it is now."""
    env = os.environ if environ is None else environ
    stage = env.get("LEADVAULT_STAGE", "local").strip() or "local"
    data_dir = Path(env.get("LEADVAULT_DATA_DIR", ".data"))
    email_backend = env.get("LEADVAULT_EMAIL_BACKEND", "outbox" if stage not in CLOUD_STAGES else "ses")
    if email_backend not in EMAIL_BACKENDS:
        raise ConfigError(f"LEADVAULT_EMAIL_BACKEND must be one of {sorted(EMAIL_BACKENDS)}")
    kms_key_id = env.get("LEADVAULT_KMS_KEY_ID") or None
    if stage in CLOUD_STAGES and not kms_key_id:
        raise ConfigError("stages dev and prod need LEADVAULT_KMS_KEY_ID: a local key file would not survive Lambda")
    return Settings(
        stage=stage,
        table_prefix=env.get("LEADVAULT_TABLE_PREFIX", f"leadvault-{stage}-"),
        dynamodb_endpoint_url=env.get("DYNAMODB_ENDPOINT_URL") or (LOCAL_DYNAMODB_ENDPOINT if stage == "local"
                                                                    else None),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        kms_key_id=kms_key_id,
        master_key_file=Path(env.get("LEADVAULT_MASTER_KEY_FILE", str(data_dir / "master.key"))),
        email_backend=email_backend,
        outbox_dir=Path(env.get("LEADVAULT_OUTBOX_DIR", str(data_dir / "outbox"))),
        now_override=env.get("LEADVAULT_NOW") or None,
        log_level=env.get("LEADVAULT_LOG_LEVEL", "INFO"),
        sms_backend=env.get("LEADVAULT_SMS_BACKEND", "sns" if stage in CLOUD_STAGES else "outbox"),
        email_from=env.get("LEADVAULT_EMAIL_FROM", "LeadVault <privacy@localhost>"),
        public_url=env.get("LEADVAULT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        smtp_host=env.get("LEADVAULT_SMTP_HOST", "localhost"),
        smtp_port=int(env.get("LEADVAULT_SMTP_PORT", "25")),
        smtp_user=env.get("LEADVAULT_SMTP_USER") or None,
        smtp_password=env.get("LEADVAULT_SMTP_PASSWORD") or None,
        smtp_starttls=env.get("LEADVAULT_SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        send_rate=float(env.get("LEADVAULT_SEND_RATE", "14")),
    )
