"""The deployed stages, read from `.chalice/config.json` so names and aliases have one source."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"
DEPLOYED_STAGES = ("dev", "prod")


@dataclass(frozen=True)
class Stage:
    """What differs between deployed stages; everything else is the same template."""

    name: str
    app_name: str
    table_prefix: str
    kms_alias: str

    @property
    def protected(self) -> bool:
        """Production data outlives its stack: deletion protection on, resources retained."""
        return self.name == "prod"

    @property
    def log_retention_days(self) -> int:
        return 90 if self.protected else 14

    @property
    def recovery_days(self) -> int:
        """Point-in-time recovery window: also how long an erased person's wrapped key stays restorable."""
        return 35 if self.protected else 7

    @property
    def throttle_rate(self) -> int:
        """Default requests per second of the API stage (a stack parameter): floods stop at the gateway."""
        return 100 if self.protected else 20

    @property
    def throttle_burst(self) -> int:
        return 2 * self.throttle_rate

    def function_name(self, function: str) -> str:
        """Chalice names each Lambda function ``<app>-<stage>-<function>``; the CLI relies on it."""
        return f"{self.app_name}-{self.name}-{function}"


def load_config() -> dict:
    return json.loads(CONFIG.read_text())


def stage(name: str) -> Stage:
    """The stage as config.json defines it; a stage without its own table prefix or KMS alias is refused."""
    config = load_config()
    env = {**config.get("environment_variables", {}), **config["stages"][name].get("environment_variables", {})}
    prefix, alias = env.get("LEADVAULT_TABLE_PREFIX"), env.get("LEADVAULT_KMS_KEY_ID", "")
    if not prefix or not alias.startswith("alias/"):
        raise ValueError(f"stage {name} needs LEADVAULT_TABLE_PREFIX and an alias/ LEADVAULT_KMS_KEY_ID")
    return Stage(name=name, app_name=config["app_name"], table_prefix=prefix, kms_alias=alias)
