"""The ``/api/v1`` router."""

from fastapi import APIRouter

from costguard_backend.api.routes import actions, anomalies, audit, costs, webhooks

api_router = APIRouter(prefix="/api/v1")
for module in (costs, anomalies, actions, webhooks, audit):
    api_router.include_router(module.router)
