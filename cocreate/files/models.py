"""The columns of a row that stands for one stored file (see :mod:`cocreate.files.storage`)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StoredFile(SQLModel):
    """Mixin of every table whose rows are uploaded files: the file lives in the upload folder under
    ``storage_key`` (:func:`cocreate.files.storage.stored_path`)."""

    filename: str = Field(max_length=255, description="The name it was uploaded with (display only).")
    content_type: str = Field(max_length=100, description="Detected from the content, not the name.")
    size_bytes: int = Field(nullable=False)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=200, unique=True)
