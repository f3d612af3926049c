"""Qt-free use cases: each takes a session, changes or reads data, and says what changed."""

# Installs the audit log's guard on every write before any service runs.
from charting.services import audit as _audit  # noqa: F401
from charting.services.errors import NotFoundError, ServiceError, ValidationError

__all__ = ["NotFoundError", "ServiceError", "ValidationError"]
