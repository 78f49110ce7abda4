"""The REST API (docs/api.md): FastAPI over the services of one ``LedgerContext`` — thin
routes, API keys with roles, declared purposes and the access log, RFC 9457 problems."""

from ledger_service.api.app import API_VERSION, ApiSettings, create_app
from ledger_service.api.auth import ApiKey, ApiKeys, Principal, Role
from ledger_service.api.purpose import Purpose

__all__ = [
    "API_VERSION",
    "ApiKey",
    "ApiKeys",
    "ApiSettings",
    "Principal",
    "Purpose",
    "Role",
    "create_app",
]
