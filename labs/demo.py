"""Demo content of the labs component, drawn from the ward's policy documents (shared/seeds 000: chapter 4
⑥ 実証フィールド・実装フィールドの整備 and the 高島平 section; 001 取組13): four test fields in 高島平 (the
station plaza and streets, 熱帯環境植物館, a ward facility's rooftop, the Wi-Fi sensor network), and the
trials that grew out of the proposals the proposals demo selected:

- the 熱帯環境植物館 audio guide, completed: bookings of the garden, progress updates, a call for
  participants who were accepted, and the published results ("you said, we did"); its challenge is then
  marked completed;
- the 高島平 micro-mobility trial, running: bookings of the plaza (one over, two approved, one waiting for the
  coordinator), the residents' notices of the approvals, progress updates and an open call with applications.

Both trials' organisations enter monthly KPI measurements, which the department in charge confirms (the
completed trial's climb towards its targets; the running trial's sensor counts before and since its start),
one of them still waits for the department and one was sent back with a reason (:data:`MEASUREMENTS`).

Everything is played through the services (:mod:`cocreate.demo_playback`) as the people of the core demo,
each action on its own day: the field coordinator creates the fields (with their hours, rules and
requirements; the creator becomes their coordinator) and enters their coming blackouts, the trial starts
from the selected proposal, the organisation requests bookings with their documents, the coordinator
approves them (which checks every booking rule and sends the notices to the residents who subscribed),
the beat job completes those that are over. Only a field's owning department is written directly
(:func:`_set_field_department`: no service sets it). Times are computed from today, in Japan time, so the
demo stays current.

Idempotent: fields are keyed by name, blackouts by field and reason, a trial by the proposal it grew out
of (a trial that exists is left alone with everything that belongs to it, but for its KPI measurements,
entered once when it has none). Departments come from the
core demo (by code) and people from its demo accounts (by e-mail): without its field coordinator nothing
is loaded, without its other people only the fields. Never in production.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from cocreate.accounts.models import Department
from cocreate.accounts.permissions import Principal
from cocreate.db import unit_of_work
from cocreate.db.base import utcnow
from cocreate.demo import DemoRefused
from cocreate.demo_playback import Playback, ward_time
from cocreate.i18n import WARD_TIMEZONE
from cocreate.settings import Settings
from labs import bookings, events, kpis, notices, recruitment, trials
from labs import fields as field_services
from labs.models import (
    Area,
    BookingStatus,
    DocumentKind,
    FieldKind,
    TestField,
    Trial,
    TrialKpiMeasurement,
    TrialStatus,
)
from labs.notices import SEND_NOTICE_TASK
from proposals import api as proposals

COORDINATOR = "demo-coordinator@example.jp"
COMPANY = "demo-company@example.jp"
AUDIO = "demo-audio@example.jp"
STAFF_ENV = "demo-staff@example.jp"
STAFF_TAKASHIMADAIRA = "demo-staff-takashimadaira@example.jp"
RESIDENT = "demo-resident@example.jp"
R2 = "demo-resident2@example.jp"
R4 = "demo-resident4@example.jp"
R6 = "demo-resident6@example.jp"
DEMO_PHONE = "03-0000-0000（デモ用）"

PLAZA = "高島平駅前プラザと周辺街路"
GARDEN = "熱帯環境植物館"
ROOFTOP = "区立施設の屋上"
SENSORS = "高島平 Wi-Fi センサーネットワーク"

DAILY = range(7)  # Monday (0) to Sunday (6)

DOCUMENT_FILES = {
    DocumentKind.ROAD_USE_PERMIT: "道路使用許可証（写し）.pdf",
    DocumentKind.SAFETY_PLAN: "安全計画書.pdf",
    DocumentKind.INSURANCE: "賠償責任保険 加入証明書.pdf",
    DocumentKind.DRONE_FLIGHT_PLAN: "ドローン飛行計画書.pdf",
    DocumentKind.PRIVACY_IMPACT: "プライバシー影響評価書.pdf",
}


class DemoBlackout(NamedTuple):
    reason: str
    weekday: int  # the first such weekday at least ``after_days`` from today
    after_days: int
    start: str  # HH:MM, Japan time
    end: str  # HH:MM; "24:00" is the end of the day
    days: int = 1  # consecutive days


class DemoField(NamedTuple):
    name: str
    kind: FieldKind
    department: str  # code of the owning department (core demo)
    address: str
    latitude: float
    longitude: float
    summary: str
    description: str
    rules: str
    cancellation_rule: str
    contact: str
    capacity: int | None
    min_booking_minutes: int
    max_booking_minutes: int | None
    buffer_minutes: int
    min_notice_hours: int
    max_notice_days: int | None
    hours: tuple[tuple[int, str, str], ...]  # weekday (0 = Monday), opens, closes (HH:MM, Japan time)
    requirements: tuple[DocumentKind, ...]
    blackouts: tuple[DemoBlackout, ...] = ()


FIELDS: list[DemoField] = [
    DemoField(
        name=PLAZA,
        kind=FieldKind.ROAD,
        department="takashimadaira",
        address="東京都板橋区高島平八丁目（都営三田線 高島平駅前）",
        latitude=35.7890,
        longitude=139.6610,
        summary=(
            "都営三田線 高島平駅の駅前広場と、駅から高島平団地・商店街へ続く街路の一部です。"
            "電動マイクロモビリティや自動配送ロボットなど、人やモノの移動に関わる技術を、"
            "実際のまちなかで区民の皆さんと一緒に試すことができます。"
        ),
        description=(
            "## どんな場所か\n\n"
            "高島平は、約314ヘクタールの敷地に整然とした道路網と豊かな公共空間が整備されたまちです。"
            "駅前広場は、駅と団地・商店街・公共施設を結ぶ人の流れの結節点で、"
            "平日は通勤・通学の方、休日は買い物や散歩の方が多く行き交います。\n\n"
            "## 向いている実証\n\n"
            "- 電動マイクロモビリティ、パーソナルモビリティの走行・試乗\n"
            "- 自動配送ロボットの走行試験\n"
            "- デジタルサイネージ、案内ロボットなど、駅前での情報提供\n\n"
            "## 使える範囲と設備\n\n"
            "- 駅前広場の一部（約20m×15m）を区画して使えます。\n"
            "- 街路は、駅から高島平団地・商店街方面への歩行者空間の一部（約300m）です。\n"
            "- 屋外コンセント（100V、1口）を使えます（申請時にお知らせください）。\n"
            "- 車両や機材の一時保管には、区と協議のうえ近くの区有地を使えます。\n\n"
            "## 周辺への配慮\n\n"
            "高齢の方、ベビーカーや車いすの方も多く通行します。"
            "歩行者の通行を常に優先し、通路の幅を2m以上確保してください。"
        ),
        rules=(
            "- 利用できる時間は、毎日7時から21時までです。設営と片付けの時間も利用時間に含めてください。\n"
            "- 街路（歩道を含む）を使う実証には、高島平警察署の**道路使用許可**が必要です。"
            "許可証の写しを申請書に添付してください。\n"
            "- **安全計画書**と、対人・対物の賠償責任を補償する**保険の加入証明書**を添付してください。\n"
            "- 実施中は、実施者の名称・連絡先・実施内容を記した掲示を見やすい場所に出してください。\n"
            "- 誘導員を配置し、歩行者の通行を優先してください。\n"
            "- 音の出る機器は、近くの住宅に配慮して音量を控えてください。\n"
            "- 利用後は元の状態に戻し、ごみはお持ち帰りください。\n"
            "- 前後の利用者の準備・片付けのため、利用の終了後30分は次の予約を入れられません。"
        ),
        cancellation_rule=(
            "利用を取り消す場合は、できるだけ早く、遅くとも利用開始の2日前までに、この画面から取り消してください。"
            "周辺にお住まいの方へは、区から取消しをお知らせします。"
            "雨天などでやむを得ず当日に取り消す場合は、あわせて担当課へお電話でご連絡ください。"
        ),
        contact=f"都市整備部 高島平まちづくり推進課（電話 {DEMO_PHONE}、平日8時30分〜17時）",
        capacity=200,
        min_booking_minutes=60,
        max_booking_minutes=480,
        buffer_minutes=30,
        min_notice_hours=72,
        max_notice_days=90,
        hours=tuple((weekday, "07:00", "21:00") for weekday in DAILY),
        requirements=(DocumentKind.ROAD_USE_PERMIT, DocumentKind.SAFETY_PLAN, DocumentKind.INSURANCE),
        blackouts=(
            DemoBlackout("高島平まつり（会場の設営・撤去を含みます）", weekday=5, after_days=9,
                         start="00:00", end="24:00", days=2),
        ),
    ),
    DemoField(
        name=GARDEN,
        kind=FieldKind.INDOOR,
        department="env-policy",
        address="東京都板橋区高島平八丁目29番2号",
        latitude=35.7875,
        longitude=139.6595,
        summary=(
            "熱帯の植物や水辺の生き物を展示する区立の植物館です。館内をデジタルスキャンして作成した3Dマップを活かし、"
            "デジタル音声ガイドなど、来館者と一緒に屋内での実証ができます。"
        ),
        description=(
            "## どんな場所か\n\n"
            "熱帯雨林を再現した大温室と、水族展示のある区立の植物館です。"
            "区はこの館で、館内をデジタルスキャンして作成した3DMAP上にバーチャルセンサーを配置し、"
            "来館者がその上を通ると眼鏡型スピーカーや肩掛けスピーカーから自動で音声が流れる"
            "**デジタル音声ガイド体験**を試行しました。\n\n"
            "## 向いている実証\n\n"
            "- 屋内の位置測位、音声・AR による展示案内\n"
            "- 高温多湿の環境での機器の耐久性の確認\n"
            "- 来館者の動線の分析（個人を特定しない方法に限ります）\n\n"
            "## 使えるもの\n\n"
            "- 館内の3Dマップ（点群データ）\n"
            "- 実証中に機材を置ける控室（約15㎡）\n\n"
            "## ご注意\n\n"
            "大温室の中は、一年を通して気温25℃以上、湿度が高い状態です。機器の防湿・結露対策をしてください。"
        ),
        rules=(
            "- 利用できる時間は、開館日（火曜日〜日曜日）の10時から17時までです。月曜日は休館日のため利用できません。\n"
            "- 開館中の実証です。来館者の観覧を妨げないよう、通路をふさがないでください。\n"
            "- 来館者の位置や映像などを扱う実証では、**プライバシー影響評価書**を添付してください。"
            "個人を特定できる映像・データは保存しないでください。\n"
            "- 実証を行っていることを、館の入口と実施場所に掲示してください。\n"
            "- 植物や水槽には触れないでください。機器の固定に、植栽や展示物を使うことはできません。\n"
            "- 前後の利用者のため、利用の終了後30分は次の予約を入れられません。"
        ),
        cancellation_rule=(
            "利用を取り消す場合は、利用開始の7日前までに、この画面から取り消してください。"
            "館内の掲示やご案内の準備がありますので、それ以降の取消しは担当課へお電話でもご連絡ください。"
        ),
        contact=f"資源環境部 環境政策課（熱帯環境植物館 担当、電話 {DEMO_PHONE}）",
        capacity=30,
        min_booking_minutes=60,
        max_booking_minutes=240,
        buffer_minutes=30,
        min_notice_hours=168,
        max_notice_days=60,
        hours=tuple((weekday, "10:00", "17:00") for weekday in range(1, 7)),
        requirements=(DocumentKind.PRIVACY_IMPACT,),
        blackouts=(
            DemoBlackout("設備点検（大温室の空調設備の定期点検）", weekday=2, after_days=10, start="09:00", end="18:00"),
        ),
    ),
    DemoField(
        name=ROOFTOP,
        kind=FieldKind.FACILITY,
        department="facilities",
        address="東京都板橋区高島平三丁目（高島平地域の区立施設）",
        latitude=35.7912,
        longitude=139.6588,
        summary=(
            "高島平地域にある区立施設の屋上の一部です。ドローンの離着陸や、環境センサー・通信機器の設置試験に使えます。"
        ),
        description=(
            "## どんな場所か\n\n"
            "高島平地域の区立施設の屋上のうち、手すりで囲まれた約200㎡の区画です。"
            "周囲に高い建物が少なく、見通しのよい場所です。\n\n"
            "## 向いている実証\n\n"
            "- ドローンの離着陸、目視内での飛行試験\n"
            "- 気象・環境センサー、通信機器の設置と計測\n"
            "- 太陽光発電など、屋上を活かした設備の試験\n\n"
            "## 設備\n\n"
            "- 屋上までは階段のみです。重い機材は事前にご相談ください（床の荷重に制限があります）。\n"
            "- 電源はありません。"
        ),
        rules=(
            "- 利用できる時間は、平日の9時から17時までです。屋上への立入りには、施設職員が立ち会います。\n"
            "- ドローンを飛行させる場合は、航空法などの関係法令に基づく許可・承認を得たうえで、"
            "**ドローンの飛行計画書**を添付してください。\n"
            "- 転落・落下を防ぐ対策を記した**安全計画書**を添付してください。\n"
            "- 手すりから1m以内には機器を置かないでください。\n"
            "- 風速5m/s以上の強風、雨天、雷注意報が出ているときは、飛行・作業を中止してください。\n"
            "- 前後の利用者の準備・片付けのため、利用の終了後60分は次の予約を入れられません。"
        ),
        cancellation_rule=(
            "利用を取り消す場合は、利用開始の前日までに、この画面から取り消してください。"
            "天候による当日の中止は、施設職員にお伝えいただければ、取消しの手続きは後日でも構いません。"
        ),
        contact=f"政策経営部 施設経営課（電話 {DEMO_PHONE}）",
        capacity=10,
        min_booking_minutes=30,
        max_booking_minutes=180,
        buffer_minutes=60,
        min_notice_hours=120,
        max_notice_days=60,
        hours=tuple((weekday, "09:00", "17:00") for weekday in range(5)),
        requirements=(DocumentKind.DRONE_FLIGHT_PLAN, DocumentKind.SAFETY_PLAN),
    ),
    DemoField(
        name=SENSORS,
        kind=FieldKind.SENSOR_NETWORK,
        department="takashimadaira",
        address="東京都板橋区高島平一丁目〜九丁目（高島平駅・西台駅・新高島平駅の周辺ほか）",
        latitude=35.7885,
        longitude=139.6600,
        summary=(
            "高島平地区内に設置したWi-Fiセンサーで、回遊の状況、地点ごとの通行量・滞在時間を計測しています。"
            "計測データを使った分析や、センサー網を使った新しい計測の実証ができます。個人情報の収集は行っていません。"
        ),
        description=(
            "## どんな場所か\n\n"
            "区は高島平地区内にWi-Fiセンサーを設置し、回遊の状況、地点ごとの通行量、地点ごとの滞在時間を把握しています。"
            "計測したデータをもとに「まちの人の流れ」を分析し、地域の抱える隠れた課題や不便さを明らかにして、"
            "より便利で安全な、にぎわいのあるまちづくりにつなげることをめざしています。\n\n"
            "## 使えるもの\n\n"
            "- 地点別・1時間単位の集計データ（CSV）\n"
            "- センサーを設置している地点の一覧と地図\n"
            "- 計測期間中の、集計データの日次の提供（要協議）\n\n"
            "## 個人情報の取扱い\n\n"
            "センサーは端末を識別する情報を暗号化したうえで集計しており、個人を特定できる情報は収集していません。"
            "実証で提供するのも、地点ごとの集計値のみです。"
        ),
        rules=(
            "- 24時間、毎日利用できます。1回の予約は最長24時間です。複数日にわたる場合は、日ごとの期間に分けて申請してください。\n"
            "- **プライバシー影響評価書**を添付してください。集計値を個人の特定に使うこと、"
            "ほかのデータと照合することはできません。\n"
            "- センサー機器の設定変更や、機器の追加設置を伴う実証は、事前に担当課とご相談ください。\n"
            "- 分析の結果は、公表の前に区へご報告ください。"
        ),
        cancellation_rule="計測の開始前であれば、いつでもこの画面から取り消すことができます。",
        contact=f"都市整備部 高島平まちづくり推進課（電話 {DEMO_PHONE}）",
        capacity=None,
        min_booking_minutes=60,
        max_booking_minutes=1440,
        buffer_minutes=0,
        min_notice_hours=336,
        max_notice_days=120,
        hours=tuple((weekday, "00:00", "24:00") for weekday in DAILY),
        requirements=(DocumentKind.PRIVACY_IMPACT,),
        blackouts=(
            DemoBlackout("設備点検（センサー機器の更新のため計測を停止します）", weekday=1, after_days=6,
                         start="01:00", end="05:00"),
        ),
    ),
]


# --- the trials ----------------------------------------------------------------------------------


class DemoBooking(NamedTuple):
    status: BookingStatus  # what it is today: submitted, approved or (approved and over) completed
    title: str
    first_day: int  # days from today: the first open, free day at least this far
    days: int  # consecutive days, one period each
    start: str  # HH:MM, Japan time
    end: str
    created_day: int  # days from today: written, documents uploaded and submitted that day
    decided_day: int | None  # reviewed the day before, approved that day
    purpose: str
    public_description: str
    expected_people: int
    equipment: str
    review_note: str = ""


class DemoUpdate(NamedTuple):
    day: int
    title: str
    body: str


class DemoApplication(NamedTuple):
    resident: str
    day: int
    full_name: str
    contact: str
    message: str
    accepted_day: int | None = None


class DemoCall(NamedTuple):
    title: str
    eligibility: str
    activities: str
    consent: str
    places: int
    starts_day: int  # participation from this day (from today) to the trial's end
    apply_by_day: int
    opened_day: int  # drafted the same morning, opened in the afternoon
    applications: tuple[DemoApplication, ...] = ()
    closed_day: int | None = None


class DemoResults(NamedTuple):
    day: int  # published that day; the owning department marks the challenge completed the next day
    report: str
    kpi_results: tuple[tuple[str, str], ...]  # (result, note) per KPI, in order
    completed_reason: str


class DemoTrial(NamedTuple):
    challenge: str  # the title of the challenge whose selected proposal the trial grows out of
    started_by: str  # owning staff or a coordinator, who starts it from the proposal
    started_day: int
    edited_by: str  # who fills in the trial's page and publishes it, the next day
    title: str
    summary: str
    description: str
    department: str
    kpis: tuple[tuple[str, str, str, str], ...]  # indicator, unit, baseline, target
    starts_day: int
    ends_day: int
    field: str  # the test field its bookings are for
    member: str  # the organisation member who books, posts updates and runs the call
    bookings: tuple[DemoBooking, ...]
    updates: tuple[DemoUpdate, ...]
    call: DemoCall | None = None
    results: DemoResults | None = None


GARDEN_CHALLENGE = "熱帯環境植物館で、歩きながら楽しめる展示案内を実現したい"
GARDEN_TRIAL_TITLE = "熱帯環境植物館 歩くだけで流れる音声ガイド実証"
GARDEN_TRIAL = DemoTrial(
    challenge=GARDEN_CHALLENGE,
    started_by=STAFF_ENV,
    started_day=-214,
    edited_by=STAFF_ENV,
    title=GARDEN_TRIAL_TITLE,
    summary=(
        "熱帯環境植物館の館内をデジタルスキャンした3Dマップの上にバーチャルセンサーを配置し、来館者が歩くだけで"
        "展示の解説が流れる音声ガイドを試しました。子どもや高齢の方、外国人の来館者にも楽しんでいただけるかを、"
        "体験会とアンケートで確かめました。"
    ),
    description=(
        "## 実証の内容\n\n"
        "- 館内を3Dスキャンし、展示ごとに40か所のバーチャルセンサーを配置しました（館内に機器は設置しません）。\n"
        "- 来館者は専用のスマートフォンを首から下げ、眼鏡型または肩掛けのスピーカーで解説を聞きます。\n"
        "- 解説は日本語・英語・子ども向けの3種類です。植物館の学芸員が監修しました。\n\n"
        "## 確かめたこと\n\n"
        "1. 子どもや高齢の方、外国人の来館者も楽しめるか\n"
        "2. 展示の前で立ち止まる時間がどう変わるか\n"
        "3. 高温多湿の大温室で、機器が問題なく使えるか"
    ),
    department="env-policy",
    kpis=(
        ("音声ガイドの体験者数", "人", "0", "1,500"),
        ("体験者のうち「展示がよくわかった」と答えた方の割合", "%", "未計測", "80"),
        ("展示の前で立ち止まる平均時間", "秒", "25", "40"),
    ),
    starts_day=-180,
    ends_day=-40,
    field=GARDEN,
    member=AUDIO,
    bookings=(
        DemoBooking(
            BookingStatus.COMPLETED, "館内の3Dスキャンとバーチャルセンサーの配置", -190, 1, "10:00", "14:00",
            created_day=-205, decided_day=-200,
            purpose="音声ガイドの準備として、館内を3Dスキャンし、展示ごとのバーチャルセンサーの位置を決めます。",
            public_description=(
                "大温室と水族展示の通路で、3Dスキャナーを使った計測を行います。"
                "計測中も通常どおりご覧いただけます。係員が通路を確保しますので、ご協力をお願いします。"
            ),
            expected_people=5, equipment="3Dスキャナー1台、三脚、ノートパソコン",
            review_note="計測の範囲と手順を確認しました。通路の幅を確保してください。",
        ),
        DemoBooking(
            BookingStatus.COMPLETED, "音声ガイド体験会（第1回）", -150, 1, "13:00", "17:00",
            created_day=-170, decided_day=-165,
            purpose="来館者に音声ガイドを体験していただき、使い心地と展示の理解をアンケートで確かめます。",
            public_description=(
                "来館された方に、歩くだけで解説が流れる音声ガイドを無料で体験していただけます（入館料は別途必要です）。"
                "受付は入口横の特設カウンターです。"
            ),
            expected_people=30, equipment="専用スマートフォン20台、眼鏡型スピーカー10台、肩掛けスピーカー10台、受付用の机",
            review_note="受付の位置と、機器の消毒の手順を確認しました。",
        ),
        DemoBooking(
            BookingStatus.COMPLETED, "音声ガイド体験会（第2回・英語と子ども向けの解説つき）", -95, 1, "10:00", "14:00",
            created_day=-115, decided_day=-111,
            purpose="第1回の声を受けて加えた、英語と子ども向けの解説を体験していただきます。",
            public_description=(
                "第1回の体験会でいただいた声をもとに、英語の解説と、クイズのある子ども向けの解説を加えました。"
                "どなたでも無料で体験できます（入館料は別途必要です）。"
            ),
            expected_people=30, equipment="専用スマートフォン20台、眼鏡型スピーカー10台、肩掛けスピーカー10台、受付用の机",
            review_note="内容を確認しました。",
        ),
    ),
    updates=(
        DemoUpdate(-188, "館内の3Dスキャンが終わりました",
                   "大温室と水族展示の3Dスキャンを行い、展示ごとに40か所のバーチャルセンサーを配置しました。"
                   "計測中にご協力いただいた来館者の皆さん、ありがとうございました。\n\n"
                   "次は、植物館の学芸員と一緒に解説の原稿をつくります。"),
        DemoUpdate(-148, "第1回体験会の結果",
                   "第1回の体験会には、142人の方にご参加いただきました。\n\n"
                   "| 項目 | 結果 |\n| --- | --- |\n| 体験者数 | 142人 |\n"
                   "| 「展示がよくわかった」と答えた方 | 76% |\n| 展示の前で立ち止まる平均時間 | 34秒 |\n\n"
                   "「英語の解説がほしい」「子どもには言葉が難しい」という声をいただきました。"
                   "次回までに、英語と子ども向けの解説を加えます。"),
        DemoUpdate(-93, "第2回体験会を行いました",
                   "英語と子ども向けの解説を加えた第2回の体験会に、188人の方にご参加いただきました。"
                   "子ども向けの解説のクイズは、特に小学生に好評でした。"),
    ),
    call=DemoCall(
        title="音声ガイド 体験モニター募集（熱帯環境植物館）",
        eligibility="- 区内にお住まいの方、または通勤・通学している方\n- 小学生以上の方（小学生は保護者と一緒に参加）",
        activities=(
            "- 体験会の日に、音声ガイドを使って館内を約40分見学していただきます。\n"
            "- 見学の後、アンケート（10分程度）にお答えいただきます。"
        ),
        consent=(
            "体験モニターへの応募にあたり、次のことに同意します。\n\n"
            "1. 氏名と連絡先は、株式会社みどりの音響デザイン（デモ）と区が、モニターの選考と連絡のためにのみ使います。\n"
            "2. アンケートの回答は、個人を特定できない形に集計して、実証の結果として公表します。\n"
            "3. 同意はいつでも取り消すことができます。"
        ),
        places=10, starts_day=-150, apply_by_day=-160, opened_day=-178,
        applications=(
            DemoApplication(R4, -175, "成増 健太", "demo-resident4@example.jp",
                            "小学2年の子どもと参加したいです。", accepted_day=-158),
            DemoApplication(RESIDENT, -170, "板橋 花子", "demo-resident@example.jp",
                            "植物館によく行くので、ぜひ試してみたいです。", accepted_day=-158),
            DemoApplication(R6, -165, "グエン・ミン", "demo-resident6@example.jp",
                            "英語の解説があれば、友だちにも紹介したいです。", accepted_day=-158),
        ),
        closed_day=-157,
    ),
    results=DemoResults(
        day=-25,
        report=(
            "## 結果の概要\n\n"
            "2回の体験会と、開館日の貸出を合わせて、1,620人の方に音声ガイドを体験していただきました。"
            "体験者の84%が「展示がよくわかった」と答え、展示の前で立ち止まる時間は平均25秒から41秒に延びました。"
            "高温多湿の大温室でも、機器の故障はありませんでした。\n\n"
            "## 皆さんの声と、私たちが行ったこと\n\n"
            "| 皆さんの声 | 行ったこと |\n"
            "| --- | --- |\n"
            "| 英語の解説がほしい | 第2回の体験会から、英語の解説を加えました |\n"
            "| 子どもには言葉が難しい | クイズのある子ども向けの解説をつくりました |\n"
            "| スマートフォンを首から下げると重い | 軽いストラップと、肩掛けスピーカーを選べるようにしました |\n"
            "| 混んでいるときに解説が重なって聞こえる | 隣り合うセンサーの範囲を狭くし、同時に流れないようにしました |\n\n"
            "## これから\n\n"
            "植物館は、来年度から音声ガイドの貸出を常設にします。解説は、季節の展示に合わせて学芸員が更新します。"
            "実証で使った3Dマップとセンサーの配置は、ほかの区立施設での案内にも活かせるよう、区が引き継ぎます。"
        ),
        kpi_results=(
            ("1,620", "体験会2回（330人）と開館日の貸出（1,290人）の合計"),
            ("84", "体験後のアンケート（回答1,102人）"),
            ("41", "バーチャルセンサーの通過記録から、個人を特定しない形で集計"),
        ),
        completed_reason=(
            "実証の結果を公表しました。植物館は音声ガイドの貸出を常設にします。"
            "ご提案、体験会へのご参加、ご意見をいただいた皆さん、ありがとうございました。"
        ),
    ),
)

MOBILITY_CHALLENGE = "高島平で、駅から団地・商店街まで気軽に移動できる暮らしを実現したい"
TRIAL_TITLE = "高島平 電動マイクロモビリティ実証 ― 駅・団地・商店街をつなぐ"
TRIAL_STARTS = -29  # days from today
TRIAL_ENDS = 61
CALL_TITLE = "電動マイクロモビリティ 試乗モニター募集（高島平）"

MOBILITY_TRIAL = DemoTrial(
    challenge=MOBILITY_CHALLENGE,
    started_by=COORDINATOR,
    started_day=TRIAL_STARTS - 40,
    edited_by=COORDINATOR,
    title=TRIAL_TITLE,
    summary=(
        "都営三田線の高島平駅と、団地・商店街・公共施設を結ぶ電動マイクロモビリティのシェアリングを、"
        "高島平エリアで試しています。高齢の方も安心して使えるか、まちの回遊がどう変わるかを、区民の皆さんと一緒に確かめます。"
    ),
    description=(
        "## 背景\n\n"
        "高島平エリアでは、地域内外への回遊性・交通利便性を高めるため、電動マイクロモビリティ等の導入を試行してきました。"
        "住民の高齢化が進み、駅から離れた住棟や商店街への日常の移動が負担になっている方が増えています。\n\n"
        "## 実証の内容\n\n"
        "- 車両：電動アシスト自転車12台と、座って乗れる小型の電動モビリティ8台（最高速度は時速6km）\n"
        "- 貸出・返却の場所（ポート）：高島平駅前、団地内の4か所、商店街、高島平地域センター、熱帯環境植物館の8か所\n"
        "- 利用料：実証期間中は無料（事前の会員登録が必要です）\n"
        "- 安全対策：走行ルートの事前確認、初回利用前の安全講習、全車両への賠償責任保険の付保\n\n"
        "## 確かめること\n\n"
        "1. 高齢の方を含め、誰もが安心して使えるか\n"
        "2. 駅と団地・商店街のあいだの回遊がどう変わるか（Wi-Fiセンサーの計測データと比べます）\n"
        "3. 本格的な導入にかかる費用と、その効果\n\n"
        "結果は、実証の終了後にこのページで公開します。"
    ),
    department="takashimadaira",
    kpis=(
        ("月間の利用回数", "回", "400", "2,000"),
        ("利用者のうち65歳以上の方の割合", "%", "8", "25"),
        ("駅周辺から商店街への回遊者数（Wi-Fiセンサーによる計測）", "人/日", "1,150", "1,400"),
        ("利用者アンケートで「満足」「やや満足」と答えた方の割合", "%", "未計測", "80"),
    ),
    starts_day=TRIAL_STARTS,
    ends_day=TRIAL_ENDS,
    field=PLAZA,
    member=COMPANY,
    bookings=(
        DemoBooking(
            BookingStatus.COMPLETED, "電動マイクロモビリティの試乗会（運行開始記念）", TRIAL_STARTS, 1, "10:00", "15:00",
            created_day=-50, decided_day=-45,
            purpose="運行開始にあわせ、地域の皆さんに車両を知っていただくための試乗会を行います。",
            public_description=(
                "駅前広場の一部を区切って、電動アシスト自転車と小型の電動モビリティの試乗会を行います。"
                "どなたでも参加できます（当日受付、無料）。係員が乗り方をご説明します。"
            ),
            expected_people=100,
            equipment="電動アシスト自転車4台、小型電動モビリティ4台、テント2張、カラーコーン、受付用の机",
            review_note="誘導員の配置計画を確認しました。当日はよろしくお願いします。",
        ),
        DemoBooking(
            BookingStatus.APPROVED, "走行ルートの安全確認と試乗会", 5, 2, "10:00", "16:00",
            created_day=-12, decided_day=-8,
            purpose=(
                "運行開始後に寄せられたご意見を踏まえて見直した走行ルートを、歩行者の多い時間帯に確認します。"
                "あわせて、まだ利用したことのない方向けの試乗会を行います。"
            ),
            public_description=(
                "駅前広場と、駅から団地方面への街路で、電動モビリティの走行ルートを係員が確認しながら走ります。"
                "広場の一部では試乗会を行います（どなたでも参加できます）。"
                "走行は時速6km以下で、誘導員がつきます。通行の妨げにならないよう配慮しますので、ご協力をお願いします。"
            ),
            expected_people=60, equipment="電動アシスト自転車4台、小型電動モビリティ4台、カラーコーン、案内看板",
            review_note="道路使用許可の写しと安全計画を確認しました。誘導員は2名以上配置してください。",
        ),
        DemoBooking(
            BookingStatus.APPROVED, "高齢の方向け 電動モビリティ安全講習会", 12, 1, "13:00", "16:00",
            created_day=-5, decided_day=-3,
            purpose="65歳以上の方を対象に、小型の電動モビリティの乗り方と交通ルールを学ぶ講習会を行います。",
            public_description=(
                "駅前広場の一部を区切って、高齢の方向けの安全講習会を行います。"
                "小型の電動モビリティにゆっくり乗りながら、乗り降りの仕方や歩行者との距離の取り方を練習します。"
                "参加は無料で、事前の申込みは不要です。"
            ),
            expected_people=30, equipment="小型電動モビリティ6台、テント1張、カラーコーン、いす20脚",
            review_note="講習会の内容を確認しました。暑さ・寒さへの対策もお願いします。",
        ),
        DemoBooking(
            BookingStatus.SUBMITTED, "夜間走行の安全確認（照明・反射材の効果の確認）", 19, 1, "18:00", "20:30",
            created_day=-2, decided_day=None,
            purpose="暗くなってからの走行で、車両の照明と反射材が歩行者からどう見えるかを確認します。",
            public_description=(
                "日没後の駅前広場と街路で、電動モビリティが照明をつけて走行し、歩行者からの見え方を確認します。"
                "走行は時速6km以下で、誘導員がつきます。"
            ),
            expected_people=10, equipment="小型電動モビリティ3台、照度計、誘導灯",
        ),
    ),
    updates=(
        DemoUpdate(TRIAL_STARTS + 1, "運行を始めました",
                   "運行開始日の試乗会には、地域の皆さん約80人にお越しいただきました。ありがとうございました。\n\n"
                   "8か所のポートで、車両20台の貸出を行っています。"
                   "初めての方は、高島平駅前のポートで係員が乗り方をご説明します（平日10時〜16時）。\n\n"
                   "- 貸出・返却：毎日7時〜21時\n"
                   "- 利用料：無料（会員登録が必要です）"),
        DemoUpdate(-6, "運行開始から3週間の利用状況",
                   "運行開始から3週間の利用状況をお知らせします。\n\n"
                   "| 項目 | 3週間の実績 |\n"
                   "| --- | --- |\n"
                   "| 利用回数 | 1,126回 |\n"
                   "| 会員登録者数 | 412人 |\n"
                   "| 利用者のうち65歳以上の方の割合 | 14% |\n\n"
                   "利用の多い区間は「高島平駅前 → 団地」「団地 → 商店街」でした。"
                   "一方で、「小型の電動モビリティに乗るのが不安」という声もいただいています。\n\n"
                   "そこで、高齢の方向けの安全講習会を駅前プラザで開くとともに、"
                   "使い心地を詳しくお聞きする**試乗モニター**を募集します。"),
    ),
    call=DemoCall(
        title=CALL_TITLE,
        eligibility=(
            "- 高島平地区（高島平一丁目〜九丁目）にお住まいの方、または通勤・通学している方\n"
            "- 18歳以上の方（65歳以上の方の応募を特に歓迎します）\n"
            "- 募集期間の終了後、実証の終了までに3回以上ご利用いただける方"
        ),
        activities=(
            "- 日常の移動で、電動アシスト自転車または小型の電動モビリティを3回以上ご利用いただきます（利用料は無料です）。\n"
            "- 初めて利用する前に、駅前プラザで約30分の安全講習を受けていただきます。\n"
            "- 利用のたびに、スマートフォンまたは紙のアンケート（5分程度）にお答えいただきます。\n"
            "- ご希望の方は、実証の最後に行う座談会（約1時間、高島平地域センター）にご参加いただけます。"
        ),
        consent=(
            "試乗モニターへの応募にあたり、次のことに同意します。\n\n"
            "1. 応募の際にお知らせいただく氏名と連絡先は、実証を行う株式会社いたばしモビリティ（デモ）と、"
            "区の実証フィールド担当が、モニターの選考と連絡のためにのみ使います。\n"
            "2. 車両の利用記録とアンケートの回答は、個人を特定できない形に集計したうえで、実証の結果として公表します。\n"
            "3. 同意はいつでも取り消すことができます。取り消した場合、氏名・連絡先などの個人情報は、"
            "実証を行う事業者からは見えなくなります。\n"
            "4. 個人情報は、実証の終了から90日後にすべて削除します。"
        ),
        places=20, starts_day=25, apply_by_day=21, opened_day=-6,
        applications=(
            DemoApplication(RESIDENT, -2, "板橋 花子", RESIDENT,
                            "駅まで歩くのが少しつらくなってきたので、試してみたいです。自転車には乗れます。"),
            DemoApplication(R2, -1, "高島 一郎", "03-0000-0000",
                            "高島平に40年住んでいます。座って乗れる車両を試してみたいです。"),
        ),
    ),
)


class DemoMeasurement(NamedTuple):
    kpi: int  # the KPI's position in the trial
    day: int  # measured that day (from today); entered the next morning
    value: float
    decided_day: int | None = None  # the department confirms (or sends back) it that day; None: still waiting
    sent_back: str = ""  # the reason, when the department sent it back
    note: str = ""


MEASUREMENTS: dict[str, tuple[str, str, tuple[DemoMeasurement, ...]]] = {
    # trial title: (who enters the measurements, who confirms them, the measurements)
    GARDEN_TRIAL_TITLE: (AUDIO, STAFF_ENV, (
        *(DemoMeasurement(0, day, value, day + 3, note=note) for day, value, note in (
            (-150, 180, "開館日の貸出の累計です。"), (-120, 520, "第1回体験会（160人）を含みます。"),
            (-90, 870, ""), (-60, 1240, "第2回体験会（170人）を含みます。"), (-41, 1620, "実証期間の最終集計です。"))),
        *(DemoMeasurement(1, day, value, day + 3, note="体験後のアンケートから集計しました。") for day, value in (
            (-120, 76), (-60, 81), (-41, 84))),
        *(DemoMeasurement(2, day, value, day + 3, note="バーチャルセンサーの通過記録から、個人を特定しない形で集計しました。")
          for day, value in ((-150, 29), (-120, 33), (-90, 36), (-60, 39), (-41, 41))),
    )),
    TRIAL_TITLE: (COMPANY, STAFF_TAKASHIMADAIRA, (
        *(DemoMeasurement(2, day, value, day + 4, note="高島平 Wi-Fi センサーネットワークの計測値（月平均）です。")
          for day, value in ((-150, 1140), (-120, 1160), (-90, 1150), (-60, 1145), (-31, 1155))),
        DemoMeasurement(2, -2, 1262, -1, note="運行開始後の最初の1か月の月平均です。"),
        DemoMeasurement(0, -2, 1480, -1, note="運行開始から1か月の利用回数です（8か所のポートの合計）。"),
        DemoMeasurement(1, -2, 12, None, note="会員登録時の年齢から集計しました。"),
        DemoMeasurement(3, -2, 820, -1, sent_back="割合（%）の指標ですが、820 になっています。82 の誤りではありませんか。"
                        "アンケートの回答数とあわせて確認のうえ、訂正してください。",
                        note="利用者アンケート（回答 214 人）から集計しました。"),
    )),
}
"""Each demo trial's KPI measurements, entered by its organisation and decided on by its department."""

TRIALS = (GARDEN_TRIAL, MOBILITY_TRIAL)  # oldest first: the plaza's bookings then come after the garden's
SUBSCRIPTIONS = (  # (resident, day, the plaza field too): residents who asked for notices of 高島平
    (R2, -250, False),
    (RESIDENT, -60, True),
)


# --- helpers -------------------------------------------------------------------------------------


def _clock(value: str) -> time | None:
    """HH:MM as a time; "24:00" (the end of the day) as None."""
    if value == "24:00":
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _minute(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _at(day: date, value: str) -> datetime:
    """A wall-clock time of ``day`` in Japan, as UTC ("24:00" is the next midnight)."""
    clock = _clock(value)
    if clock is None:
        day, clock = day + timedelta(days=1), time(0, 0)
    return datetime.combine(day, clock, tzinfo=WARD_TIMEZONE).astimezone(UTC)


def _next_weekday(today: date, weekday: int, after_days: int) -> date:
    first = today + timedelta(days=after_days)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _blackout_days(today: date, blackouts: tuple[DemoBlackout, ...]) -> set[date]:
    days: set[date] = set()
    for item in blackouts:
        first = _next_weekday(today, item.weekday, item.after_days)
        days.update(first + timedelta(days=n) for n in range(item.days))
    return days


def _free_days(today: date, first_day: int, count: int, taken: set[date], open_weekdays: set[int]) -> list[date]:
    """``count`` consecutive days from ``today + first_day`` on, each open and not taken."""
    start = today + timedelta(days=first_day)
    while True:
        days = [start + timedelta(days=n) for n in range(count)]
        if all(day not in taken and day.weekday() in open_weekdays for day in days):
            return days
        start += timedelta(days=1)


# --- loading -------------------------------------------------------------------------------------


FIELDS_SET_UP_DAY = -400  # days from today: the coordinator set the fields up long before the first trial
BLACKOUTS_ENTERED_DAY = -30  # the coming closures were entered a month ago


def _field_form(demo: DemoField) -> field_services.FieldForm:
    """The coordinators' field form, filled in as the coordinator filled it in."""
    return field_services.FieldForm(
        name=demo.name, kind=demo.kind, area=Area.TAKASHIMADAIRA, address=demo.address, latitude=demo.latitude,
        longitude=demo.longitude, summary=demo.summary, description=demo.description, rules=demo.rules,
        cancellation_rule=demo.cancellation_rule, contact=demo.contact, capacity=demo.capacity,
        min_booking_minutes=demo.min_booking_minutes, max_booking_minutes=demo.max_booking_minutes,
        buffer_minutes=demo.buffer_minutes, min_notice_hours=demo.min_notice_hours,
        max_notice_days=demo.max_notice_days, approval_required=True, published=True,
        hours=[(weekday, _minute(opens), _minute(closes)) for weekday, opens, closes in demo.hours],
        requirements=list(demo.requirements),
    )


def _set_field_department(session: Session, field_id: int, department: Department | None) -> None:
    """Write the ward department that owns a field onto the row the field service created.

    No service does this: the coordinators' field form has no department (a field's department is
    neither shown nor used anywhere yet), so nobody can set it through the site; the demo keeps the
    owning department of the ward's documents on its fields, as it always has. Run at the moment the
    field was created (its ``updated_at`` moves with the write)."""
    if department is None:
        return
    with unit_of_work(session):
        test_field = session.get(TestField, field_id)
        assert test_field is not None
        test_field.department_id = department.id
        session.add(test_field)


def _load_fields(playback: Playback, departments: dict[str, Department],
                 today: date) -> tuple[dict[str, TestField], int]:
    """The coordinator creates the fields (becoming their coordinator) and enters their blackouts, through
    the field services; a field is keyed by its name, a blackout by its field and reason."""
    session = playback.session
    coordinator = playback.actor(COORDINATOR)
    assert coordinator is not None
    names = [demo.name for demo in FIELDS]
    fields = {f.name: f for f in session.exec(select(TestField).where(col(TestField.name).in_(names))).all()}
    added = 0
    for demo in FIELDS:
        if demo.name not in fields:
            def set_up(demo: DemoField = demo) -> TestField:
                created = field_services.create(session, coordinator, _field_form(demo))
                assert created.id is not None
                _set_field_department(session, created.id, departments.get(demo.department))
                return created
            fields[demo.name] = playback.at(ward_time(today, FIELDS_SET_UP_DAY, "10:00"), set_up)
            added += 1
        field_id = fields[demo.name].id
        assert field_id is not None
        reasons = {b.reason for b in field_services.blackouts_of(session, field_id)}
        for item in demo.blackouts:
            if item.reason in reasons:
                continue
            first = _next_weekday(today, item.weekday, item.after_days)
            last = first + timedelta(days=item.days - 1)
            form = field_services.BlackoutForm(starts_at=_at(first, item.start), ends_at=_at(last, item.end),
                                               reason=item.reason)
            playback.at(ward_time(today, BLACKOUTS_ENTERED_DAY, "10:00"),
                        lambda form=form, field_id=field_id: field_services.add_blackout(
                            session, coordinator, field_id, form))
    return fields, added


# --- playing the trials --------------------------------------------------------------------------


class Counts(NamedTuple):
    trials: int = 0
    bookings: int = 0
    notices: int = 0
    updates: int = 0
    calls: int = 0
    applications: int = 0
    results: int = 0

    def __add__(self, other: object) -> Counts:  # type: ignore[override]
        assert isinstance(other, Counts)
        return Counts(*(a + b for a, b in zip(self, other, strict=True)))


def _pdf(text: str) -> bytes:
    """A small valid one-page PDF saying ``text`` (ASCII), standing in for an uploaded document."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _book(playback: Playback, demo: DemoTrial, item: DemoBooking, trial_id: int, field: TestField, days: list[date],
          today: date) -> None:
    """The request as the organisation writes, documents and submits it, and the coordinator's review."""
    session, settings, act = playback.session, playback.settings, playback.actor
    member = act(demo.member)
    assert member is not None and field.id is not None
    lead = next(o.id for o, is_lead in trials.organisations_of(session, trial_id) if is_lead)
    created = ward_time(today, item.created_day, "10:00")
    data = bookings.BookingForm(
        field_id=field.id, organisation_id=lead, trial_id=trial_id, title=item.title,
        purpose=item.purpose, public_description=item.public_description,
        expected_people=item.expected_people, equipment=item.equipment,
        periods=[(f"{day.isoformat()} {item.start}", f"{day.isoformat()} {item.end}") for day in days])
    saved = playback.at(created, lambda: bookings.save(session, settings, member, data))
    booking_id = saved.booking.id
    assert booking_id is not None
    for number, kind in enumerate(bookings.required_documents(session, field.id)):
        text = f"cocreate demo document: {kind.value}, booking {booking_id}"
        playback.at(created + timedelta(minutes=30 + number), lambda kind=kind, text=text: bookings.add_document(
            session, settings, member, booking_id, kind=kind, source=io.BytesIO(_pdf(text)),
            filename=DOCUMENT_FILES[kind]))
    playback.at(created + timedelta(hours=2), lambda: bookings.submit(session, settings, member, booking_id))
    if item.decided_day is None:
        return
    coordinator = act(COORDINATOR)
    playback.at(ward_time(today, item.decided_day - 1, "11:00"),
                lambda: bookings.start_review(session, settings, coordinator, booking_id))
    playback.at(ward_time(today, item.decided_day, "14:00"),
                lambda: bookings.approve(session, settings, coordinator, booking_id,
                                         bookings.ApproveForm(note=item.review_note)))
    if item.status is BookingStatus.COMPLETED:  # the beat job, a little after the last period ended
        last = max(days)
        playback.at(ward_time(today, (last - today).days, item.end) + timedelta(minutes=5),
                    lambda: bookings.complete_finished(session))


def _play(playback: Playback, demo: DemoTrial, proposal_id: int, fields: dict[str, TestField],
          departments: dict[str, Department], today: date) -> Counts:
    session, settings, act = playback.session, playback.settings, playback.actor
    staff = act(demo.started_by)
    member = act(demo.member)
    editor = act(demo.edited_by)
    assert staff is not None and member is not None and editor is not None

    # Started from the selected proposal (the challenge moves to "trial"), filled in and published next day.
    trial = playback.at(ward_time(today, demo.started_day, "10:00"),
                        lambda: trials.create_from_proposal(session, staff, proposal_id))
    trial_id = trial.id
    assert trial_id is not None

    def edit(change: dict[str, Any], actor: Principal) -> Callable[[], Trial]:
        def action() -> Trial:
            current = session.get(Trial, trial_id, populate_existing=True)
            assert current is not None
            form = trials.form_for(actor)(**(trials.form_values(session, current) | change))
            return trials.update(session, actor, trial_id, form)
        return action

    department = departments.get(demo.department)
    details = {"title": demo.title, "summary": demo.summary, "description": demo.description,
               "starts_on": (today + timedelta(days=demo.starts_day)).isoformat(),
               "ends_on": (today + timedelta(days=demo.ends_day)).isoformat(), "published": True,
               "kpis": [trials.KpiRow(indicator=indicator, unit=unit, baseline=baseline, target=target)
                        for indicator, unit, baseline, target in demo.kpis],
               "department_id": str(department.id) if department is not None else ""}
    playback.at(ward_time(today, demo.started_day + 1, "15:00"), edit(details, editor))

    field = fields[demo.field]
    field_hours = next(item for item in FIELDS if item.name == field.name)
    taken = _blackout_days(today, field_hours.blackouts)
    open_weekdays = {weekday for weekday, _opens, _closes in field_hours.hours}
    counts = Counts(trials=1)
    for item in demo.bookings:
        days = _free_days(today, item.first_day, item.days, taken, open_weekdays)
        taken.update(days)
        _book(playback, demo, item, trial_id, field, days, today)
        counts += Counts(bookings=1, notices=int(item.decided_day is not None))

    playback.at(ward_time(today, demo.starts_day, "08:30"), edit({"status": TrialStatus.RUNNING.value}, member))
    for update in demo.updates:
        playback.at(ward_time(today, update.day, "15:00"), lambda update=update: trials.add_update(
            session, settings, member, trial_id,
            trials.UpdateForm(posted_on=(today + timedelta(days=update.day)).isoformat(), title=update.title,
                              body=update.body)))
        counts += Counts(updates=1)

    if demo.call is not None:
        counts += _run_call(playback, demo, demo.call, trial_id, today)

    if demo.results is not None:
        results = demo.results
        kpis = trials.kpis_of(session, trial_id)
        entries = [trials.KpiResult(kpi.id, result, note)  # type: ignore[arg-type]
                   for kpi, (result, note) in zip(kpis, results.kpi_results, strict=True)]
        playback.at(ward_time(today, results.day, "16:00"), lambda: trials.save_results(
            session, member, trial_id, trials.ResultsForm(action="publish", results=results.report,
                                                          kpi_results=entries)))
        challenge_id = trial.challenge_id
        assert challenge_id is not None
        playback.at(ward_time(today, results.day + 1, "10:00"), lambda: proposals.complete_challenge(
            session, staff, challenge_id, results.completed_reason))
        counts += Counts(results=1)
    return counts


def _run_call(playback: Playback, demo: DemoTrial, call: DemoCall, trial_id: int, today: date) -> Counts:
    session, settings, act = playback.session, playback.settings, playback.actor
    member = act(demo.member)
    assert member is not None
    data = recruitment.CallForm(
        title=call.title, eligibility=call.eligibility, places=call.places,
        starts_on=today + timedelta(days=call.starts_day), ends_on=today + timedelta(days=demo.ends_day),
        apply_by=f"{(today + timedelta(days=call.apply_by_day)).isoformat()} 17:00",
        activities=call.activities, consent_text=call.consent)
    created = playback.at(ward_time(today, call.opened_day, "10:00"),
                          lambda: recruitment.create_call(session, member, trial_id, data))
    call_id = created.id
    assert call_id is not None
    playback.at(ward_time(today, call.opened_day, "15:30"),
                lambda: recruitment.set_status(session, member, call_id, True))
    applied = 0
    for application in call.applications:
        resident = act(application.resident)
        if resident is None:
            continue
        form = recruitment.ApplyForm(full_name=application.full_name, contact=application.contact,
                                     message=application.message, consent=True,
                                     consent_version=str(created.consent_version))
        made, _new = playback.at(ward_time(today, application.day, "20:00"),
                                 lambda resident=resident, form=form: recruitment.apply(session, resident, call_id,
                                                                                        form))
        applied += 1
        if application.accepted_day is not None:
            playback.at(ward_time(today, application.accepted_day, "11:00"),
                        lambda made=made: recruitment.decide(session, settings, member, call_id, made.id, True))
    if call.closed_day is not None:
        playback.at(ward_time(today, call.closed_day, "09:00"),
                    lambda: recruitment.set_status(session, member, call_id, False))
    return Counts(calls=1, applications=applied)


def _subscribe(playback: Playback, fields: dict[str, TestField], today: date, *, before: int | None = None) -> None:
    """Residents of 高島平 ask for the area's notices (and one for the plaza's): those who did so before the
    day ``before`` (all when None), so that a trial played next notifies exactly who had subscribed then."""
    session = playback.session
    plaza = fields[PLAZA]
    assert plaza.id is not None
    for email, day, plaza_too in SUBSCRIPTIONS:
        if before is not None and day >= before:
            continue
        resident = playback.actor(email)
        if resident is None or notices.subscribed_areas(session, resident.user_id):  # type: ignore[arg-type]
            continue  # already done on an earlier load
        when = ward_time(today, day, "20:00")
        playback.at(when, lambda resident=resident: notices.set_area_subscriptions(
            session, resident, [Area.TAKASHIMADAIRA]))
        if plaza_too:
            playback.at(when + timedelta(minutes=2), lambda resident=resident: notices.set_field_subscription(
                session, resident, plaza.id, True))  # type: ignore[arg-type]


def _measure(playback: Playback, demo: DemoTrial, trial_id: int, today: date) -> int:
    """The trial's KPI measurements as its organisation enters them and its department decides (only when the
    trial has none yet); returns how many were entered."""
    session, settings, act = playback.session, playback.settings, playback.actor
    story = MEASUREMENTS.get(demo.title)
    if story is None:
        return 0
    kpi_rows = list(trials.kpis_of(session, trial_id))
    if not kpi_rows or session.exec(select(TrialKpiMeasurement.id).where(col(TrialKpiMeasurement.kpi_id).in_(
            [k.id for k in kpi_rows])).limit(1)).first() is not None:
        return 0
    member, staff = act(story[0]), act(story[1])
    if member is None or staff is None:
        return 0
    made: dict[int, int] = {}

    def enter(index: int, item: DemoMeasurement, kpi_id: int) -> Callable[[], None]:
        form = kpis.MeasurementForm(measured_on=(today + timedelta(days=item.day)).isoformat(), value=item.value,
                                    note=item.note)

        def action() -> None:
            made[index] = kpis.add_measurement(session, settings, member, trial_id, kpi_id, form).id  # type: ignore[assignment]
        return action

    def decide(index: int, item: DemoMeasurement) -> Callable[[], Any]:
        decision = kpis.DecisionForm(action="reject" if item.sent_back else "confirm", reason=item.sent_back)
        return lambda: kpis.decide(session, settings, staff, trial_id, made[index], decision)

    steps: list[tuple[datetime, int, Callable[[], Any]]] = []
    for index, item in enumerate(story[2]):
        if item.kpi >= len(kpi_rows):
            continue
        entered_at = ward_time(today, item.day + 1, "09:30") + timedelta(minutes=item.kpi)
        steps.append((entered_at, index, enter(index, item, kpi_rows[item.kpi].id)))  # type: ignore[arg-type]
        if item.decided_day is not None:
            steps.append((ward_time(today, max(item.decided_day, item.day + 1), "14:00") + timedelta(minutes=item.kpi),
                          index, decide(index, item)))
    for when, _index, action in sorted(steps, key=lambda step: (step[0], step[1])):
        playback.at(when, action)
    entered = len(made)
    return entered


def load(session: Session, settings: Settings) -> str:
    if settings.is_production:
        raise DemoRefused("refusing to load demo content: COCREATE_ENV is production")
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    # Starting a trial and completing a challenge move the challenge: its followers hear of it (proposals events).
    playback = Playback(session, settings, handlers={events.TASK: events.run, SEND_NOTICE_TASK: notices.send,
                                                     **proposals.EVENT_TASKS})
    if not playback.has(COORDINATOR):
        return "no test fields and no trials (the fields need the core demo's field coordinator: load it first)"
    fields, fields_added = _load_fields(playback, departments, today)

    summary = f"{fields_added} test fields added, {len(FIELDS) - fields_added} already there"
    people = {RESIDENT, R2, *(d.started_by for d in TRIALS), *(d.edited_by for d in TRIALS),
              *(d.member for d in TRIALS)}
    if not playback.has(*people):
        return summary + "; no trials (they need the core demo's people: load it first)"
    counts = Counts()
    already = waiting = measured = 0
    for demo in TRIALS:
        proposal_id = proposals.selected_proposal_id(session, demo.challenge)
        if proposal_id is None:
            waiting += 1  # its challenge, or its decision, is not there: the proposals demo comes first
            continue
        existing = trials.trial_of_proposal(session, proposal_id)
        if existing is not None:
            already += 1
            measured += _measure(playback, demo, existing.id, today)  # type: ignore[arg-type]
            continue
        first_approval = min((b.decided_day for b in demo.bookings if b.decided_day is not None), default=None)
        _subscribe(playback, fields, today, before=first_approval)
        counts += _play(playback, demo, proposal_id, fields, departments, today)
        played = trials.trial_of_proposal(session, proposal_id)
        assert played is not None and played.id is not None
        measured += _measure(playback, demo, played.id, today)
    _subscribe(playback, fields, today)
    summary += (f"; {counts.trials} trials added, {already} already there, with {counts.bookings} bookings, "
                f"{counts.notices} notices, {counts.updates} progress updates, {counts.calls} recruitment calls, "
                f"{counts.applications} applications and {counts.results} "
                f"{'results report' if counts.results == 1 else 'results reports'}")
    if measured:
        summary += f"; {measured} KPI measurements"
    if waiting:
        summary += f" ({waiting} trials wait for their selected proposal: load the proposals demo first)"
    return summary
