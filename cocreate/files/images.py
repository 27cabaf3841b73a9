"""Photos lose where they were taken: the EXIF GPS block (and XMP, which can repeat it) is removed from a
stored JPEG, PNG or WebP. Residents' voices do it unless the resident ticked "keep the location"; test
fields' and trials' photos always do (a field's place is on its page already; a trial's photo may show
a participant's street).

The file has already been content-checked and stored by :func:`cocreate.files.storage.receive`; here it
is read with Pillow and written again in place, with its other EXIF tags (the orientation, the camera)
and its colour profile, and without the GPS block or XMP. A JPEG keeps its quantisation tables and
subsampling (``quality="keep"``), so it looks the same. A GIF carries no EXIF and is left as it is. An
image Pillow cannot read, or one far larger than a photo (a decompression bomb), is refused.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from cocreate.errors import Invalid
from cocreate.files.storage import GIF, JPEG, PNG, WEBP, FileType
from cocreate.i18n import gettext as _

GPS_IFD = 0x8825
"""The EXIF tag of the GPS block (latitude, longitude, altitude, time)."""
MAX_PIXELS = 60_000_000
"""More than any phone camera takes (about 200 megapixels would be a decompression bomb)."""
_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
_XMP_KEYS = ("xmp", "XML:com.adobe.xmp")
"""Where Pillow puts an image's XMP packet (WebP and JPEG/PNG), which can repeat the position."""


def has_location(path: Path) -> bool:
    """Whether the image's EXIF has a GPS block (for tests and for the page's note)."""
    with Image.open(path) as image:
        return GPS_IFD in image.getexif()


def _unreadable() -> Invalid:
    return Invalid({"file": _("This image cannot be read. Choose another photo (PNG, JPEG or WebP).")})


def strip_location(path: Path, file_type: FileType) -> tuple[int, str]:
    """Rewrite the image at ``path`` without its location; returns its new (size in bytes, SHA-256)."""
    if file_type == GIF:
        data = path.read_bytes()
        return len(data), hashlib.sha256(data).hexdigest()
    image_format = _FORMATS.get(file_type)
    if image_format is None:
        raise _unreadable()
    temporary = path.with_name(path.name + ".tmp")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise _unreadable()
            image.load()
            exif = image.getexif()
            if GPS_IFD not in exif and not any(key in image.info for key in _XMP_KEYS):
                data = path.read_bytes()  # nothing to remove: the file stays as it was sent
                return len(data), hashlib.sha256(data).hexdigest()
            exif.pop(GPS_IFD, None)
            options: dict[str, Any] = {"exif": exif.tobytes()}
            if icc := image.info.get("icc_profile"):
                options["icc_profile"] = icc
            if image_format == "JPEG":
                options.update(quality="keep", subsampling="keep")
            elif image_format == "WEBP":
                options.update(lossless=bool(image.info.get("lossless")), quality=90)
            image.save(temporary, format=image_format, **options)
    except Invalid:
        temporary.unlink(missing_ok=True)
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        temporary.unlink(missing_ok=True)
        raise _unreadable() from None
    os.replace(temporary, path)
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()
