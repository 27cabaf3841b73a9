"""Builders shared by the voice tests: real JPEGs with a GPS position, and voices posted through the service."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlmodel import Session

from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal
from cocreate.settings import Settings
from proposals.models import Voice
from proposals.voices import services as voices

GPS = {1: "N", 2: (35.0, 45.0, 4.32), 3: "E", 4: (139.0, 42.0, 33.48)}
"""An EXIF GPS block: 35°45'4.32"N 139°42'33.48"E (Itabashi ward office)."""


def gps_jpeg(width: int = 64, height: int = 48, camera: str = "TestCam") -> bytes:
    """A real JPEG whose EXIF says where it was taken (and with which camera)."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0110] = camera
    exif[0x8825] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def voice_form(**overrides: Any) -> voices.VoiceForm:
    data: dict[str, Any] = {"title": "駅前の横断歩道に信号がほしい", "body": "朝の通学時間に**危ない**です。",
                            "category": "disaster_safety", "area": "itabashi", "latitude": "35.7512",
                            "longitude": "139.7093", "address": "板橋駅前"}
    data.update(overrides)
    return voices.VoiceForm.parse(data)


def post_voice(session: Session, settings: Settings, author: User, **overrides: Any) -> Voice:
    return voices.post(session, settings, Principal.load(session, author), voice_form(**overrides))
