"""LeadVault's Chalice app: wiring only. Routes, operator and scheduled functions live in chalicelib."""

from chalicelib.admin import admin
from chalicelib.api.application import LeadVaultChalice
from chalicelib.api.openapi import API
from chalicelib.jobs import jobs

app = LeadVaultChalice(app_name="leadvault", configure_logs=False)

for blueprint in (*API, admin, jobs):
    app.register_blueprint(blueprint)
