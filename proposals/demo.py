"""Demo challenges written from the ward's initiatives (shared/seeds 000: chapter 4 and the Takashimadaira
section), as the ward would post them: one in each public phase, with phase dates around today, Q&A
answered by the owning department, and briefing sessions (past and upcoming, one online, one cancelled).

Everything is played through the services (:mod:`cocreate.demo_playback`) as the people of the core demo,
each action on its own day: the lead department's member writes the challenge as a draft (its schedule,
co-owners, criteria, KPIs and voting rules) two weeks before publishing it, publishes it and adds its
briefing sessions; the schedule moves it on (the beat job's service); residents and organisations ask
questions, which the department answers, and register for the sessions. The challenges that have gone
past accepting proposals carry a story (:mod:`proposals.demo_story`), played on the same timeline: proposals,
comments, votes, review, decisions, closing without selection.

Idempotent: a challenge whose title exists already is left alone, with everything that belongs to it.
Departments come from the core demo (looked up by code) and people from its demo accounts (looked up
by e-mail); a challenge whose department or people are missing is left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlmodel import Session, col, select

from cocreate.accounts.models import Department
from cocreate.comments import events as comment_events
from cocreate.db.base import utcnow
from cocreate.demo_playback import Playback, Step
from cocreate.i18n import WARD_TIMEZONE
from cocreate.settings import Settings
from proposals import demo_story, events, phases
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm
from proposals.dialogue import briefings
from proposals.dialogue import questions as qa
from proposals.models import Category, Challenge, Phase, QuestionVisibility
from proposals.votes import services as votes

COMPANY = "demo-company@example.jp"
STARTUP = "demo-startup@example.jp"
RESIDENT = "demo-resident@example.jp"
DEMO_PHONE = "03-0000-0000（デモ用）"
STAFF_OF = {
    "env-policy": demo_story.STAFF_ENV,
    "transport": demo_story.STAFF_TRANSPORT,
    "takashimadaira": demo_story.STAFF_TAKASHIMADAIRA,
}
"""The core demo's member of each lead department: they write, publish and run its challenges."""
DRAFTED_BEFORE = timedelta(days=14)


class DemoQuestion(NamedTuple):
    asker: str  # e-mail of a demo account
    visibility: QuestionVisibility
    asked_day: int  # days from today (negative: in the past)
    body: str
    answer: str = ""  # empty: still open
    answered_day: int = 0


class DemoSession(NamedTuple):
    title: str
    day: int  # days from today
    start: str  # HH:MM, Japan time
    end: str
    place: str
    online_url: str
    capacity: int
    notes: str
    registrants: tuple[str, ...] = ()
    cancelled_day: int | None = None  # then ``notes`` say why (also the reason sent to the registrants)
    planned_notes: str = ""  # the notes of a session cancelled later, as it was announced


class DemoChallenge(NamedTuple):
    department: str  # code of the lead department
    co_owners: tuple[str, ...]
    category: Category
    area: str
    phase: Phase
    schedule: dict[Phase, int]  # phase -> the day it starts, counted from today; PUBLISHED = publication
    title: str
    summary: str
    background: str
    current_situation: str
    desired_outcome: str
    constraints: str
    eligibility: str
    budget_cap_yen: int
    support_facilities: str
    support_data: str
    support_other: str
    criteria: tuple[tuple[str, int, str], ...]  # name, weight, description
    kpis: tuple[tuple[str, str, str, str], ...]  # indicator, baseline, target, unit
    contact: tuple[str, str]  # name, e-mail
    questions: tuple[DemoQuestion, ...] = ()
    sessions: tuple[DemoSession, ...] = ()
    closed_reason: str = ""
    vote_limit: int = 3


CHALLENGES: list[DemoChallenge] = [
    DemoChallenge(
        department="env-policy",
        co_owners=("facilities",),
        category=Category.ENVIRONMENT_ENERGY,
        area="板橋区全域",
        phase=Phase.REVIEW,
        schedule={Phase.PUBLISHED: -110, Phase.ACCEPTING: -95, Phase.VOTING: -45, Phase.REVIEW: -15,
                  Phase.DECIDED: 20},
        title="清掃工場の余熱や太陽光を活かし、災害に強いエネルギーの地産地消を実現したい",
        summary=(
            "清掃工場からの余熱や区立施設の太陽光発電など、区内で生まれるエネルギーをデジタル技術で賢く使い、"
            "平常時のCO2削減と災害時の電力・熱の確保を両立する仕組みを実現したいと考えています。"
            "まずは区立施設を対象とした小さな実証から始め、段階的に広げていきます。"
        ),
        background=(
            "区は「新たな板橋区スマートシティ推進方針」の取組例として、清掃工場からの余熱利用や太陽光発電など、"
            "環境に配慮したエネルギーの地産地消と、デジタル技術を活用した地域エネルギーの最適化を掲げています。\n\n"
            "区が保有する公共施設の半数以上は建設から40年以上を経過し、今後10年間で多くの施設が更新時期を迎えます。"
            "更新にあわせた省エネ・創エネと、運用段階でのエネルギー管理の両方が求められています。"
        ),
        current_situation=(
            "- 区立施設への太陽光発電設備の設置は進んでいますが、発電量・使用量のデータは施設ごとに管理されており、"
            "区全体で需給を見渡す仕組みがありません。\n"
            "- 休日など、発電した電力を施設内で使い切れない時間帯があります。\n"
            "- 避難所となる学校等では、停電時に使える電力・熱の見通しが施設ごとに異なります。"
        ),
        desired_outcome=(
            "- 複数の区立施設の発電量・使用量を一元的に把握し、施設間で融通・制御する運用モデルができている。\n"
            "- 避難所となる施設で、停電時にも一定時間、照明・通信・暖房に必要な電力と熱を確保できる見通しが立っている。\n"
            "- 実証の結果をもとに、他の施設へ展開する際の費用と効果を区が判断できる。\n\n"
            "特定の製品や方式を求めるものではありません。目的に合う方法をご提案ください。"
        ),
        constraints=(
            "- 電気事業法をはじめとする関係法令を遵守してください。\n"
            "- 施設の通常の運営（授業、窓口業務等）に支障を与えないこと。\n"
            "- 清掃工場は東京二十三区清掃一部事務組合の施設です。余熱の利用は同組合との協議が前提となります。\n"
            "- 建物の大規模な改修は本実証の対象外です。"
        ),
        eligibility=(
            "法人（企業、大学・研究機関、NPO法人等）。複数の法人による共同提案も可能です。"
            "エネルギーマネジメントシステムの導入または研究の実績があることが望まれます。"
        ),
        budget_cap_yen=5_000_000,
        support_facilities="実証対象の区立施設（地域センター、小・中学校等から2〜3施設を協議のうえ選定）。分電盤等への計測機器の設置（要協議）。",
        support_data="区立施設のエネルギー使用量（月別、過去3年度分）、太陽光発電設備の設置状況一覧。",
        support_other="関係機関（清掃一部事務組合、電力会社等）との調整への協力。",
        criteria=(
            ("脱炭素への効果", 25, "CO2削減量とその算定方法の妥当性"),
            ("災害時のレジリエンス", 25, "停電時に確保できる電力・熱と、その持続時間"),
            ("実現可能性", 20, "体制、スケジュール、関係機関との調整の見通し"),
            ("他施設への展開性", 15, "他の区立施設へ広げる際の費用と手順"),
            ("費用の妥当性", 15, "提案額と期待される効果のバランス"),
        ),
        kpis=(
            ("実証施設の購入電力量の削減率", "0", "10", "%"),
            ("避難所施設で停電時に電力を確保できる時間", "0", "72", "時間"),
            ("太陽光発電の自家消費率", "未計測", "80", "%"),
        ),
        contact=("資源環境部 環境政策課 脱炭素推進係", "datsutanso-demo@example.jp"),
        questions=(
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -90,
                         "清掃工場の余熱について、時間帯ごとの熱量などのデータは提供していただけますか。",
                         "清掃一部事務組合と協議のうえ、提供可能な範囲で月別の概算値をお示しします。"
                         "時間帯ごとの詳細なデータは、採択後に組合と個別に調整します。", -86),
            DemoQuestion(STARTUP, QuestionVisibility.PRIVATE, -80,
                         "実証対象の施設は何か所程度を想定していますか。また、施設の選定に提案者の希望は反映されますか。",
                         "2〜3施設を想定しています。選定にあたっては提案内容を踏まえて協議しますので、"
                         "ご希望がある場合は提案書に理由とあわせてご記載ください。", -78),
        ),
        sessions=(
            DemoSession("説明会（区役所会場）", -88, "14:00", "15:30", "板橋区役所 本庁舎 南館 災害対策本部室",
                        "", 60, "課題の背景と、実証対象となる施設の候補についてご説明します。", (COMPANY,)),
        ),
    ),
    DemoChallenge(
        department="env-policy",
        co_owners=(),
        category=Category.ENVIRONMENT_ENERGY,
        area="板橋区全域",
        phase=Phase.ACCEPTING,
        schedule={Phase.PUBLISHED: -28, Phase.ACCEPTING: -14, Phase.VOTING: 30, Phase.REVIEW: 45,
                  Phase.DECIDED: 75},
        title="区民の環境にやさしい行動が見えて、続けたくなる仕組みを実現したい",
        summary=(
            "区民一人ひとりの省エネ、ごみの減量、移動手段の選択などの環境配慮行動を、デジタルツールで手軽に記録・可視化し、"
            "取組に応じたエコポイントで「続けたくなる」仕組みを実現したいと考えています。"
            "スマートフォンに不慣れな方も参加できる工夫を含めたご提案をお待ちしています。"
        ),
        background=(
            "2050年カーボンニュートラルの実現には、事業者だけでなく、家庭での日々の行動の積み重ねが欠かせません。"
            "区は「エコポリス板橋」として環境行動の普及に取り組んできましたが、講座やイベントに参加した方の行動が"
            "その後どう変わったかは、把握できていません。\n\n"
            "スマートシティ推進方針では、区民が自らの環境によい活動をデジタルツールで記録・可視化し、"
            "取組内容に応じてエコポイントを付与する仕組みの構築を取組例に挙げています。"
        ),
        current_situation=(
            "- 環境イベントの参加者数は把握していますが、参加後の行動の変化は測れていません。\n"
            "- 区民アンケートでは、環境のために「何をすればよいかわからない」「効果が見えない」という声があります。\n"
            "- デジタル機器の操作に不慣れな方への配慮（デジタルデバイド対策）が課題です。"
        ),
        desired_outcome=(
            "- 区民が自分の環境貢献を数値や記録で実感でき、家族や地域の仲間と楽しみながら続けられる状態。\n"
            "- 区が、個人を特定しない集計データで施策の効果を把握し、次の施策に活かせる状態。\n"
            "- スマートフォンを持たない方も、紙や区施設の端末などで参加できる状態。"
        ),
        constraints=(
            "- 個人情報の取扱いは、区の個人情報保護に関する規定に従ってください。区に提供するデータは個人を特定できない集計値とします。\n"
            "- エコポイントの原資は、実証期間中は本事業の予算の範囲内とします。\n"
            "- ウェブアクセシビリティはJIS X 8341-3:2016の適合レベルAAを目標としてください。"
        ),
        eligibility="法人（企業、大学・研究機関、NPO法人等）。区内の事業者・団体との共同提案を歓迎します。",
        budget_cap_yen=4_000_000,
        support_facilities="板橋区立エコポリスセンターでの体験会の開催場所、区立施設でのポスター掲示。",
        support_data="区の環境関連統計（オープンデータ）、過去の環境イベント参加者数（集計値）。",
        support_other="区報・区ホームページ・区公式SNSでの参加者募集への協力。",
        criteria=(
            ("参加しやすさ", 30, "デジタル機器に不慣れな方への配慮を含め、誰もが参加できるか"),
            ("行動変容の効果と測定方法", 25, "行動の変化をどう測り、どう示すか"),
            ("実現可能性・体制", 20, ""),
            ("費用の妥当性", 15, ""),
            ("区内事業者・団体との連携", 10, "商店街、町会・自治会等との連携の見通し"),
        ),
        kpis=(
            ("登録者数", "0", "3,000", "人"),
            ("記録された環境行動の件数", "0", "10,000", "件/月"),
            ("参加者アンケートで「環境行動が増えた」と答えた人の割合", "未計測", "60", "%"),
        ),
        contact=("資源環境部 環境政策課 環境計画係", "kankyo-keikaku-demo@example.jp"),
        questions=(
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -20,
                         "既存の民間ポイントサービスや、地域の商店街のポイントと連携する提案は可能ですか。",
                         "可能です。区が付与するエコポイントの原資は予算の範囲内となりますが、"
                         "民間サービスや商店街との連携方法は提案内容に応じて協議します。", -17),
            DemoQuestion(RESIDENT, QuestionVisibility.PRIVATE, -12,
                         "スマートフォンを持っていない高齢の家族も参加できるようになりますか。",
                         "はい。スマートフォンをお持ちでない方も参加できることを、評価の重要な観点としています"
                         "（評価基準「参加しやすさ」）。紙の記録カードや区施設の端末での参加なども想定しています。", -10),
            DemoQuestion(STARTUP, QuestionVisibility.PUBLIC, -3,
                         "エコポリスセンター以外の区立施設（地域センター等）でも体験会を開くことはできますか。"),
        ),
        sessions=(
            DemoSession("第1回 説明会（エコポリスセンター）", -9, "14:00", "15:30",
                        "板橋区立エコポリスセンター 2階 多目的室", "", 40,
                        "課題の背景と募集要項をご説明し、質疑応答を行います。", (COMPANY, RESIDENT)),
            DemoSession("第2回 説明会（区役所会場）", 5, "10:00", "11:30", "板橋区役所 本庁舎 11階 第1委員会室",
                        "", 40, "会場の都合により中止しました。オンライン説明会をご利用ください。", (),
                        cancelled_day=-2, planned_notes="第1回と同じ内容を、区役所会場でご説明します。"),
            DemoSession("オンライン説明会", 8, "19:00", "20:00", "", "https://meet.example.jp/itabashi-eco-action",
                        100, "オンライン会議ツールで開催します。参加URLはお申し込みの方にお知らせします。"
                        "カメラ・マイクはオフのままで参加できます。", (STARTUP, RESIDENT)),
        ),
    ),
    DemoChallenge(
        department="transport",
        co_owners=("smart-city",),
        category=Category.TRANSPORT_MOBILITY,
        area="区内の主要バス停",
        phase=Phase.VOTING,
        schedule={Phase.PUBLISHED: -70, Phase.ACCEPTING: -55, Phase.VOTING: -12, Phase.REVIEW: 9,
                  Phase.DECIDED: 40},
        vote_limit=5,
        title="バス停を、運行情報と地域の情報が届く拠点にすることを実現したい",
        summary=(
            "スマートバス停のデジタルサイネージで、バスの運行情報をリアルタイムに届けるとともに、"
            "地域のイベント・観光・防災などの行政情報も発信し、誰もが使いやすい地域情報の拠点をつくりたいと考えています。"
        ),
        background=(
            "区内の移動は、鉄道とあわせて路線バスが支えています。バス停は毎日多くの区民が立ち寄る場所であり、"
            "スマートシティ推進方針では、スマートバス停のデジタルサイネージを活用した地域情報の発信を取組例に挙げています。"
        ),
        current_situation=(
            "- 一部のバス停にはデジタルサイネージが設置されていますが、表示内容は運行情報が中心です。\n"
            "- 区からのお知らせ（イベント、防災情報等）は、区報・ホームページ・掲示板が中心で、"
            "日頃これらを見ない方には届きにくい状況です。\n"
            "- 災害時に、バスの運行状況や避難所の情報をバス停で確認できる手段がありません。"
        ),
        desired_outcome=(
            "- バスを待つ人が、運行情報とあわせて地域の情報を自然に受け取れる。\n"
            "- 高齢の方、目の不自由な方、外国人の方にもわかりやすい表示・案内ができる。\n"
            "- 災害時には、区が発信する情報をすぐにバス停へ表示できる。"
        ),
        constraints=(
            "- 道路占用許可など、関係法令と道路管理者・交通事業者との協議が必要です。\n"
            "- 広告を表示する場合は、区の広告掲載基準に従ってください。\n"
            "- 夜間の表示輝度は、近隣の住環境に配慮してください。"
        ),
        eligibility="法人。交通事業者、サイネージ事業者、大学等による共同提案を歓迎します。",
        budget_cap_yen=6_000_000,
        support_facilities="実証候補となるバス停（交通事業者と協議のうえ2〜3か所）。",
        support_data="区の防災情報の配信データ（形式は協議）、区内イベント情報（オープンデータ）。",
        support_other="交通事業者・道路管理者との協議への同席・協力。",
        criteria=(
            ("利用者にとってのわかりやすさ", 30, "高齢の方、障がいのある方、外国人の方への配慮"),
            ("災害時の情報発信", 20, "区の情報を表示するまでの速さと確実さ"),
            ("実現可能性", 20, ""),
            ("運用コストと持続性", 20, "実証後も続けられる運用の仕組み"),
            ("地域との連携", 10, "商店街・町会等の情報を載せる仕組み"),
        ),
        kpis=(
            ("地域情報を表示するバス停の数", "0", "3", "か所"),
            ("利用者アンケートで「役に立った」と答えた人の割合", "未計測", "70", "%"),
            ("区の防災情報をバス停に表示するまでの時間", "未計測", "5分以内", ""),
        ),
        contact=("都市整備部 交通政策課 交通企画係", "kotsu-kikaku-demo@example.jp"),
        questions=(
            DemoQuestion(RESIDENT, QuestionVisibility.PUBLIC, -60,
                         "文字が小さいと読めません。音声で案内する機能も提案の対象になりますか。",
                         "対象になります。評価基準「利用者にとってのわかりやすさ」では、文字の大きさや色使いに加え、"
                         "音声案内など、目の不自由な方への配慮も評価します。", -58),
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -50,
                         "バス停の電源と通信回線は、区や交通事業者から提供されますか。",
                         "既存のサイネージが設置されているバス停では、既存の電源を利用できる見込みです。"
                         "通信回線は提案者にご用意いただくことを想定しています。詳細は採択後に協議します。", -47),
        ),
        sessions=(
            DemoSession("説明会", -52, "15:00", "16:30", "板橋区役所 本庁舎 北館 11階 会議室", "", 50,
                        "交通事業者の担当者も同席し、バス停の設備についてご説明します。", (COMPANY,)),
        ),
    ),
    DemoChallenge(
        department="takashimadaira",
        co_owners=("smart-city",),
        category=Category.URBAN_DEVELOPMENT,
        area="高島平",
        phase=Phase.PUBLISHED,
        schedule={Phase.PUBLISHED: -5, Phase.ACCEPTING: 12, Phase.VOTING: 60, Phase.REVIEW: 75,
                  Phase.DECIDED: 105},
        title="まちの人の流れをデータで捉え、高島平の隠れた課題の発見を実現したい",
        summary=(
            "高島平地区に設置したWi-Fiセンサーで、回遊の状況、地点ごとの通行量や滞在時間を計測しています"
            "（個人情報は収集していません）。このデータを分析し、まちの隠れた課題や不便さを明らかにして、"
            "より便利で安全かつ賑わいのあるまちづくりにつなげる方法を募集します。"
        ),
        background=(
            "高島平は、昭和40年代の大規模な土地区画整理事業で誕生し、約50年を経て都市再生に取り組む地域です。"
            "平成28年に開設したアーバンデザインセンター高島平（UDCTak）を中心に、民・学・公が連携したまちづくりを進めています。\n\n"
            "区は高島平地区内にWi-Fiセンサーを設置し、人の流れを計測してきました。"
        ),
        current_situation=(
            "- Wi-Fiセンサーによる通行量・滞在時間のデータが蓄積されていますが、分析は集計にとどまっています。\n"
            "- 駅周辺、団地、商店街、公園の間の回遊の実態や、時間帯・曜日による違いは十分にわかっていません。\n"
            "- データを区民や事業者にわかりやすく示す方法も確立していません。"
        ),
        desired_outcome=(
            "- 人の流れのデータから、まちの課題（歩きにくい場所、立ち寄られない場所、混雑する時間帯など）が具体的に示されている。\n"
            "- 分析結果が、区民・事業者・UDCTakが一緒に議論できる形（地図、ダッシュボード等）で共有されている。\n"
            "- 分析の方法が、今後も区が継続して使える形で引き継がれている。"
        ),
        constraints=(
            "- 計測データは個人を特定できない形で提供します。再識別を試みることは禁止します。\n"
            "- データの利用は本事業の目的の範囲に限ります。事業終了後はデータを返却または消去してください。\n"
            "- 新たなセンサーの設置を提案する場合は、設置場所の管理者との協議が必要です。"
        ),
        eligibility="法人（企業、大学・研究機関、NPO法人等）。データ分析または都市計画分野での実績があること。",
        budget_cap_yen=3_000_000,
        support_facilities="アーバンデザインセンター高島平（UDCTak）での分析結果の共有会の開催。",
        support_data="Wi-Fiセンサーによる地点別の通行量・滞在時間の集計データ（1時間単位、過去1年分）、3D都市モデル（PLATEAU）。",
        support_other="UDCTak、地元の町会・商店会との意見交換の場の設定。",
        criteria=(
            ("課題発見の具体性", 30, "データから何を明らかにし、まちづくりにどうつなげるか"),
            ("共有のしやすさ", 20, "区民・事業者が理解し議論できる見せ方"),
            ("データの適正な取扱い", 20, "プライバシーへの配慮とデータ管理の体制"),
            ("継続性", 15, "区が分析を続けられるか"),
            ("費用の妥当性", 15, ""),
        ),
        kpis=(
            ("分析により示されたまちの課題の数", "0", "5", "件"),
            ("分析結果の共有会への参加者数", "0", "100", "人"),
            ("公開するダッシュボードの閲覧数", "0", "5,000", "回"),
        ),
        contact=("都市整備部 高島平まちづくり推進課 計画係", "takashimadaira-demo@example.jp"),
        questions=(
            DemoQuestion(STARTUP, QuestionVisibility.PUBLIC, -3,
                         "提供されるデータの形式（CSV、API等）と、取得できる期間を教えてください。",
                         "CSV形式で、地点別・1時間単位の集計値を過去1年分提供します。"
                         "API での提供は現時点では予定していません。", -2),
            DemoQuestion(RESIDENT, QuestionVisibility.PRIVATE, -2,
                         "Wi-Fiセンサーで自分のスマートフォンの情報が記録されているのではと心配です。",
                         "センサーは端末を識別する情報を暗号化したうえで集計しており、個人を特定できる情報は収集していません。"
                         "提案者に提供するのも、地点ごとの集計値のみです。", -1),
        ),
        sessions=(
            DemoSession("現地説明会（UDCTak）", 6, "14:00", "16:00", "アーバンデザインセンター高島平（UDCTak）", "", 30,
                        "説明の後、センサーの設置場所を実際に歩いてご案内します（約40分）。歩きやすい靴でお越しください。",
                        (COMPANY,)),
            DemoSession("オンライン説明会", 9, "18:30", "19:30", "", "https://meet.example.jp/takashimadaira-flow",
                        200, "現地説明会と同じ内容を、オンラインでご説明します。", (STARTUP,)),
        ),
    ),
    DemoChallenge(
        department="takashimadaira",
        co_owners=("transport",),
        category=Category.TRANSPORT_MOBILITY,
        area="高島平",
        # Decided 76 days ago; the labs demo starts the selected proposal's trial, which moves it to "trial".
        phase=Phase.DECIDED,
        schedule={Phase.PUBLISHED: -210, Phase.ACCEPTING: -190, Phase.VOTING: -140, Phase.REVIEW: -120,
                  Phase.DECIDED: -75, Phase.COMPLETED: 61},
        title="高島平で、駅から団地・商店街まで気軽に移動できる暮らしを実現したい",
        summary=(
            "高島平エリアで、居住地と地下鉄駅（都営三田線）や主要な施設を結ぶ、便利で安全な移動手段を実現したいと考えています。"
            "電動マイクロモビリティ等の実証を通じて、日常の移動の負担を軽くし、地域内外への回遊性を高めます。"
        ),
        background=(
            "高島平は約314ヘクタールの敷地に整然とした道路網と豊かな公共空間を持つ一方、住民の高齢化が進み、"
            "駅から離れた住棟や商店街への日常の移動が負担になっている方が増えています。"
            "区はこれまで、高島平エリアで電動マイクロモビリティ等の導入を試行してきました。"
        ),
        current_situation=(
            "- 団地内の移動は徒歩と自転車が中心で、坂や距離のために外出を控える方がいます。\n"
            "- 試行では一定の利用がありましたが、高齢の方の利用は限られていました。\n"
            "- 歩行者との安全な共存のため、走行ルールと走行空間の検討が必要です。"
        ),
        desired_outcome=(
            "- 高齢の方を含め、誰もが安心して使える移動手段が、駅・団地・商店街・公共施設を結んでいる。\n"
            "- 歩行者と共存できる走行ルールが、地域と一緒に決められている。\n"
            "- 実証の結果から、本格導入の費用と効果を区と事業者が判断できる。"
        ),
        constraints=(
            "- 道路交通法等の関係法令を遵守し、警察署・道路管理者との協議を行ってください。\n"
            "- 車両の保管場所・充電場所は、区と協議のうえ確保してください。\n"
            "- 事故に備え、適切な保険に加入してください。"
        ),
        eligibility="法人。モビリティサービスの運行実績があること。地域団体・大学との共同提案を歓迎します。",
        budget_cap_yen=8_000_000,
        support_facilities="高島平地区の実証フィールド（区有地の一部を車両の保管・充電場所として使用可能）。",
        support_data="試行時の利用データ（集計値）、高島平地区の3D都市モデル。",
        support_other="警察署・道路管理者との協議への同席、区報・掲示板での利用者募集。",
        criteria=(
            ("安全性", 30, "歩行者との共存、車両の安全性、事故時の対応"),
            ("高齢の方の使いやすさ", 25, ""),
            ("実現可能性・運行体制", 20, ""),
            ("事業の継続性", 15, "実証後に自立して運行できる見通し"),
            ("費用の妥当性", 10, ""),
        ),
        kpis=(
            ("月間の利用回数", "400", "2,000", "回"),
            ("利用者のうち65歳以上の割合", "8", "25", "%"),
            ("利用者アンケートで「外出が増えた」と答えた人の割合", "未計測", "40", "%"),
        ),
        contact=("都市整備部 高島平まちづくり推進課 交通担当", "takashimadaira-mobility-demo@example.jp"),
        questions=(
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -185,
                         "車両の種類（電動キックボード、電動アシスト自転車、小型電動車など）に指定はありますか。",
                         "指定はありません。高齢の方も安心して使えることを重視していますので、"
                         "車両の選定理由とあわせてご提案ください。", -183),
            DemoQuestion(STARTUP, QuestionVisibility.PRIVATE, -170,
                         "区有地を車両の保管場所として使う場合、使用料はかかりますか。",
                         "実証期間中は無償での使用を予定しています。場所と面積は採択後に協議します。", -168),
        ),
        sessions=(
            DemoSession("説明会（高島平地域センター）", -182, "18:30", "20:00", "板橋区立高島平地域センター 第1会議室", "",
                        40, "高島平での試行の結果をご報告し、課題の内容をご説明します。", (COMPANY, STARTUP)),
        ),
    ),
    DemoChallenge(
        department="env-policy",
        co_owners=("takashimadaira",),
        category=Category.URBAN_DEVELOPMENT,
        area="高島平",
        # Decided 221 days ago; the labs demo runs the selected proposal's trial to its published results.
        phase=Phase.DECIDED,
        schedule={Phase.PUBLISHED: -330, Phase.ACCEPTING: -310, Phase.VOTING: -262, Phase.REVIEW: -248,
                  Phase.DECIDED: -220},
        title="熱帯環境植物館で、歩きながら楽しめる展示案内を実現したい",
        summary=(
            "熱帯環境植物館の展示を、子どもから高齢の方、外国人の来館者まで、誰もが歩きながら楽しめる案内を実現したい"
            "と考えています。館内のデジタルスキャンなど、デジタル技術を活かした案内の方法を募集します。"
        ),
        background=(
            "熱帯環境植物館は、熱帯雨林を再現した大温室と水族展示のある区立の植物館で、高島平のにぎわいの拠点の一つです。"
            "区は、高島平の駅周辺の交流核・生活核の機能向上とブランドイメージの改善をめざし、ウォーカブルなまちづくりを"
            "進めています。\n\n"
            "スマートシティ推進方針では、館内をデジタルスキャンして作成した3DMAPの上にバーチャルセンサーを配置し、"
            "来館者が通ると音声が流れるデジタル音声ガイドの体験を、高島平での取組として紹介しています。"
        ),
        current_situation=(
            "- 展示の解説は、解説板と月2回のガイドツアーが中心です。\n"
            "- 解説板は文字が多く、子どもや外国人の来館者には読みにくいという声があります。\n"
            "- 大温室は高温多湿で、一般的な電子機器は長く置けません。"
        ),
        desired_outcome=(
            "- 来館者が、自分のペースで歩きながら展示の解説を楽しめる。\n"
            "- 子ども、高齢の方、外国人の来館者も同じように楽しめる。\n"
            "- 実証の結果から、植物館が案内の方法を続けるかどうかを判断できる。"
        ),
        constraints=(
            "- 開館中の実施です。来館者の観覧を妨げないでください。\n"
            "- 植物や水槽、展示物に機器を固定することはできません。\n"
            "- 来館者の位置などを扱う場合は、個人を特定できるデータを保存しないでください。"
        ),
        eligibility="法人（企業、大学・研究機関、NPO法人等）。複数の法人による共同提案も可能です。",
        budget_cap_yen=2_500_000,
        support_facilities="熱帯環境植物館（開館中の実証、控室の利用）。",
        support_data="館内の展示植物の一覧と解説文、来館者数（月別、過去3年度分）。",
        support_other="植物館の学芸員による解説内容の監修、区報での体験会の周知。",
        criteria=(
            ("誰もが楽しめること", 30, "子ども、高齢の方、障がいのある方、外国人の来館者への配慮"),
            ("展示への影響の小ささ", 20, "植物・展示空間と、ほかの来館者への影響"),
            ("実現可能性", 20, "高温多湿の館内での機器の扱いを含む"),
            ("継続のしやすさ", 15, "植物館が実証後も続けられるか"),
            ("費用の妥当性", 15, ""),
        ),
        kpis=(
            ("案内を体験した来館者数", "0", "1,500", "人"),
            ("体験者のうち「展示がよくわかった」と答えた方の割合", "未計測", "80", "%"),
        ),
        contact=("資源環境部 環境政策課 熱帯環境植物館担当", "shokubutsukan-demo@example.jp"),
        questions=(
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -300,
                         "館内でWi-FiやBluetoothの機器を使うことはできますか。",
                         "使えます。ただし、植物や展示物への固定はできませんので、設置場所は事前にご相談ください。", -298),
        ),
        sessions=(
            DemoSession("説明会（熱帯環境植物館）", -295, "10:00", "11:30", "熱帯環境植物館 2階 研修室", "", 30,
                        "館内をご案内しながら、課題の内容をご説明します。", (COMPANY,)),
        ),
    ),
    DemoChallenge(
        department="takashimadaira",
        co_owners=("industry",),
        category=Category.INDUSTRY_COMMERCE,
        area="高島平",
        phase=Phase.CLOSED,
        schedule={Phase.PUBLISHED: -240, Phase.ACCEPTING: -225, Phase.VOTING: -175, Phase.REVIEW: -160,
                  Phase.DECIDED: -120},
        title="ARで高島平のまちを楽しく巡り、商店街のにぎわいを実現したい",
        summary=(
            "高島平の3D都市モデルとAR（拡張現実）技術を活かし、観光スポットや商店を巡りながら楽しめる"
            "地域周遊型のまちづくりイベントを、商店街や地域と一緒に企画・実施したいと考えています。"
        ),
        background=(
            "区は高島平で、3D都市モデル上の観光スポットや商店にコンテンツを配置し、VPS（Visual Positioning System）で"
            "実際のまちに3DコンテンツをAR表示するイベントや、熱帯環境植物館でのデジタル音声ガイド体験を試行しました。"
            "駅周辺の交流核・生活核の機能向上とブランドイメージの改善をめざし、ウォーカブルなまちづくりを進めています。"
        ),
        current_situation=(
            "- 試行イベントには多くの方に参加いただきましたが、商店での購買など、商店街への効果は限定的でした。\n"
            "- イベントのたびにコンテンツを一から制作しており、継続的な実施の費用が課題です。"
        ),
        desired_outcome=(
            "- 参加者がまちを巡り、商店に立ち寄るきっかけが生まれている。\n"
            "- 商店街や地域団体が、自らコンテンツを更新してイベントを続けられる。"
        ),
        constraints=(
            "- 公道・公園での撮影やイベント実施は、管理者の許可が必要です。\n"
            "- 歩きながらの画面操作による事故を防ぐ工夫をしてください。"
        ),
        eligibility="法人。AR・XR分野の制作実績があること。区内の商店会との共同提案を歓迎します。",
        budget_cap_yen=2_500_000,
        support_facilities="高島平地区の公共空間（協議のうえ）、熱帯環境植物館。",
        support_data="高島平地区の3D都市モデル（LOD2）、試行イベントの参加者アンケート結果（集計値）。",
        support_other="商店会・UDCTakとの調整への協力、区報でのイベント周知。",
        criteria=(
            ("商店街への波及効果", 30, ""),
            ("地域による継続のしやすさ", 25, ""),
            ("安全への配慮", 20, ""),
            ("実現可能性", 15, ""),
            ("費用の妥当性", 10, ""),
        ),
        kpis=(
            ("イベント参加者数", "1,200", "3,000", "人"),
            ("参加者のうち商店を利用した人の割合", "15", "40", "%"),
        ),
        contact=("都市整備部 高島平まちづくり推進課 にぎわい担当", "takashimadaira-event-demo@example.jp"),
        questions=(
            DemoQuestion(COMPANY, QuestionVisibility.PUBLIC, -220,
                         "イベントの開催時期に指定はありますか。",
                         "秋の地域イベントにあわせた開催を想定していますが、提案に応じて協議します。", -218),
        ),
        sessions=(
            DemoSession("説明会", -218, "14:00", "15:00", "アーバンデザインセンター高島平（UDCTak）", "", 30,
                        "試行イベントの結果をご紹介します。", (COMPANY,)),
        ),
        closed_reason=(
            "2件のご提案をいただき審査しましたが、いずれも商店街への波及効果の見通しと、地域による継続の方法が"
            "評価基準を満たさなかったため、今回は採択を見送ります。いただいたご意見を踏まえ、"
            "商店会と内容を見直したうえで、改めて募集する予定です。"
        ),
    ),
]


def _day(today: date, offset: int, at: time = time(0, 0)) -> datetime:
    """A moment in Japan time ``offset`` days from ``today``, as UTC."""
    return datetime.combine(today + timedelta(days=offset), at, tzinfo=WARD_TIMEZONE).astimezone(UTC)


def _schedule(demo: DemoChallenge, today: date) -> dict[Phase, datetime]:
    """The planned phase dates; a challenge closed without selection is closed where the decision was planned."""
    return {phase: _day(today, offset) for phase, offset in demo.schedule.items()
            if phase in phases.SCHEDULABLE and not (demo.phase is Phase.CLOSED and phase is Phase.DECIDED)}


def _published_at(demo: DemoChallenge, today: date) -> datetime:
    return _day(today, demo.schedule[Phase.PUBLISHED], time(10, 0))


def people(demo: DemoChallenge) -> set[str]:
    """Every account the challenge needs: its department's member, who asked, who registered, and the
    people of its story."""
    needed = {STAFF_OF[demo.department], *(item.asker for item in demo.questions)}
    for item in demo.sessions:
        needed |= set(item.registrants)
    story = demo_story.STORIES.get(demo.title)
    return needed | (demo_story.people(story) if story is not None else set())


def _form(demo: DemoChallenge, departments: dict[str, Department], today: date) -> ChallengeForm:
    """The staff editor's form, filled in as the department filled it in."""
    return ChallengeForm(
        title=demo.title, summary=demo.summary, category=demo.category, area=demo.area,
        contact_name=demo.contact[0], contact_email=demo.contact[1], contact_phone=DEMO_PHONE,
        background=demo.background, current_situation=demo.current_situation, desired_outcome=demo.desired_outcome,
        constraints=demo.constraints, eligibility=demo.eligibility, budget_cap_yen=demo.budget_cap_yen,
        support_facilities=demo.support_facilities, support_data=demo.support_data,
        support_other=demo.support_other,
        co_owners=[departments[code].id for code in demo.co_owners if code in departments],
        criteria=[{"name": name, "weight": weight, "description": description}
                  for name, weight, description in demo.criteria],
        kpis=[{"indicator": indicator, "baseline": baseline, "target": target, "unit": unit}
              for indicator, baseline, target, unit in demo.kpis],
        schedule=_schedule(demo, today))


def _draft(playback: Playback, demo: DemoChallenge, departments: dict[str, Department], today: date) -> int:
    """The lead department's member writes the challenge as a draft, with its schedule and voting rules,
    two weeks before publishing it; returns its id."""
    session = playback.session
    staff = playback.actor(STAFF_OF[demo.department])
    lead_id = departments[demo.department].id
    assert staff is not None and lead_id is not None
    form = _form(demo, departments, today)

    def write() -> int:
        challenge = challenges.create_draft(session, staff, lead_id, form)
        assert challenge.id is not None
        votes.update_settings(session, staff, challenge.id, votes.VotingForm(vote_limit=demo.vote_limit))
        return challenge.id

    return playback.at(_published_at(demo, today) - DRAFTED_BEFORE, write)


class Added(NamedTuple):
    questions: int = 0
    sessions: int = 0
    registrations: int = 0


def _steps(playback: Playback, demo: DemoChallenge, challenge_id: int, today: date,
           *, story: bool) -> tuple[list[Step], Added]:
    """What happened on the challenge itself, as steps: published by its department, moved on by its
    schedule (the beat job's service) up to today's phase (a story's challenge up to accepting proposals:
    the story moves it on from there), its questions asked and answered, its briefing sessions added by the
    department (one edited and cancelled) and registered for."""
    session, settings, act = playback.session, playback.settings, playback.actor
    staff = STAFF_OF[demo.department]
    published_at = _published_at(demo, today)
    now = utcnow()
    steps = [Step(published_at, lambda: challenges.publish(session, act(staff), challenge_id), "publish")]
    last = Phase.ACCEPTING if story else demo.phase
    for phase, when in _schedule(demo, today).items():
        if when <= now and phases.index(phase) <= phases.index(last):
            steps.append(Step(when, lambda: lifecycle.advance_due(session), f"schedule moves to {phase.value}"))

    ids: dict[str, int] = {}  # questions and sessions by their place in the demo, filled in as the steps run
    for number, question in enumerate(demo.questions):
        def ask(item: DemoQuestion = question, key: str = f"q{number}") -> None:
            asker = act(item.asker)
            assert asker is not None
            on_behalf = qa.asking_organisations(session, asker)  # the first verified one, as the form offers
            form = qa.AskForm(body=item.body, visibility=item.visibility,
                              organisation_id=on_behalf[0].id if on_behalf else None)
            ids[key] = qa.ask(session, asker, challenge_id, form).id  # type: ignore[assignment]

        def answer(item: DemoQuestion = question, key: str = f"q{number}") -> None:
            qa.answer(session, settings, act(staff), ids[key], qa.AnswerForm(answer=item.answer))  # type: ignore[arg-type]

        steps.append(Step(_day(today, question.asked_day, time(9, 30)), ask, f"ask q{number}"))
        if question.answer:
            steps.append(Step(_day(today, question.answered_day, time(16, 0)), answer, f"answer q{number}"))

    registrations = 0
    registered_at = min(now, published_at + timedelta(days=1))
    for number, briefing in enumerate(demo.sessions):
        key = f"s{number}"
        cancelling = briefing.cancelled_day is not None
        # A session cancelled later was announced with its plan; its notes say why it was cancelled.
        form = _session_form(briefing, today, briefing.planned_notes if cancelling else briefing.notes)

        def add(form: briefings.SessionForm = form, key: str = key) -> None:
            ids[key] = briefings.create_session(session, act(staff), challenge_id, form).id  # type: ignore[arg-type,assignment]

        steps.append(Step(published_at, add, f"add {key}"))
        for email in briefing.registrants:
            steps.append(Step(registered_at, lambda email=email, key=key: briefings.register(  # type: ignore[misc]
                session, act(email), challenge_id, ids[key]), f"{email} registers for {key}"))
            registrations += 1
        if briefing.cancelled_day is not None:
            def cancel(item: DemoSession = briefing, key: str = key) -> None:
                briefings.update_session(session, settings, act(staff), challenge_id, ids[key],  # type: ignore[arg-type]
                                         _session_form(item, today, item.notes))
                briefings.cancel_session(session, settings, act(staff), challenge_id, ids[key],  # type: ignore[arg-type]
                                         briefings.CancelForm(reason=item.notes))

            steps.append(Step(_day(today, briefing.cancelled_day, time(12, 0)), cancel, f"cancel {key}"))
    return steps, Added(len(demo.questions), len(demo.sessions), registrations)


def _session_form(item: DemoSession, today: date, notes: str) -> briefings.SessionForm:
    """The staff's session form, as they filled it in."""
    return briefings.SessionForm(title=item.title, date=(today + timedelta(days=item.day)).isoformat(),
                                 start_time=item.start, end_time=item.end, place=item.place,
                                 online_url=item.online_url, capacity=str(item.capacity), notes=notes)


def load(session: Session, settings: Settings) -> str:
    departments = {d.code: d for d in session.exec(select(Department)).all()}
    existing = set(session.exec(select(Challenge.title).where(col(Challenge.title).in_([c.title for c in CHALLENGES]))).all())
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    playback = Playback(session, settings, handlers={events.TASK: events.run, comment_events.TASK: comment_events.run})
    added = skipped = unplayable = 0
    counts = Added()
    played = demo_story.Counts()
    for demo in CHALLENGES:
        if demo.title in existing:
            continue
        if demo.department not in departments:
            skipped += 1
            continue
        if not playback.has(*people(demo)):
            unplayable += 1  # the challenge and what happened on it need the core demo's people
            continue
        story = demo_story.STORIES.get(demo.title)
        challenge_id = _draft(playback, demo, departments, today)
        steps, counts_added = _steps(playback, demo, challenge_id, today, story=story is not None)
        if story is not None:
            story_steps, counts_played = demo_story.steps(playback, challenge_id, story, _schedule(demo, today),
                                                          today, closed_reason=demo.closed_reason)
            steps += story_steps
            played = demo_story.Counts(*(a + b for a, b in zip(played, counts_played, strict=True)))
        playback.play(steps)
        added += 1
        counts = Added(*(a + b for a, b in zip(counts, counts_added, strict=True)))
    summary = f"{added} challenges added, {len(existing)} already there"
    if skipped:
        summary += f", {skipped} skipped (their department is missing: load the core demo first)"
    if unplayable:
        summary += f", {unplayable} left out (they need the core demo's people: load it first)"
    from cocreate.surveys import demo as surveys_demo  # after the challenges: a survey belongs to one
    from proposals.voices import demo as voices_demo  # after the challenges: a voice links to one

    return (f"{summary}; {counts.questions} questions, {counts.sessions} briefing sessions, "
            f"{counts.registrations} registrations, "
            f"{played.proposals} proposals, {played.comments} comments, {played.votes} votes, "
            f"{played.reviews} reviews and {played.decisions} decisions added with them; "
            f"{voices_demo.load(session, settings)}; {surveys_demo.load(session, settings)}")
