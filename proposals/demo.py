"""Demo challenges written from the ward's initiatives (shared/seeds 000, chapter 4 and Takashimadaira)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from cocreate.accounts.models import Department
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from proposals.models import Category, Challenge, Phase

# (department code, category, area, phase, days since publication, days until proposals close, title, summary)
CHALLENGES = [
    (
        "env-policy",
        Category.ENVIRONMENT_ENERGY,
        "板橋区全域",
        Phase.ACCEPTING,
        20,
        40,
        "清掃工場の余熱と太陽光で、地域のエネルギーを地産地消したい",
        "清掃工場からの余熱利用や公共施設の太陽光発電を組み合わせ、デジタル技術で地域エネルギーを最適化し、"
        "災害時にも電力と熱を確保できるレジリエンスの高い仕組みを実現したいと考えています。",
    ),
    (
        "transport",
        Category.TRANSPORT_MOBILITY,
        "区内主要バス停",
        Phase.VOTING,
        60,
        -5,
        "バス停を、運行情報と地域情報が届く拠点にしたい",
        "スマートバス停のデジタルサイネージでバスのリアルタイム運行情報を提供するとともに、地域イベント・観光・"
        "防災などの行政情報を配信し、誰もが使いやすい地域情報の拠点をつくりたいと考えています。",
    ),
    (
        "takashimadaira",
        Category.TRANSPORT_MOBILITY,
        "高島平",
        Phase.TRIAL,
        200,
        -120,
        "高島平で、駅から団地・商店街まで気軽に回遊できるようにしたい",
        "高島平エリアの回遊性と交通利便性を高めるため、電動マイクロモビリティ等の実証を行っています。"
        "高齢の方も含め、誰もが安心して使える移動手段と走行ルールを一緒に考えます。",
    ),
    (
        "takashimadaira",
        Category.URBAN_DEVELOPMENT,
        "高島平",
        Phase.PUBLISHED,
        5,
        60,
        "まちの人の流れをデータで捉え、隠れた課題を見つけたい",
        "高島平地区に設置したWi-Fiセンサーで、回遊の状況や地点ごとの通行量・滞在時間を把握しています"
        "（個人情報は収集していません）。このデータを活かし、より便利で安全かつ賑わいのあるまちづくりにつなげる"
        "分析や活用の方法を募集します。",
    ),
    (
        "env-policy",
        Category.ENVIRONMENT_ENERGY,
        "板橋区全域",
        Phase.ACCEPTING,
        10,
        50,
        "区民の環境にやさしい行動を見える化し、続けたくなる仕組みをつくりたい",
        "区民が自らの環境によい活動を記録・可視化し、取組に応じてエコポイントが貯まる仕組みを構築したいと"
        "考えています。デジタル機器に不慣れな方も参加できる工夫を求めます。",
    ),
    (
        "facilities",
        Category.ENVIRONMENT_ENERGY,
        "区立施設",
        Phase.REVIEW,
        90,
        -30,
        "公共施設のエネルギー消費を、運用の工夫で減らしたい",
        "建設から40年以上経つ施設が半数を超えるなか、設計段階のZEB化に加え、運用段階でデジタル技術を活用した"
        "省エネの方法を求めています。",
    ),
]


def load(session: Session, settings: Settings) -> str:
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    existing = set(session.exec(select(Challenge.title)).all())
    now = utcnow()
    added = 0
    for code, category, area, phase, published_days_ago, close_in_days, title, summary in CHALLENGES:
        if title in existing:
            continue
        department = departments[code]
        session.add(
            Challenge(
                title=title,
                summary=summary,
                category=category,
                area=area,
                phase=phase,
                department_id=department.id,  # type: ignore[arg-type]
                published_at=now - timedelta(days=published_days_ago),
                proposals_close_at=now + timedelta(days=close_in_days),
            )
        )
        added += 1
    return f"{added} challenges added, {len(existing)} already there"
