"""Demo content of the core: the ward's departments (from the policy documents in shared/seeds)."""

from __future__ import annotations

from sqlmodel import Session, select

from cocreate.accounts.models import Department
from cocreate.settings import Settings

# code, 部, 課, division, section
DEPARTMENTS = [
    (
        "env-policy",
        "資源環境部",
        "環境政策課",
        "Resources and Environment Department",
        "Environmental Policy Section",
    ),
    (
        "smart-city",
        "政策経営部",
        "スマートシティ推進課",
        "Policy Management Department",
        "Smart City Promotion Section",
    ),
    (
        "industry",
        "産業経済部",
        "産業振興課",
        "Industry and Economy Department",
        "Industrial Promotion Section",
    ),
    ("transport", "都市整備部", "交通政策課", "Urban Development Department", "Transport Policy Section"),
    (
        "takashimadaira",
        "都市整備部",
        "高島平まちづくり推進課",
        "Urban Development Department",
        "Takashimadaira Regeneration Section",
    ),
    ("disaster", "危機管理室", "防災危機管理課", "Crisis Management Office", "Disaster Prevention Section"),
    ("dx", "政策経営部", "ＩＣＴ推進課", "Policy Management Department", "ICT Promotion Section"),
    ("facilities", "政策経営部", "施設経営課", "Policy Management Department", "Public Facilities Section"),
]


def load(session: Session, settings: Settings) -> str:
    existing = set(session.exec(select(Department.code)).all())
    added = 0
    for code, division_ja, section_ja, division_en, section_en in DEPARTMENTS:
        if code in existing:
            continue
        session.add(
            Department(
                code=code,
                division_ja=division_ja,
                section_ja=section_ja,
                division_en=division_en,
                section_en=section_en,
            )
        )
        added += 1
    return f"{added} departments added, {len(existing)} already there"
