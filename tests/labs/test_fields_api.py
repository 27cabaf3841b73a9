"""The read API of test fields: GET /api/v1/test-fields and /api/v1/test-fields/{id}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.db.base import utcnow
from labs.models import Area, Blackout, DocumentKind, FieldKind, TestFieldPhoto
from tests.helpers import QueryLog
from tests.labs.helpers import create_field, create_user

pytestmark = pytest.mark.databases("sqlite", why="the API is Python over plain queries")




def test_list_shape_filters_and_pages(session: Session, client: TestClient[Litestar], query_log: QueryLog) -> None:
    coordinator = create_user(session, "c@example.jp", roles=[Role.COORDINATOR])
    park = create_field(session, coordinator, name="A 公園", summary="広場")
    create_field(session, coordinator, name="B 道路", kind=FieldKind.ROAD, area=Area.ITABASHI, latitude=None,
                 longitude=None)
    create_field(session, coordinator, name="C 非公開", published=False)
    query_log.statements.clear()
    response = client.get("/api/v1/test-fields")
    assert response.status_code == 200
    with_two = query_log.count
    body = response.json()
    assert [item["name"] for item in body["items"]] == ["A 公園", "B 道路"]
    assert body["items"][0] == {
        "id": park.id, "url": f"/fields/{park.id}", "name": "A 公園", "kind": "park",
        "kind_label": body["items"][0]["kind_label"], "area": "takashimadaira",
        "area_label": body["items"][0]["area_label"], "address": "東京都板橋区高島平8丁目", "latitude": 35.789,
        "longitude": 139.661, "summary": "広場",
    }
    assert body["items"][1]["latitude"] is None
    assert body["page"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1, "next": None, "previous": None}
    assert [i["name"] for i in client.get("/api/v1/test-fields?kind=road").json()["items"]] == ["B 道路"]
    assert [i["name"] for i in client.get("/api/v1/test-fields?area=takashimadaira").json()["items"]] == ["A 公園"]
    assert client.get("/api/v1/test-fields?kind=castle").status_code == 400
    assert client.get("/api/v1/test-fields?per_page=1000").status_code == 400

    for n in range(10):
        create_field(session, coordinator, name=f"D {n}")
    query_log.statements.clear()
    paged = client.get("/api/v1/test-fields?per_page=5&page=2&kind=park").json()
    assert query_log.count == with_two, str(query_log)
    assert len(paged["items"]) == 5 and paged["page"]["total"] == 11
    assert paged["page"]["next"] == "/api/v1/test-fields?kind=park&page=3&per_page=5"
    assert paged["page"]["previous"] == "/api/v1/test-fields?kind=park&page=1&per_page=5"


def test_detail_shape(session: Session, client: TestClient[Litestar]) -> None:
    coordinator = create_user(session, "c@example.jp", display_name="秘密の調整役", roles=[Role.COORDINATOR])
    test_field = create_field(session, coordinator, description="**説明**", rules="規則", contact="窓口",
                              hours=[(0, 540, 1020), (6, 0, 1440)],
                              requirements=[DocumentKind.SAFETY_PLAN, DocumentKind.PRIVACY_IMPACT])
    soon = utcnow() + timedelta(days=2)
    session.add_all([
        Blackout(field_id=test_field.id, starts_at=soon, ends_at=soon + timedelta(hours=5), reason="祭り"),  # type: ignore[arg-type]
        Blackout(field_id=test_field.id, starts_at=soon - timedelta(days=10),  # type: ignore[arg-type]
                 ends_at=soon - timedelta(days=9), reason="過去"),
        TestFieldPhoto(field_id=test_field.id, alt_text="広場", filename="p.png", content_type="image/png",  # type: ignore[arg-type]
                       size_bytes=8, sha256="a" * 64, storage_key="fields/" + "0" * 32),
    ])
    session.commit()
    response = client.get(f"/api/v1/test-fields/{test_field.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "**説明**" and body["rules"] == "規則" and body["contact"] == "窓口"
    assert (body["min_booking_minutes"], body["max_booking_minutes"], body["buffer_minutes"],
            body["min_notice_hours"], body["max_notice_days"]) == (60, 480, 30, 48, 180)
    assert body["approval_required"] is True and body["timezone"] == "Asia/Tokyo"
    assert body["hours"] == [{"weekday": 0, "opens": "09:00", "closes": "17:00"},
                             {"weekday": 6, "opens": "00:00", "closes": "24:00"}]
    assert [r["document"] for r in body["requirements"]] == ["safety_plan", "privacy_impact"]
    assert [b["reason"] for b in body["upcoming_blackouts"]] == ["祭り"]
    assert body["photos"][0]["alt_text"] == "広場" and body["photos"][0]["url"].startswith(f"/fields/{test_field.id}/")
    assert "秘密の調整役" not in response.text and "c@example.jp" not in response.text
    assert "coordinator" not in response.text and "created_by" not in response.text

    hidden = create_field(session, coordinator, published=False)
    assert client.get(f"/api/v1/test-fields/{hidden.id}").status_code == 404
    assert client.get("/api/v1/test-fields/999999").status_code == 404
    index = client.get("/api/v1").json()
    assert index["resources"]["test_fields"] == "/api/v1/test-fields"
    assert index["resources"]["test_field"] == "/api/v1/test-fields/{id}"
