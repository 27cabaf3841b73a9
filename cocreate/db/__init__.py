"""Database access shared by web requests, Celery tasks and the CLI."""

from cocreate.db.base import TimestampedModel, utcnow
from cocreate.db.engine import Database, read_apart, write_apart

__all__ = ["Database", "TimestampedModel", "read_apart", "utcnow", "write_apart"]
