"""LeadVault's Chalice app: wiring only. Routes, operator and scheduled functions live in chalicelib."""

from chalicelib.admin import admin
from chalicelib.api.application import LeadVaultChalice
from chalicelib.api.field_work import field_work
from chalicelib.api.health import health
from chalicelib.api.leads import leads
from chalicelib.api.me import me
from chalicelib.api.openapi import openapi
from chalicelib.api.policies import policies
from chalicelib.api.rights import rights
from chalicelib.api.web import web
from chalicelib.jobs import jobs

app = LeadVaultChalice(app_name="leadvault", configure_logs=False)

for blueprint in (health, me, openapi, leads, field_work, rights, policies, web, admin, jobs):
    app.register_blueprint(blueprint)
