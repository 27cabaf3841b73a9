"""Serving stored files: download headers and sizes, shared by every component's file routes."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Response

IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
"""Cache-Control of a public file whose address changes when the file does."""


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """``inline; filename="…"; filename*=UTF-8''…`` (RFC 6266 with the RFC 5987 encoded name)."""
    fallback = "".join(ch if " " <= ch < "\x7f" and ch not in '"\\%' else "_" for ch in filename) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_download(body: bytes, filename: str, *, cache_control: str = "private, no-store") -> Response[bytes]:
    """A CSV file to save under ``filename`` (UTF-8; ``body`` starts with a BOM when it is for Excel)."""
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(filename, "attachment"), "Cache-Control": cache_control})


def file_size(size_bytes: int) -> str:
    """A short, locale-neutral size: 820 B, 12 KB, 3.4 MB."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    if size_bytes < 1024 * 1024:
        return f"{round(size_bytes / 1024)} KB"
    return f"{size_bytes / (1024 * 1024):.1f} MB"
