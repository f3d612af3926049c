"""Qt-free use cases: each takes a session, changes or reads data, and says what changed."""

from charting.services.errors import NotFound, ServiceError, ValidationError

__all__ = ["NotFound", "ServiceError", "ValidationError"]
