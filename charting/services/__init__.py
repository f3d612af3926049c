"""Qt-free use cases: each takes a session, changes or reads data, and says what changed."""

from charting.services.errors import NotFoundError, ServiceError, ValidationError

__all__ = ["NotFoundError", "ServiceError", "ValidationError"]
