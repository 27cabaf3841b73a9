"""Demo content of the labs component, drawn from the ward's policy documents (shared/seeds 000: chapter 4
⑥ 実証フィールド・実装フィールドの整備 and the 高島平 section; 001 取組13): four test fields in 高島平 (the
station plaza and streets, 熱帯環境植物館, a ward facility's rooftop, the Wi-Fi sensor network), a running
micro-mobility trial with its KPIs, progress updates and bookings of the plaza, the residents' notices of
the approved bookings, and a call for participants with one application.

The rows are written directly, exactly as the labs services would leave them: approved periods block
(``blocked_until`` = end + the field's buffer) and never overlap; every booking lies within its field's
weekly hours and outside its blackouts, with the notice the field asks for. Times are computed from now,
in Japan time, so the demo stays current.

Idempotent: fields are keyed by name, the trial by title, bookings by field and title, blackouts by field
and reason, the call by trial and title; what exists already is left alone. Departments come from the
core demo (by code) and people from its demo accounts (by e-mail); what depends on a missing one is left
out. Never in production.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department, Organisation, OrganisationMember, User
from cocreate.db.base import utcnow
from cocreate.demo import DemoRefused
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.web.i18n import WARD_TIMEZONE
from cocreate.web.markdown import markdown_to_text
from labs.models import (
    ApplicationStatus,
    Area,
    Blackout,
    Booking,
    BookingDocument,
    BookingEvent,
    BookingNotice,
    BookingPeriod,
    BookingStatus,
    DocumentKind,
    FieldKind,
    NoticeKind,
    RecruitmentApplication,
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    TestFieldCoordinator,
    TestFieldHours,
    TestFieldRequirement,
    Trial,
    TrialKpi,
    TrialOrganisation,
    TrialStatus,
    TrialUpdate,
)
from proposals import attachments
from proposals.models import Challenge, DecisionOutcome, Proposal

COORDINATOR = "demo-coordinator@example.jp"
COMPANY = "demo-company@example.jp"
RESIDENT = "demo-resident@example.jp"
DEMO_PHONE = "03-0000-0000（デモ用）"
MOBILITY_CHALLENGE = "高島平で、駅から団地・商店街まで気軽に移動できる暮らしを実現したい"

PLAZA = "高島平駅前プラザと周辺街路"
GARDEN = "熱帯環境植物館"
ROOFTOP = "区立施設の屋上"
SENSORS = "高島平 Wi-Fi センサーネットワーク"

DAILY = range(7)  # Monday (0) to Sunday (6)

# As the labs services name them (labs/bookings.py, labs/notices.py); repeated here so that the demo
# does not depend on services being written at the same time.
BOOKING_TARGET = "booking"
SUBMITTED_KIND = "booking.submitted"
STATUS_KIND = "booking.status"
NOTICE_KIND = "booking.notice"
DOCUMENT_FOLDER = "bookings"
NOTICE_DESCRIPTION_MAX = 2000

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


# --- the trial -----------------------------------------------------------------------------------

TRIAL_TITLE = "高島平 電動マイクロモビリティ実証 ― 駅・団地・商店街をつなぐ"
TRIAL_STARTS = -29  # days from today
TRIAL_ENDS = 61
TRIAL_SUMMARY = (
    "都営三田線の高島平駅と、団地・商店街・公共施設を結ぶ電動マイクロモビリティのシェアリングを、"
    "高島平エリアで試しています。高齢の方も安心して使えるか、まちの回遊がどう変わるかを、区民の皆さんと一緒に確かめます。"
)
TRIAL_DESCRIPTION = (
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
)
TRIAL_KPIS = (  # indicator, unit, baseline, target
    ("月間の利用回数", "回", "400", "2,000"),
    ("利用者のうち65歳以上の方の割合", "%", "8", "25"),
    ("駅周辺から商店街への回遊者数（Wi-Fiセンサーによる計測）", "人/日", "1,150", "1,400"),
    ("利用者アンケートで「満足」「やや満足」と答えた方の割合", "%", "未計測", "80"),
)
TRIAL_UPDATES = (  # day (from today), title, body
    (TRIAL_STARTS + 1, "運行を始めました",
     "運行開始日の試乗会には、地域の皆さん約80人にお越しいただきました。ありがとうございました。\n\n"
     "8か所のポートで、車両20台の貸出を行っています。"
     "初めての方は、高島平駅前のポートで係員が乗り方をご説明します（平日10時〜16時）。\n\n"
     "- 貸出・返却：毎日7時〜21時\n"
     "- 利用料：無料（会員登録が必要です）"),
    (-6, "運行開始から3週間の利用状況",
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
)


class DemoBooking(NamedTuple):
    status: BookingStatus
    title: str
    first_day: int  # days from today: the first free day at least this far (negative: in the past, as is)
    days: int  # consecutive days, one period each
    start: str  # HH:MM, Japan time
    end: str
    created_day: int  # days from today
    decided_day: int | None
    purpose: str
    public_description: str
    expected_people: int
    equipment: str
    review_note: str = ""


BOOKINGS = (
    DemoBooking(
        BookingStatus.COMPLETED, "電動マイクロモビリティの試乗会（運行開始記念）", TRIAL_STARTS, 1, "10:00", "15:00",
        created_day=-50, decided_day=-45,
        purpose="運行開始にあわせ、地域の皆さんに車両を知っていただくための試乗会を行います。",
        public_description=(
            "駅前広場の一部を区切って、電動アシスト自転車と小型の電動モビリティの試乗会を行います。"
            "どなたでも参加できます（当日受付、無料）。係員が乗り方をご説明します。"
        ),
        expected_people=100, equipment="電動アシスト自転車4台、小型電動モビリティ4台、テント2張、カラーコーン、受付用の机",
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
)

CALL_TITLE = "電動マイクロモビリティ 試乗モニター募集（高島平）"
CALL_ELIGIBILITY = (
    "- 高島平地区（高島平一丁目〜九丁目）にお住まいの方、または通勤・通学している方\n"
    "- 18歳以上の方（65歳以上の方の応募を特に歓迎します）\n"
    "- 募集期間の終了後、実証の終了までに3回以上ご利用いただける方"
)
CALL_ACTIVITIES = (
    "- 日常の移動で、電動アシスト自転車または小型の電動モビリティを3回以上ご利用いただきます（利用料は無料です）。\n"
    "- 初めて利用する前に、駅前プラザで約30分の安全講習を受けていただきます。\n"
    "- 利用のたびに、スマートフォンまたは紙のアンケート（5分程度）にお答えいただきます。\n"
    "- ご希望の方は、実証の最後に行う座談会（約1時間、高島平地域センター）にご参加いただけます。"
)
CALL_CONSENT = (
    "試乗モニターへの応募にあたり、次のことに同意します。\n\n"
    "1. 応募の際にお知らせいただく氏名と連絡先は、実証を行う株式会社いたばしモビリティ（デモ）と、"
    "区の実証フィールド担当が、モニターの選考と連絡のためにのみ使います。\n"
    "2. 車両の利用記録とアンケートの回答は、個人を特定できない形に集計したうえで、実証の結果として公表します。\n"
    "3. 同意はいつでも取り消すことができます。取り消した場合、氏名・連絡先などの個人情報は、"
    "実証を行う事業者からは見えなくなります。\n"
    "4. 個人情報は、実証の終了から90日後にすべて削除します。"
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
    if first_day < 0:  # the past is as it was
        return [start + timedelta(days=n) for n in range(count)]
    while True:
        days = [start + timedelta(days=n) for n in range(count)]
        if all(day not in taken and day.weekday() in open_weekdays for day in days):
            return days
        start += timedelta(days=1)


def _overlaps_blocking(session: Session, field_id: int, starts_at: datetime, blocked_until: datetime) -> bool:
    return session.exec(select(BookingPeriod.id).where(
        BookingPeriod.field_id == field_id, col(BookingPeriod.blocks).is_(True),
        col(BookingPeriod.starts_at) < blocked_until, col(BookingPeriod.blocked_until) > starts_at)).first() is not None


# --- loading -------------------------------------------------------------------------------------


def _add_field(session: Session, demo: DemoField, department: Department | None, coordinator: User | None,
               created_at: datetime) -> TestField:
    field = TestField(
        name=demo.name, kind=demo.kind, area=Area.TAKASHIMADAIRA, address=demo.address, latitude=demo.latitude,
        longitude=demo.longitude, summary=demo.summary, description=demo.description, rules=demo.rules,
        cancellation_rule=demo.cancellation_rule, contact=demo.contact, capacity=demo.capacity,
        min_booking_minutes=demo.min_booking_minutes, max_booking_minutes=demo.max_booking_minutes,
        buffer_minutes=demo.buffer_minutes, min_notice_hours=demo.min_notice_hours,
        max_notice_days=demo.max_notice_days, approval_required=True, published=True,
        department_id=department.id if department else None, created_by_id=coordinator.id if coordinator else None,
        created_at=created_at, updated_at=created_at,
    )
    session.add(field)
    session.flush()
    assert field.id is not None
    for weekday, opens, closes in demo.hours:
        session.add(TestFieldHours(field_id=field.id, weekday=weekday, opens_minute=_minute(opens),
                                   closes_minute=_minute(closes)))
    for document in demo.requirements:
        session.add(TestFieldRequirement(field_id=field.id, document=document))
    return field


def _load_fields(session: Session, departments: dict[str, Department], coordinator: User | None,
                 today: date, now: datetime) -> tuple[dict[str, TestField], int]:
    names = [demo.name for demo in FIELDS]
    fields = {f.name: f for f in session.exec(select(TestField).where(col(TestField.name).in_(names))).all()}
    added = 0
    for demo in FIELDS:
        if demo.name not in fields:
            fields[demo.name] = _add_field(session, demo, departments.get(demo.department), coordinator,
                                           now - timedelta(days=120))
            added += 1
        field = fields[demo.name]
        assert field.id is not None
        if coordinator is not None and session.get(TestFieldCoordinator, (field.id, coordinator.id)) is None:
            session.add(TestFieldCoordinator(field_id=field.id, user_id=coordinator.id))  # type: ignore[arg-type]
        reasons = set(session.exec(select(Blackout.reason).where(Blackout.field_id == field.id)).all())
        for item in demo.blackouts:
            if item.reason in reasons:
                continue
            first = _next_weekday(today, item.weekday, item.after_days)
            last = first + timedelta(days=item.days - 1)
            session.add(Blackout(field_id=field.id, starts_at=_at(first, item.start), ends_at=_at(last, item.end),
                                 reason=item.reason, created_by_id=coordinator.id if coordinator else None,
                                 created_at=now - timedelta(days=30), updated_at=now - timedelta(days=30)))
    session.flush()
    return fields, added


def _add_trial(session: Session, departments: dict[str, Department], users: dict[str, User], today: date) -> Trial:
    challenge = session.exec(select(Challenge).where(Challenge.title == MOBILITY_CHALLENGE)).first()
    proposal_id = None
    if challenge is not None:  # the selected proposal of that challenge, if the demo has one without a trial
        proposal_id = session.exec(select(Proposal.id).where(
            Proposal.challenge_id == challenge.id, Proposal.decision == DecisionOutcome.SELECTED,
            col(Proposal.id).not_in(select(Trial.proposal_id).where(col(Trial.proposal_id).is_not(None))),
        ).order_by(Proposal.id)).first()
    department = departments.get("takashimadaira")
    coordinator = users.get(COORDINATOR)
    company = users.get(COMPANY)
    created_at = _at(today + timedelta(days=TRIAL_STARTS - 40), "10:00")
    trial = Trial(
        proposal_id=proposal_id, challenge_id=challenge.id if challenge else None,
        department_id=department.id if department else None,
        created_by_id=coordinator.id if coordinator else None, title=TRIAL_TITLE, summary=TRIAL_SUMMARY,
        description=TRIAL_DESCRIPTION, status=TrialStatus.RUNNING,
        starts_on=today + timedelta(days=TRIAL_STARTS), ends_on=today + timedelta(days=TRIAL_ENDS), published=True,
        created_at=created_at, updated_at=_at(today + timedelta(days=-6), "15:00"),
    )
    session.add(trial)
    session.flush()
    assert trial.id is not None
    for position, (indicator, unit, baseline, target) in enumerate(TRIAL_KPIS):
        session.add(TrialKpi(trial_id=trial.id, position=position, indicator=indicator, unit=unit,
                             baseline=baseline, target=target))
    for day, title, body in TRIAL_UPDATES:
        posted = _at(today + timedelta(days=day), "15:00")
        session.add(TrialUpdate(trial_id=trial.id, posted_on=today + timedelta(days=day), title=title, body=body,
                                author_id=company.id if company else None, created_at=posted, updated_at=posted))
    session.flush()
    return trial


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


def _add_documents(session: Session, settings: Settings, booking: Booking, field: TestField,
                   uploaded_by_id: int | None, at: datetime) -> None:
    """The documents the field requires, uploaded with the request (stored like real uploads)."""
    assert booking.id is not None
    required = session.exec(select(TestFieldRequirement.document).where(
        TestFieldRequirement.field_id == field.id)).all()
    for kind in sorted(required, key=list(DocumentKind).index):
        text = f"cocreate demo document: {kind.value}, booking {booking.id}"
        received = attachments.receive(settings, io.BytesIO(_pdf(text)), folder=DOCUMENT_FOLDER)
        session.add(BookingDocument(
            booking_id=booking.id, document=kind,
            filename=attachments.clean_filename(DOCUMENT_FILES[kind], received.file_type),
            content_type=received.file_type.content_type, size_bytes=received.size_bytes, sha256=received.sha256,
            storage_key=received.storage_key, uploaded_by_id=uploaded_by_id, created_at=at, updated_at=at))


def _notify(session: Session, user_ids: set[int], kind: str, booking: Booking, params: dict[str, object],
            url: str, event_key: str, at: datetime, now: datetime, *, read: bool | None = None) -> int:
    """In-site notifications as ``notifications.notify`` stores them (no mail: the demo sends nothing);
    read or not as ``read`` says, by default read when older than a week."""
    if read is None:
        read = at < now - timedelta(days=7)
    assert booking.id is not None
    added = 0
    for user_id in sorted(user_ids):
        if session.exec(select(Notification.id).where(Notification.user_id == user_id,
                                                      Notification.event_key == event_key)).first() is not None:
            continue
        session.add(Notification(
            user_id=user_id, kind=kind, target_type=BOOKING_TARGET, target_id=booking.id,
            params_json=json.dumps(params, ensure_ascii=False, sort_keys=True), url=url, event_key=event_key,
            read_at=at + timedelta(hours=3) if read else None, created_at=at, updated_at=at))
        added += 1
    session.flush()
    return added


def _add_booking(session: Session, settings: Settings, demo: DemoBooking, field: TestField, trial: Trial,
                 organisation_id: int, users: dict[str, User], days: list[date], today: date,
                 now: datetime) -> Booking | None:
    """The booking with its periods, documents, history and the notifications of its moves, as the
    booking services leave them; None if it would overlap a blocking period."""
    assert field.id is not None
    was_approved = demo.decided_day is not None  # approved, then maybe completed: its periods block
    periods = [(_at(day, demo.start), _at(day, demo.end)) for day in days]
    buffer = timedelta(minutes=field.buffer_minutes)
    if was_approved and any(_overlaps_blocking(session, field.id, start, end + buffer) for start, end in periods):
        return None  # never two blocking periods at once: left out rather than forced in
    company = users.get(COMPANY)
    coordinator = users.get(COORDINATOR)
    company_id = company.id if company else None
    coordinator_id = coordinator.id if coordinator else None
    created_at = _at(today + timedelta(days=demo.created_day), "10:00")
    submitted_at = created_at + timedelta(hours=2)
    decided_at = None if demo.decided_day is None else _at(today + timedelta(days=demo.decided_day), "14:00")
    completed_at = periods[-1][1] + timedelta(minutes=30) if demo.status is BookingStatus.COMPLETED else None
    booking = Booking(
        field_id=field.id, organisation_id=organisation_id, trial_id=trial.id, created_by_id=company_id,
        status=demo.status, title=demo.title, purpose=demo.purpose, public_description=demo.public_description,
        expected_people=demo.expected_people, equipment=demo.equipment, review_note=demo.review_note,
        submitted_at=submitted_at, decided_at=decided_at, decided_by_id=coordinator_id if decided_at else None,
        completed_at=completed_at, created_at=created_at,
        updated_at=completed_at or decided_at or submitted_at,
    )
    session.add(booking)
    session.flush()
    assert booking.id is not None
    for start, end in periods:  # completing leaves the periods as approval made them
        session.add(BookingPeriod(booking_id=booking.id, field_id=field.id, starts_at=start, ends_at=end,
                                  blocked_until=end + buffer if was_approved else end, blocks=was_approved))
    _add_documents(session, settings, booking, field, company_id, created_at + timedelta(hours=1))
    history: list[tuple[BookingStatus, BookingStatus, datetime, int | None, str]] = [
        (BookingStatus.DRAFT, BookingStatus.SUBMITTED, submitted_at, company_id, ""),
    ]
    if decided_at is not None:
        history += [
            (BookingStatus.SUBMITTED, BookingStatus.UNDER_REVIEW, decided_at - timedelta(days=1), coordinator_id, ""),
            (BookingStatus.UNDER_REVIEW, BookingStatus.APPROVED, decided_at, coordinator_id, demo.review_note),
        ]
    if completed_at is not None:
        history.append((BookingStatus.APPROVED, BookingStatus.COMPLETED, completed_at, None, ""))
    members = set(session.exec(select(OrganisationMember.user_id).where(
        OrganisationMember.organisation_id == organisation_id)).all())
    coordinators = set(session.exec(select(TestFieldCoordinator.user_id).where(
        TestFieldCoordinator.field_id == field.id)).all())
    url = f"/bookings/{booking.id}"
    for from_status, to_status, at, by_id, note in history:
        event = BookingEvent(booking_id=booking.id, from_status=from_status, to_status=to_status, at=at,
                             by_id=by_id, note=note)
        session.add(event)
        session.flush()
        params: dict[str, object] = {"booking_id": booking.id, "title": booking.title, "status": to_status.value,
                                     "rescheduled": False}
        _notify(session, members - {by_id}, STATUS_KIND, booking, params, url, f"{STATUS_KIND}:{event.id}", at, now)
        if to_status is BookingStatus.SUBMITTED:
            _notify(session, coordinators - {by_id}, SUBMITTED_KIND, booking, params | {"field_name": field.name},
                    url, f"{SUBMITTED_KIND}:{event.id}", at, now)
    session.flush()
    return booking


def _load_bookings(session: Session, settings: Settings, field: TestField, trial: Trial, organisation_id: int,
                   users: dict[str, User], today: date, now: datetime) -> list[Booking]:
    """The trial's bookings of the plaza: added when missing (by title), each on free days."""
    assert field.id is not None
    existing = set(session.exec(select(Booking.title).where(Booking.field_id == field.id)).all())
    demo_field = next(demo for demo in FIELDS if demo.name == field.name)
    open_weekdays = {weekday for weekday, _opens, _closes in demo_field.hours}
    taken = _blackout_days(today, demo_field.blackouts)
    added = []
    for demo in BOOKINGS:
        if demo.title in existing:
            continue
        days = _free_days(today, demo.first_day, demo.days, taken, open_weekdays)
        booking = _add_booking(session, settings, demo, field, trial, organisation_id, users, days, today, now)
        if booking is not None:
            taken.update(days)
            added.append(booking)
    return added


def _follow(session: Session, user_id: int, target_type: str, target_id: int, at: datetime) -> None:
    if session.exec(select(Follow.id).where(Follow.user_id == user_id, Follow.target_type == target_type,
                                            Follow.target_id == target_id)).first() is None:
        session.add(Follow(user_id=user_id, target_type=target_type, target_id=target_id, created_at=at,
                           updated_at=at))
        session.flush()


def _subscribers(session: Session, field: TestField) -> set[int]:
    """Residents told about the field's bookings: its followers and its area's."""
    return set(session.exec(select(Follow.user_id).where(
        ((Follow.target_type == "test_field") & (Follow.target_id == field.id))
        | ((Follow.target_type == "area") & (Follow.target_id == field.area.number)))).all())


def _notice_params(session: Session, notice: BookingNotice, booking: Booking, field: TestField) -> dict[str, object]:
    """What the notice says, as ``labs.notices.notice_params`` writes it (plain values, local ISO times)."""
    periods = session.exec(select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)
                           .order_by(col(BookingPeriod.starts_at), col(BookingPeriod.id))).all()
    organisation = session.get(Organisation, booking.organisation_id)
    return {
        "notice_kind": notice.kind.value,
        "field_id": field.id,
        "field_name": field.name,
        "field_address": field.address,
        "booking_title": booking.title,
        "periods": [{"starts_at": p.starts_at.astimezone(WARD_TIMEZONE).isoformat(),
                     "ends_at": p.ends_at.astimezone(WARD_TIMEZONE).isoformat()} for p in periods],
        "description": markdown_to_text(booking.public_description, limit=NOTICE_DESCRIPTION_MAX),
        "contact": field.contact,
        "organisation": organisation.name if organisation is not None else "",
    }


def _announce(session: Session, booking: Booking, field: TestField, now: datetime) -> int:
    """The approval notice of a booking, sent to the field's subscribers (in the site; no mail)."""
    assert booking.id is not None and booking.decided_at is not None
    if session.exec(select(BookingNotice.id).where(
            BookingNotice.booking_id == booking.id, BookingNotice.kind == NoticeKind.APPROVED,
            BookingNotice.revision == booking.revision)).first() is not None:
        return 0
    sent_at = booking.decided_at + timedelta(minutes=2)
    notice = BookingNotice(booking_id=booking.id, kind=NoticeKind.APPROVED, revision=booking.revision,
                           created_at=booking.decided_at, updated_at=sent_at)
    session.add(notice)
    session.flush()
    assert notice.id is not None
    key = f"booking-notice:{notice.id}"
    params = _notice_params(session, notice, booking, field)
    over = all(period.ends_at < now for period in session.exec(
        select(BookingPeriod).where(BookingPeriod.booking_id == booking.id)).all())
    _notify(session, _subscribers(session, field), NOTICE_KIND, booking, params, f"/bookings/{booking.id}/notice",
            key, sent_at, now, read=over)  # residents have not yet read about what is still to come
    notice.recipient_count = session.exec(select(func.count()).select_from(Notification).where(
        Notification.event_key == key)).one()
    notice.sent_at = sent_at
    notice.updated_at = sent_at
    session.add(notice)
    session.flush()
    return 1


def _load_call(session: Session, trial: Trial, users: dict[str, User], today: date, now: datetime) -> int:
    assert trial.id is not None
    call = session.exec(select(RecruitmentCall).where(RecruitmentCall.trial_id == trial.id,
                                                      RecruitmentCall.title == CALL_TITLE)).first()
    added = 0
    if call is None:
        company = users.get(COMPANY)
        opened = _at(today + timedelta(days=-6), "15:30")
        apply_by = _at(today + timedelta(days=21), "17:00")
        call = RecruitmentCall(
            trial_id=trial.id, title=CALL_TITLE, eligibility=CALL_ELIGIBILITY, activities=CALL_ACTIVITIES,
            places=20, starts_on=today + timedelta(days=25), ends_on=trial.ends_on, apply_by=apply_by,
            consent_text=CALL_CONSENT, consent_version=1, status=RecruitmentStatus.OPEN,
            created_by_id=company.id if company else None, created_at=opened, updated_at=opened)
        session.add(call)
        session.flush()
        added = 1
    resident = users.get(RESIDENT)
    if resident is not None and session.exec(select(RecruitmentApplication.id).where(
            RecruitmentApplication.call_id == call.id, RecruitmentApplication.user_id == resident.id)).first() is None:
        applied = max(call.created_at, now - timedelta(days=2))
        session.add(RecruitmentApplication(
            call_id=call.id, user_id=resident.id, status=ApplicationStatus.APPLIED,
            consent_version=call.consent_version, consented_at=applied, full_name="板橋 花子",
            contact=RESIDENT, message="駅まで歩くのが少しつらくなってきたので、試してみたいです。自転車には乗れます。",
            created_at=applied, updated_at=applied))
        session.flush()
    return added


def load(session: Session, settings: Settings) -> str:
    if settings.is_production:
        raise DemoRefused("refusing to load demo content: COCREATE_ENV is production")
    now = utcnow()
    today = now.astimezone(WARD_TIMEZONE).date()
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    users = {u.email: u for u in session.exec(select(User).where(
        col(User.email).in_([COORDINATOR, COMPANY, RESIDENT]))).all() if u.email}
    company = users.get(COMPANY)
    organisation_id = None
    if company is not None:
        organisation_id = session.exec(select(OrganisationMember.organisation_id).where(
            OrganisationMember.user_id == company.id).order_by(OrganisationMember.id)).first()

    fields, fields_added = _load_fields(session, departments, users.get(COORDINATOR), today, now)
    plaza = fields[PLAZA]
    assert plaza.id is not None

    resident = users.get(RESIDENT)
    if resident is not None:  # following before the first approval, so every notice reached them
        followed = _at(today + timedelta(days=-60), "20:00")
        _follow(session, resident.id, "test_field", plaza.id, followed)  # type: ignore[arg-type]
        _follow(session, resident.id, "area", Area.TAKASHIMADAIRA.number, followed)  # type: ignore[arg-type]

    trial = session.exec(select(Trial).where(Trial.title == TRIAL_TITLE)).first()
    trial_added = trial is None
    if trial is None:
        trial = _add_trial(session, departments, users, today)

    bookings: list[Booking] = []
    notices = 0
    if organisation_id is not None:
        if session.get(TrialOrganisation, (trial.id, organisation_id)) is None:  # the trial came before the company
            session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation_id, is_lead=True))  # type: ignore[arg-type]
            session.flush()
        bookings = _load_bookings(session, settings, plaza, trial, organisation_id, users, today, now)
        for booking in session.exec(select(Booking).where(
                Booking.trial_id == trial.id, col(Booking.decided_at).is_not(None),
                col(Booking.status).in_([BookingStatus.APPROVED, BookingStatus.COMPLETED]))).all():
            field = session.get(TestField, booking.field_id)
            notices += _announce(session, booking, field, now) if field is not None else 0
    calls = _load_call(session, trial, users, today, now)
    session.flush()
    summary = f"{fields_added} test fields added, {len(FIELDS) - fields_added} already there; "
    summary += "trial added" if trial_added else "trial already there"
    summary += f" with {len(bookings)} bookings, {notices} notices and {calls} recruitment calls added"
    if organisation_id is None:
        summary += " (no bookings: the demo company is missing, load the core demo first)"
    return summary
