"""The ``/api/v1`` router."""

from fastapi import APIRouter

from costguard_backend.api.routes import actions, anomalies, audit, costs, me, savings, webhooks
from costguard_backend.api.routes import feedback as feedback_routes
from costguard_backend.api.routes import llm_usage as llm_usage_routes
from costguard_backend.api.routes import monitors as monitors_routes
from costguard_backend.api.routes import outbox as outbox_routes
from costguard_backend.api.routes import policy as policy_routes
from costguard_backend.api.routes import slack as slack_routes

api_router = APIRouter(prefix="/api/v1")
for module in (costs, anomalies, actions, webhooks, audit, outbox_routes):
    api_router.include_router(module.router)
api_router.include_router(policy_routes.router)
api_router.include_router(llm_usage_routes.router)
for module in (feedback_routes, monitors_routes):  # issue #3
    api_router.include_router(module.router)
for module in (me, savings, slack_routes):  # issue #6 backend
    api_router.include_router(module.router)
