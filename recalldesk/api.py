"""The authenticated API for the systems that feed the registry and read ledgers."""

from ninja import NinjaAPI

api = NinjaAPI(title="recalldesk API", version="1", urls_namespace="api")
