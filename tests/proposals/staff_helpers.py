"""Shared pieces of the staff challenge editor tests: a ward with departments and people, form data,
and real files to upload."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Department, Role, User
from tests.factories import create_challenge, create_department, create_organisation, create_user, sign_in
from tests.helpers import csrf_token


@dataclass
class Ward:
    transport: Department
    env: Department
    parks: Department
    people: dict[str, User]
    draft: Any
    published: Any


def make_ward(session: Session) -> Ward:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development Department", section_en="Transport Policy Section")
    env = create_department(session)
    parks = create_department(session, "parks", division_ja="土木部", section_ja="みどりと公園課",
                              division_en="Civil Engineering Department", section_en="Parks Section")
    people = {
        "staff": create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, transport.id)]),  # type: ignore[list-item]
        "co_staff": create_user(session, "kankyo@example.jp", display_name="環境 花子", roles=[(Role.STAFF, env.id)]),  # type: ignore[list-item]
        "other_staff": create_user(session, "koen@example.jp", roles=[(Role.STAFF, parks.id)]),  # type: ignore[list-item]
        "resident": create_user(session, "resident@example.jp"),
        "member": create_user(session, "member@example.jp"),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
    }
    create_organisation(session, admin=people["member"], verified=True)
    draft = create_challenge(session, transport, phase="draft", title="下書きの課題を実現したい", co_owners=[env])
    published = create_challenge(session, transport, phase="published", title="公開中の課題を実現したい",
                                 co_owners=[env])
    return Ward(transport, env, parks, people, draft, published)


def signed_in_client(client: TestClient[Litestar], ward: Ward, who: str) -> TestClient[Litestar]:
    if who != "anonymous":
        sign_in(client, ward.people[who])
    return client


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    body = {"_csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=body, follow_redirects=False, **kwargs)


def complete_form(**overrides: Any) -> dict[str, Any]:
    """Everything the editor asks for, as a browser sends it (strings, indexed rows)."""
    form: dict[str, Any] = {
        "title": "高島平の移動を、誰もが気軽にできるようにしたい",
        "summary": "坂道と高齢化で外出が難しくなっている地域の移動手段を一緒に考えたい。",
        "category": "transport_mobility", "area": "高島平",
        "contact_name": "交通政策課 計画係", "contact_email": "kotsu@example.jp", "contact_phone": "03-3579-2111",
        "background": "団地の**高齢化**が進んでいます。\n\n- 坂道が多い\n- バスの本数が少ない",
        "current_situation": "コミュニティバスを試行中です。", "desired_outcome": "買い物や通院に気軽に出かけられる状態。",
        "constraints": "公道での実証は道路使用許可が必要です。", "eligibility": "法人・大学・NPO",
        "support_facilities": "高島平地域の公園", "support_data": "乗降データ（匿名化済み）", "support_other": "広報支援",
        "budget_cap_yen": "3,000,000",
        "criteria-0-name": "実現可能性", "criteria-0-weight": "40", "criteria-0-description": "体制と技術",
        "criteria-1-name": "地域への効果", "criteria-1-weight": "60", "criteria-1-description": "",
        "criteria-2-name": "", "criteria-2-weight": "", "criteria-2-description": "",
        "kpis-0-indicator": "外出頻度", "kpis-0-baseline": "週2回", "kpis-0-target": "週3回", "kpis-0-unit": "回/週",
        "kpis-1-indicator": "", "kpis-1-baseline": "", "kpis-1-target": "", "kpis-1-unit": "",
        "phase_accepting": "2030-04-01T09:00", "phase_voting": "2030-05-01T09:00", "phase_review": "",
        "phase_decided": "", "phase_trial": "", "phase_completed": "",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


# --- real files ----------------------------------------------------------------------------------


def pdf_bytes(text: str = "cocreate") -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x0b\x5c\x3b" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode."
HTML_PAGE = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_IMAGE = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'


def upload(client: TestClient[Litestar], challenge_id: int, content: bytes, filename: str, *, kind: str = "document",
           title: str = "", content_type: str = "application/octet-stream") -> Any:
    return client.post(f"/staff/challenges/{challenge_id}/attachments",
                       data={"_csrf_token": csrf_token(client), "kind": kind, "attachment_title": title},
                       files={"file": (filename, content, content_type)}, follow_redirects=False)


# --- hostile markup ------------------------------------------------------------------------------


