"""Database access shared by web requests, Celery tasks and the CLI."""

from cocreate.db.base import TimestampedModel, utcnow
from cocreate.db.engine import Database, read_apart, write_apart
from cocreate.db.work import transactional, unit_of_work

__all__ = ["Database", "TimestampedModel", "read_apart", "transactional", "unit_of_work", "utcnow", "write_apart"]
