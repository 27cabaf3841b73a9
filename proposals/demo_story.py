"""What happened on the demo challenges that have gone past accepting proposals, played through the services.

Five challenges of :mod:`proposals.demo` carry a story (:data:`STORIES`, keyed by title), played with the
challenge's own steps (written, published, moved into accepting proposals, its Q&A and briefing sessions):
on the days the story says, organisations
write and submit proposals (one of them as a consortium whose co-author confirms), residents comment and
vote while the phase allows it, the owning department answers officially and proposers reply, the
schedule moves the challenge into voting and review (the beat job's own service), the department assigns
reviewers who declare conflicts and score, and the department saves and publishes its decisions with
their rationales. Trials then grow out of the selected proposals in :mod:`labs.demo`.

- the bus-stop challenge is voting now: ten proposals from seven organisations, comments with replies
  and official answers, votes of six residents;
- the energy challenge is in review: two reviewers assigned, some reviews submitted, one conflict declared;
- the micro-mobility and botanical-garden challenges are decided: decisions published with rationales
  (the labs demo starts their trials);
- the AR town-walk challenge was closed without selection after its two proposals were reviewed.

People are the core demo's accounts (by e-mail), organisations theirs (the first organisation of the
proposing member). Every text is written from the ward's policy documents (shared/seeds 000: chapter 4
and the 高島平 section).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlmodel import Session, select

from cocreate.accounts.models import OrganisationMember
from cocreate.comments import services as comments
from cocreate.demo_playback import Playback, Step, ward_time
from proposals import review, submissions
from proposals.challenges import lifecycle
from proposals.models import DecisionOutcome, Phase
from proposals.votes import services as votes

# The core demo's accounts (cocreate/demo.py).
STAFF_ENV = "demo-staff@example.jp"
STAFF_TRANSPORT = "demo-staff-transport@example.jp"
STAFF_TAKASHIMADAIRA = "demo-staff-takashimadaira@example.jp"
REVIEWER = "demo-reviewer@example.jp"
REVIEWER2 = "demo-reviewer2@example.jp"
COMPANY = "demo-company@example.jp"
SIGNAGE = "demo-signage@example.jp"
UNIVERSITY = "demo-university@example.jp"
NPO = "demo-npo@example.jp"
ENERGY = "demo-energy@example.jp"
AUDIO = "demo-audio@example.jp"
BUS = "demo-bus@example.jp"
R1 = "demo-resident@example.jp"  # 板橋 花子
R2 = "demo-resident2@example.jp"  # 高島 一郎, lives in 高島平
R3 = "demo-resident3@example.jp"  # 志村 さくら, a student
R4 = "demo-resident4@example.jp"  # 成増 健太, a parent
R5 = "demo-resident5@example.jp"  # 大山 美咲
R6 = "demo-resident6@example.jp"  # グエン・ミン, from Vietnam
RESIDENTS = (R1, R2, R3, R4, R5, R6)

BUS_STOPS = "バス停を、運行情報と地域の情報が届く拠点にすることを実現したい"
ENERGY_CHALLENGE = "清掃工場の余熱や太陽光を活かし、災害に強いエネルギーの地産地消を実現したい"
MOBILITY = "高島平で、駅から団地・商店街まで気軽に移動できる暮らしを実現したい"
GARDEN = "熱帯環境植物館で、歩きながら楽しめる展示案内を実現したい"
AR_WALK = "ARで高島平のまちを楽しく巡り、商店街のにぎわいを実現したい"


class DemoProposal(NamedTuple):
    key: str
    author: str  # the submitting member; the proposal is led by their organisation
    day: int  # submitted on this day (from today); the draft is written two days before
    title: str
    summary: str
    description: str
    team: str
    cost_estimate_yen: int
    schedule: str
    test_field_needs: str
    confidential: str
    kpis: tuple[tuple[str, str, str, str], ...]  # indicator, baseline, target, unit
    coauthors: tuple[str, ...] = ()  # members of the co-author organisations (each confirms)
    voters: tuple[str, ...] = ()
    decision: tuple[DecisionOutcome, str] | None = None  # outcome and public rationale


class DemoComment(NamedTuple):
    key: str
    author: str
    day: int
    clock: str
    body: str
    on: str | None = None  # a proposal's key; None: the challenge itself
    reply_to: str | None = None  # the key of the comment answered


class DemoReview(NamedTuple):
    reviewer: str
    proposal: str
    day: int
    scores: tuple[int, ...] = ()  # one per criterion, in order; empty with a conflict
    comment: str = ""
    conflict: str = ""  # the declared conflict of interest; the reviewer then scores nothing
    submitted: bool = True  # False: a draft, still being written


class Story(NamedTuple):
    staff: str  # the owning department's member who answers, assigns and decides
    proposals: tuple[DemoProposal, ...]
    comments: tuple[DemoComment, ...] = ()
    reviewers: tuple[str, ...] = ()
    reviews: tuple[DemoReview, ...] = ()
    decided_day: int | None = None  # decisions saved and published on this day
    closed_day: int | None = None  # or closed without selection that day (the challenge's closed reason)


def _kpis(*rows: tuple[str, str, str, str]) -> tuple[tuple[str, str, str, str], ...]:
    return rows


# --- バス停（投票中） ---------------------------------------------------------------------------------

BUS_STORY = Story(
    staff=STAFF_TRANSPORT,
    proposals=(
        DemoProposal(
            "v1", SIGNAGE, -40,
            "大きな文字と多言語で、運行情報と地域のお知らせを一画面に",
            "既存のバス停サイネージの表示を、高齢の方や外国人の方にも読みやすく作り直します。バスの接近情報は画面上段に"
            "大きく固定し、下段に地域のイベントや区からのお知らせを順に表示します。日本語・やさしい日本語・英語・中国語・"
            "韓国語を自動で切り替え、区のオープンデータのイベント情報を取り込んで、職員の手作業を増やさずに更新します。",
            "## 提案の概要\n\n"
            "区内のバス停にはすでにデジタルサイネージがありますが、表示は運行情報が中心で、文字も小さめです。"
            "本提案では、表示の内容と見せ方を作り直し、バスを待つ数分間に地域の情報が自然に届くようにします。\n\n"
            "## 表示の工夫\n\n"
            "- バスの接近情報は、画面の上段に常に大きく表示します（文字の高さ6cm以上、白地に黒の高コントラスト）。\n"
            "- 下段では、地域のイベント、区からのお知らせ、防災情報を15秒ごとに切り替えます。\n"
            "- 日本語・やさしい日本語・英語・中国語・韓国語を順に表示します。\n"
            "- 色だけに頼らず、記号と文字で情報を区別します（色覚の多様性への配慮）。\n\n"
            "## 運用\n\n"
            "区のオープンデータ（イベント情報）を自動で取り込み、区の担当者は管理画面から文章を追加するだけで"
            "表示できます。実証の前に、区民の皆さんと表示案を確かめるワークショップを1回開きます。",
            "板橋サイネージ株式会社（デモ）：企画・デザイン2名、システム開発2名、保守1名",
            4_800_000,
            "1か月目：表示デザインの検討と区民ワークショップ\n2〜3か月目：システムの改修と試験表示\n"
            "4〜9か月目：実証運用と効果測定（利用者アンケートを2回）",
            "既存のサイネージがあるバス停2〜3か所（交通事業者と協議のうえ）。電源は既存のものを使います。",
            "見積りの内訳：表示システム改修 2,100,000円、デザイン・ワークショップ 900,000円、運用・保守（6か月）"
            "1,200,000円、効果測定 600,000円。既存機器の改修で足りない場合の追加費用は別途協議。",
            _kpis(("利用者アンケートで「見やすい」と答えた人の割合", "未計測", "80", "%"),
                  ("表示する地域情報の件数", "0", "40", "件/月")),
            voters=(R2, R5, R6),
        ),
        DemoProposal(
            "v2", SIGNAGE, -30,
            "区の防災情報を5分以内にバス停へ ― 災害時に切り替わる防災モード",
            "平常時は運行情報と地域情報を表示するサイネージを、区が災害情報を発信したときには自動で「防災モード」に"
            "切り替えます。避難所の開設状況、バスの運行状況、近くの避難場所への道順を表示し、区の情報発信から5分以内に"
            "バス停へ届けます。サイネージ事業者、大学、バス事業者の共同提案です。",
            "## 提案の概要\n\n"
            "区民アンケートでは、スマートシティで優先すべき分野として「安全・防犯」「防災」が上位に挙がりました。"
            "本提案は、毎日多くの人が立ち寄るバス停を、災害時の情報拠点にします。\n\n"
            "## 仕組み\n\n"
            "1. 区が防災情報を発信すると、配信サーバーが内容を受け取ります。\n"
            "2. 対象地域のバス停のサイネージが、自動で防災モードに切り替わります。\n"
            "3. 避難所の開設状況、バスの運行・運休、最寄りの避難場所への道順を表示します。\n\n"
            "## 役割分担\n\n"
            "- 板橋サイネージ株式会社（デモ）：表示システムと配信サーバー\n"
            "- 東京北部大学 都市工学研究室（デモ）：避難行動の分析と、表示内容の検証\n"
            "- いたばし北バス株式会社（デモ）：運行情報の提供と、乗務員への周知\n\n"
            "## 停電への備え\n\n"
            "各バス停に小型の蓄電池を置き、停電時も最低3時間、防災モードの表示を続けます。",
            "3者の共同提案（代表：板橋サイネージ株式会社（デモ））。防災情報システムの開発経験のある技術者を含む8名。",
            5_900_000,
            "1〜2か月目：区の防災情報との連携仕様の協議\n3〜4か月目：システム開発と試験配信\n"
            "5か月目：区の防災訓練にあわせた切替訓練\n6〜9か月目：実証運用",
            "実証候補のバス停2〜3か所。区の防災情報の配信データ（形式は協議）。",
            "各社の分担額：サイネージ 3,900,000円、大学 1,000,000円、バス事業者 1,000,000円。"
            "大学の分析には、過去の避難訓練の参加者データ（集計値）を使います。",
            _kpis(("区の防災情報をバス停に表示するまでの時間", "未計測", "5", "分以内"),
                  ("切替訓練で防災モードに切り替わったバス停の割合", "0", "100", "%")),
            coauthors=(UNIVERSITY, BUS),
            voters=(R1, R2, R3, R4, R5),
        ),
        DemoProposal(
            "v3", AUDIO, -35,
            "目の不自由な方にも届く、音声で案内するバス停",
            "バス停の柱に押しボタンと小型スピーカーを付け、押すと次に来るバスの系統・行き先・到着までの時間を音声で"
            "お知らせします。スマートフォンをお持ちの方には、近づくと通知と音声で案内するアプリも用意します。"
            "音量は周囲の騒音に合わせて自動で調整し、夜間は控えめにします。",
            "## 提案の概要\n\n"
            "画面の表示だけでは、目の不自由な方や文字を読むのが難しい方に情報が届きません。"
            "本提案は、音声でバスの情報を届けるバス停をつくります。\n\n"
            "## 2つの方法\n\n"
            "- **押しボタン式**：柱の押しボタン（点字の案内つき）を押すと、次のバスを音声でお知らせします。"
            "スマートフォンは要りません。\n"
            "- **アプリ式**：スマートフォンのアプリが、バス停に近づくと自動で案内します。画面読み上げ機能に対応します。\n\n"
            "## 周辺への配慮\n\n"
            "音量は周囲の騒音に合わせて自動で調整し、22時から翌朝6時までは押しボタンを押したときだけ、小さな音で案内します。",
            "株式会社みどりの音響デザイン（デモ）：音響設計1名、アプリ開発2名。視覚障がい者団体の方に監修をお願いする予定です。",
            3_200_000,
            "1〜2か月目：当事者の方との使い方の検討\n3〜4か月目：機器の製作と設置\n5〜9か月目：実証運用",
            "押しボタンを取り付けられるバス停2か所（柱への取付けは道路管理者と協議）。100Vの電源。",
            "機器1台あたりの製作費は約180,000円。量産時は約60,000円を見込みます。",
            _kpis(("音声案内の利用回数", "0", "600", "回/月"),
                  ("視覚に障がいのある利用者のうち「一人でバスに乗りやすくなった」と答えた方の割合", "未計測", "70",
                   "%")),
            voters=(R1, R2, R4, R6),
        ),
        DemoProposal(
            "v4", NPO, -25,
            "町会・商店街のお知らせを、地域の人がバス停に届ける仕組み",
            "町会・自治会、商店街、子育てサークルなどの地域団体が、スマートフォンやパソコンから簡単にお知らせを投稿し、"
            "区の確認を経て近くのバス停のサイネージに表示できる仕組みをつくります。回覧板や掲示板だけでは届きにくい"
            "若い世代や新しく越してきた方にも、地域の活動を知ってもらうきっかけにします。",
            "## 提案の概要\n\n"
            "町会・自治会では担い手の高齢化が進み、活動を知らせる手段も回覧板と掲示板が中心です。"
            "本提案では、地域団体が自らバス停に情報を届けられるようにします。\n\n"
            "## 流れ\n\n"
            "1. 地域団体が、投稿画面から文章と写真を送ります（入力の手伝いは当NPOが行います）。\n"
            "2. 区の担当者が内容を確認し、表示する期間とバス停を決めます。\n"
            "3. 近くのバス停のサイネージに表示されます。\n\n"
            "## 広がり\n\n"
            "投稿のしかたを教える講習会を、地域センターで3回開きます。",
            "NPO法人 いたばし地域ネット（デモ）：事務局3名と、地域の協力団体（町会・商店会など10団体を予定）。",
            1_800_000,
            "1〜2か月目：協力団体との打合せと講習会\n3〜8か月目：投稿と表示の運用\n9か月目：振り返りの会",
            "協力団体の近くのバス停2〜3か所。サイネージの表示枠の一部（下段の1枠）。",
            "講習会の会場は地域センターを想定。投稿画面は既存のサービスを使い、開発費はかけません。",
            _kpis(("地域団体からの投稿件数", "0", "30", "件/月"), ("投稿した団体の数", "0", "15", "団体")),
            voters=(R1, R3, R5),
        ),
        DemoProposal(
            "v5", ENERGY, -28,
            "太陽光と蓄電池で、停電しても消えないバス停",
            "バス停の屋根に薄型の太陽光パネルを、ベンチの下に蓄電池を設け、サイネージと照明の電力をまかないます。"
            "停電時も最低24時間、表示と照明を続け、スマートフォンの充電もできるようにします。平常時の電力は"
            "太陽光でまかない、CO2の削減にもつなげます。",
            "## 提案の概要\n\n"
            "災害時に停電すると、バス停のサイネージは消えてしまいます。本提案は、バス停に小さな発電所を設け、"
            "停電しても情報と明かりを届け続けます。\n\n"
            "## 設備\n\n"
            "- 屋根の上に薄型の太陽光パネル（約400W）\n"
            "- ベンチの下に蓄電池（約5kWh）\n"
            "- 停電時に使えるスマートフォン充電口（USB 4口）\n\n"
            "## 平常時の効果\n\n"
            "サイネージと照明の電力の約7割を太陽光でまかなう見込みです。"
            "発電量・蓄電量はインターネットで公開し、環境学習にも使えるようにします。",
            "株式会社エコポリスエナジー（デモ）：電気設備の設計・施工3名、遠隔監視1名。",
            5_500_000,
            "1〜2か月目：設置場所の調査と設計\n3〜4か月目：設置工事\n5〜12か月目：運用と発電量の計測",
            "屋根のあるバス停2か所（屋根の強度を確認します）。",
            "蓄電池は区の避難所向けの機種と同じものを使い、保守を共通化します。",
            _kpis(("停電時に表示を続けられる時間", "0", "24", "時間"),
                  ("サイネージと照明の電力のうち太陽光でまかなう割合", "0", "70", "%")),
            voters=(R2, R4, R6),
        ),
        DemoProposal(
            "v6", UNIVERSITY, -20,
            "バス停を使う人の声を集めて、表示を改善し続ける",
            "バス停のサイネージにQRコードと押しボタンを設け、「役に立った」「わかりにくい」の声をその場で集めます。"
            "集まった声とバスの利用データを研究室が分析し、表示内容を毎月見直します。どの情報が役立つかを確かめ、"
            "区がほかのバス停に広げるときの判断材料を残します。",
            "## 提案の概要\n\n"
            "情報を表示するだけでは、本当に役立っているかわかりません。本提案は、利用者の声で表示を改善し続ける仕組みです。\n\n"
            "## 方法\n\n"
            "- 押しボタン（「役に立った」「わかりにくい」）と、QRコードからの短いアンケート\n"
            "- 表示内容ごとの反応を集計し、毎月の見直し会議で表示を改善\n"
            "- 実証の最後に、区がほかのバス停に広げる際の費用と効果をまとめた報告書を公開\n\n"
            "個人を特定できる情報は集めません。",
            "東京北部大学 都市工学研究室（デモ）：教員1名、大学院生3名。",
            1_500_000,
            "1か月目：評価方法の設計\n2〜9か月目：声の収集と毎月の見直し\n10か月目：報告書の作成と公開",
            "ほかの提案で表示を行うバス停（組み合わせての実施を想定しています）。",
            "研究倫理審査は承認済み（承認番号は審査員にのみお示しします）。",
            _kpis(("集まった利用者の声", "0", "1,500", "件"), ("表示の見直し回数", "0", "8", "回")),
            voters=(R3,),
        ),
        DemoProposal(
            "v7", COMPANY, -18,
            "バスを降りた後の移動もわかる ― シェアモビリティの空き状況表示",
            "バス停のサイネージに、近くのシェアサイクル・電動モビリティのポートの空き状況と、そこまでの道順を表示します。"
            "バスを降りた後の「最後の一歩」の移動手段がわかることで、駅やバス停から離れた場所への外出を後押しします。",
            "## 提案の概要\n\n"
            "バスを降りた後、目的地まで歩くのが負担な方もいます。本提案は、バス停で次の移動手段を案内します。\n\n"
            "## 表示する内容\n\n"
            "- 近くのポートにある電動アシスト自転車・小型電動モビリティの台数\n"
            "- ポートまでの道順と、歩いてかかる時間\n"
            "- 高島平での電動マイクロモビリティ実証の案内\n\n"
            "表示のデータは、当社のシェアリングサービスの公開データ（GBFS形式）から取り込みます。",
            "株式会社いたばしモビリティ（デモ）：サービス企画1名、データ連携1名。",
            900_000,
            "1か月目：データ連携の開発\n2〜7か月目：表示と利用状況の計測",
            "高島平地区のバス停1〜2か所（ほかの提案のサイネージへの表示を想定しています）。",
            "データ連携の開発は既存の仕組みを使うため、費用の大半は運用費です。",
            _kpis(("バス停からのシェアモビリティの利用回数", "0", "200", "回/月"),),
            voters=(R3, R5),
        ),
        DemoProposal(
            "v8", BUS, -33,
            "次のバスの混み具合と車いすスペースの空きをお知らせ",
            "車内のセンサーで混雑の度合いと車いす・ベビーカー用スペースの空きを測り、バス停のサイネージと区のウェブサイトに"
            "表示します。混雑を避けて次のバスを選べるようにし、車いすやベビーカーの方が安心して乗れるようにします。",
            "## 提案の概要\n\n"
            "バスが来てから「混んでいて乗れない」とわかるのは、車いすやベビーカーの方にとって大きな負担です。\n\n"
            "## 仕組み\n\n"
            "- 車内のカメラ（映像は車内で数値に変換し、保存しません）で混雑度を3段階で測ります。\n"
            "- 車いす・ベビーカー用スペースの空きを、床のセンサーで確かめます。\n"
            "- バス停のサイネージに「空いています」「やや混んでいます」「混んでいます」と表示します。\n\n"
            "対象は、実証するバス停を通る2系統（車両12台）です。",
            "いたばし北バス株式会社（デモ）：運行管理2名、車両整備1名、システム会社に一部委託。",
            5_200_000,
            "1〜3か月目：車両へのセンサー設置\n4〜9か月目：表示と効果の確認",
            "実証候補のバス停2〜3か所と、そこを通る系統の車両。",
            "車両1台あたりのセンサー費用は約250,000円。国の補助金の活用も検討しています。",
            _kpis(("混雑表示を見て次のバスを選んだ人の割合", "未計測", "20", "%"),
                  ("車いす・ベビーカーの方の乗車回数", "320", "400", "回/月")),
            voters=(R1, R4, R6),
        ),
        DemoProposal(
            "v9", ENERGY, -15,
            "夜もまぶしくない電子ペーパー表示で、住宅地のバス停にも",
            "紙のように見える電子ペーパーの表示板を、電源のない住宅地のバス停にも設置します。光らないため夜もまぶしくなく、"
            "小さな太陽光パネルだけで動きます。運行情報と地域のお知らせを、1分ごとに更新します。",
            "## 提案の概要\n\n"
            "サイネージを置けるのは電源のあるバス停に限られ、住宅地のバス停では夜の明るさも気になります。\n\n"
            "## 特長\n\n"
            "- 電子ペーパーは光らず、表示を変えるときだけ電力を使います。\n"
            "- A3程度の小型の太陽光パネルと電池で動き、電気工事が要りません。\n"
            "- 夜間は小さな足元灯だけを点けます。\n\n"
            "大きなサイネージとの組み合わせで、区内のより多くのバス停に情報を届けられます。",
            "株式会社エコポリスエナジー（デモ）：設計1名、施工2名。",
            2_400_000,
            "1〜2か月目：機器の調達と設置\n3〜8か月目：実証運用",
            "電源のない住宅地のバス停3か所。",
            "電子ペーパー表示板は海外製の既製品を使います。1台あたり約350,000円。",
            _kpis(("表示板を設置したバス停の数", "0", "3", "か所"),
                  ("近隣住民アンケートで「まぶしさが気にならない」と答えた人の割合", "未計測", "90", "%")),
            voters=(R2,),
        ),
        DemoProposal(
            "v10", BUS, -13,
            "ダイヤ改正の日に、全バス停の時刻表を一斉にデジタルで更新",
            "ダイヤ改正のたびに職員が一つずつ張り替えている紙の時刻表を、電子ペーパーの時刻表に置き換えます。"
            "改正の日の始発前に一斉に更新し、臨時ダイヤや運休のお知らせもすぐに表示できるようにします。",
            "## 提案の概要\n\n"
            "紙の時刻表の張替えには、改正のたびに多くの手間がかかり、張替えの前後には古い時刻表が残ることもあります。\n\n"
            "## 効果\n\n"
            "- ダイヤ改正の日の始発前に、全ての対象バス停の時刻表が新しくなります。\n"
            "- 大雪などで運休するときは、運休のお知らせをすぐに表示できます。\n"
            "- 張替えの作業がなくなり、その分を安全の取組に回せます。",
            "いたばし北バス株式会社（デモ）：運行管理2名。",
            2_000_000,
            "1〜2か月目：表示板の設置\n3〜8か月目：運用（ダイヤ改正1回を含む）",
            "実証候補の路線のバス停5か所。",
            "表示板は提案v9と同じ電子ペーパーの機種を想定しています。",
            _kpis(("時刻表の張替えにかかる作業時間", "40", "0", "時間/回"),),
            voters=(R6,),
        ),
    ),
    comments=(
        DemoComment("c1", R2, -10, "08:40",
                    "毎朝このバス停を使っています。待っている間に地域のお知らせが見られるのは良いと思います。"
                    "ただ、情報が多すぎるとバスの時刻が見にくくなるので、運行情報はいつも大きく出してほしいです。"),
        DemoComment("c1a", STAFF_TRANSPORT, -9, "11:15",
                    "ご意見ありがとうございます。この課題の評価基準では「利用者にとってのわかりやすさ」を最も重く"
                    "（30点）しており、運行情報の見やすさはその中心です。投票期間の後の審査でも、いただいたご意見を"
                    "参考にします。", reply_to="c1"),
        DemoComment("c2", R1, -11, "20:05",
                    "母が目が不自由なので、音声での案内はとても助かります。スマートフォンを持っていない人でも使えますか？",
                    on="v3"),
        DemoComment("c2a", AUDIO, -10, "09:30",
                    "ご質問ありがとうございます。柱に押しボタンを付け、押すと次のバスを音声でお知らせする方式も"
                    "あわせて試しますので、スマートフォンがなくてもお使いいただけます。", on="v3", reply_to="c2"),
        DemoComment("c2b", R1, -10, "21:10", "安心しました。実証が始まったら母と試してみます。", on="v3", reply_to="c2"),
        DemoComment("c3", R4, -8, "12:20",
                    "災害のときにバス停で避難所の情報がわかるのは心強いです。停電したときはどうなりますか？", on="v2"),
        DemoComment("c3a", SIGNAGE, -7, "10:00",
                    "提案者です。各バス停に小型の蓄電池を置き、停電時も最低3時間は防災モードの表示を続けます。",
                    on="v2", reply_to="c3"),
        DemoComment("c3b", STAFF_TRANSPORT, -7, "16:40",
                    "区からの補足です。停電時の表示の続け方は、太陽光と蓄電池を使う別の提案でも扱われています。"
                    "審査では、提案どうしを組み合わせて実施することも含めて検討します。", on="v2", reply_to="c3"),
        DemoComment("c4", STAFF_TRANSPORT, -6, "10:30",
                    "【交通政策課より】この提案の防災モードは、区の防災情報の配信と連携することが前提になります。"
                    "連携の方式については、採択された場合に防災危機管理課を交えて協議します。", on="v2"),
        DemoComment("c5", R3, -5, "22:15",
                    "夜、住宅の近くのバス停が明るすぎて眠れないという話を聞きます。明るさは調整できますか？", on="v5"),
        DemoComment("c5a", ENERGY, -4, "09:10",
                    "周囲の明るさに合わせて自動で調整し、22時以降は明るさを半分以下にします。"
                    "住宅地向けには、光らない電子ペーパーの提案（v9）もあわせてご覧ください。", on="v5", reply_to="c5"),
        DemoComment("c6", R5, -4, "13:45", "町会の回覧板はなかなか回ってこないので、バス停で見られると便利です。", on="v4"),
        DemoComment("c7", R6, -3, "19:30",
                    "高島平に住んでいます。やさしい日本語と英語の表示があると、外国人の住民にとても助かります。"
                    "Easy Japanese and English would help many of us.", on="v1"),
        DemoComment("c7a", SIGNAGE, -2, "10:20",
                    "ありがとうございます。表示する言語は、区内にお住まいの外国人の方に多い言語を参考に決め、"
                    "やさしい日本語も必ず加えます。", on="v1", reply_to="c7"),
        DemoComment("c8", R2, -2, "07:55",
                    "車いすスペースの空きがわかると、次のバスを待つかどうか決められて助かります。", on="v8"),
        DemoComment("c8a", BUS, -1, "11:05",
                    "ありがとうございます。車内のセンサーで空きを確かめ、バス停と区のウェブサイトの両方に表示します。",
                    on="v8", reply_to="c8"),
        DemoComment("c9", R3, -1, "18:20",
                    "バスを降りた後の移動手段がわかると、団地の奥まで行くのが楽になりそうです。", on="v7"),
        DemoComment("c10", R4, -20, "21:00",
                    "子どもと一緒にバスを待つことが多いので、地域のイベント情報が見られるとうれしいです。"),
    ),
)

# --- エネルギー（審査中） ---------------------------------------------------------------------------

ENERGY_STORY = Story(
    staff=STAFF_ENV,
    proposals=(
        DemoProposal(
            "e1", ENERGY, -70,
            "区立施設をつなぐエネルギーマネジメントと、避難所の蓄電池活用",
            "地域センターと小・中学校の3施設に計測器と蓄電池を設け、太陽光の発電量と使用量をクラウドで一元的に管理します。"
            "休日に余る電力を蓄電池にため、平日のピークに使うことで購入電力を減らし、停電時には避難所となる学校へ"
            "72時間、照明・通信・暖房に必要な電力を供給できるようにします。",
            "## 提案の概要\n\n"
            "区立施設の太陽光発電は、施設ごとに管理されていて、休日には使い切れない電力があります。"
            "本提案は、3施設をつないで需給を最適化し、災害時には避難所の電力を確保します。\n\n"
            "## 仕組み\n\n"
            "- 各施設の分電盤に計測器を付け、発電量と使用量を1分ごとに集めます。\n"
            "- 蓄電池の充放電を、天気予報と施設の予定から自動で計画します。\n"
            "- 停電時は、避難所となる学校に蓄電池の電力を優先して回します。\n\n"
            "## 見える化\n\n"
            "施設ごとの発電量・削減量を区のウェブサイトで公開し、児童・生徒の環境学習にも使えるようにします。",
            "株式会社エコポリスエナジー（デモ）：エネルギーマネジメント3名、電気工事2名、遠隔監視1名。",
            4_900_000,
            "1〜2か月目：施設の調査と計測器の設置\n3か月目：蓄電池の設置と試運転\n4〜12か月目：運用と効果の検証",
            "実証対象の区立施設3か所（地域センター1、小・中学校2）。",
            "蓄電池はリースで調達し、実証後に区が買い取るかを選べるようにします（買取価格の試算を添付）。",
            _kpis(("実証施設の購入電力量の削減率", "0", "12", "%"),
                  ("避難所施設で停電時に電力を確保できる時間", "0", "72", "時間")),
            voters=(R1, R2, R4),
        ),
        DemoProposal(
            "e2", UNIVERSITY, -60,
            "清掃工場の余熱と区立施設の太陽光を地図で見える化し、地産地消の道筋を示す",
            "清掃工場の余熱、区立施設の太陽光発電、施設ごとの電力・熱の使用量を地図の上に重ね、どこで生まれたエネルギーを"
            "どこで使えるかを分析します。分析の結果から、区が段階的に進める地産地消の計画案と、施設の更新にあわせた"
            "導入の順番を示します。",
            "## 提案の概要\n\n"
            "区内で生まれるエネルギーと、使われるエネルギーの場所と量を、地図の上で一緒に見えるようにします。\n\n"
            "## 分析すること\n\n"
            "1. 清掃工場の余熱の量と、熱を使える施設までの距離\n"
            "2. 区立施設の太陽光の発電量と、使い切れていない時間帯\n"
            "3. 今後10年で更新時期を迎える施設と、その更新時に導入できる設備\n\n"
            "## 成果\n\n"
            "分析に使った地図とデータ（個人を特定しないもの）は、オープンデータとして公開します。",
            "東京北部大学 都市工学研究室（デモ）：教員2名、大学院生4名。",
            2_800_000,
            "1〜3か月目：データの収集と整理\n4〜8か月目：分析\n9〜10か月目：計画案のとりまとめと公開",
            "データの提供（区立施設のエネルギー使用量、清掃工場の余熱の概算値）。設備の設置はありません。",
            "清掃一部事務組合とは、研究室として別の共同研究で協議の実績があります。",
            _kpis(("分析の対象とする区立施設の数", "0", "120", "施設"),),
            voters=(R3,),
        ),
        DemoProposal(
            "e3", NPO, -55,
            "学校の太陽光を、子どもたちと地域で活かす省エネの取組",
            "小学校の太陽光の発電量と教室の電力使用量を、子どもたちが自分たちで見られる表示板を設けます。"
            "環境委員会の児童が省エネの目標を立て、地域の方と一緒に学校の省エネに取り組むことで、学校と家庭の両方で"
            "行動が変わることをめざします。",
            "## 提案の概要\n\n"
            "設備の導入だけでなく、使う人の行動が変わることで、エネルギーは大きく減らせます。\n\n"
            "## 取組\n\n"
            "- 昇降口に、発電量と使用量を示す表示板を設けます。\n"
            "- 環境委員会の児童が毎月の目標を立て、結果を学校だよりで伝えます。\n"
            "- 地域の方を招いた「省エネ発表会」を年2回開きます。",
            "NPO法人 いたばし地域ネット（デモ）：環境教育の経験のあるスタッフ2名、地域の協力者。",
            1_200_000,
            "1〜2か月目：学校との打合せと表示板の設置\n3〜11か月目：取組の実施\n12か月目：発表会と振り返り",
            "実証に協力いただける小学校1校。",
            "表示板は既存の計測データを使うため、計測器の追加は最小限です。",
            _kpis(("協力校の電力使用量の削減率", "0", "5", "%"), ("取組に参加した児童数", "0", "120", "人")),
            voters=(R4, R5),
        ),
        DemoProposal(
            "e4", COMPANY, -50,
            "電動モビリティのバッテリーを、停電時の避難所の非常用電源に",
            "シェアリング用の電動アシスト自転車・小型電動モビリティの交換用バッテリーを、災害時には避難所へ運び、"
            "スマートフォンの充電や照明に使えるようにします。平常時は移動に、災害時は電源にと、同じ設備を二重に活かします。",
            "## 提案の概要\n\n"
            "当社は高島平エリアで、交換式バッテリーの電動モビリティを運営しています。"
            "交換用に充電しておくバッテリーは、常に一定の量があります。\n\n"
            "## 災害時の流れ\n\n"
            "1. 停電が起きたら、当社の職員が充電済みのバッテリーを近くの避難所へ運びます。\n"
            "2. 避難所では、専用のアダプターでスマートフォンの充電や照明に使います。\n"
            "3. 避難所の運営に関わる区の職員・町会の方に、事前に使い方を説明します。",
            "株式会社いたばしモビリティ（デモ）：運営2名、技術1名。",
            1_600_000,
            "1〜2か月目：アダプターの準備と避難所との打合せ\n3か月目：防災訓練での試用\n4〜6か月目：改善",
            "避難所となる学校1〜2校（保管場所は不要です）。",
            "バッテリー1個あたりの容量は約0.5kWh。避難所1か所あたり20個を運ぶ計画です。",
            _kpis(("防災訓練で避難所に届けたバッテリーの数", "0", "40", "個"),),
            voters=(R2, R6),
        ),
    ),
    comments=(
        DemoComment("ec1", R1, -40, "19:40",
                    "避難所になる学校で停電のときも電気が使えるのは、子どもを持つ親として安心です。", on="e1"),
        DemoComment("ec1a", ENERGY, -39, "10:15",
                    "ありがとうございます。避難所の運営マニュアルにも、蓄電池の使い方を加えていただけるよう区と協議します。",
                    on="e1", reply_to="ec1"),
        DemoComment("ec2", R4, -30, "21:30",
                    "子どもたちが自分で目標を立てるのは良いですね。家でも省エネを話題にしそうです。", on="e3"),
        DemoComment("ec3", STAFF_ENV, -20, "14:00",
                    "【環境政策課より】投票期間中にたくさんのご意見をいただき、ありがとうございます。"
                    "審査では、評価基準に加えて、いただいたご意見と投票の結果も参考にします。"),
    ),
    reviewers=(REVIEWER, REVIEWER2),
    reviews=(
        DemoReview(REVIEWER, "e1", -12, (4, 5, 4, 4, 3),
                   "避難所の電力確保の見通しが具体的で、計測から制御までの体制も整っている。蓄電池の費用の妥当性は、"
                   "買取価格の試算を踏まえて確認が必要。"),
        DemoReview(REVIEWER, "e2", -11, (3, 2, 4, 5, 4),
                   "区全体の計画づくりに役立つ分析だが、実証期間中の直接のCO2削減やレジリエンスの向上は限られる。"),
        DemoReview(REVIEWER, "e3", -10, (3, 2, 4, 4, 5),
                   "費用が小さく、行動変容の効果が期待できる。災害時のレジリエンスには直接つながらない。"),
        DemoReview(REVIEWER, "e4", -9, (2, 4, 3, 3, 4),
                   "平常時の設備を災害時に活かす発想が良い。運搬の体制と、避難所の運営者への周知が課題。"),
        DemoReview(REVIEWER2, "e2", -11, conflict="提案者の研究室と、別の研究で共同研究を行っているため。"),
        DemoReview(REVIEWER2, "e1", -8, (5, 4, 4, 3, 3),
                   "3施設をつなぐ運用モデルは、他の施設へ広げる際の参考になる。CO2削減量の算定方法は妥当。"),
        DemoReview(REVIEWER2, "e3", -7, (2, 2, 3, 4, 5),
                   "教育効果は高いが、評価基準の「脱炭素への効果」「災害時のレジリエンス」では評価しにくい。"),
        DemoReview(REVIEWER2, "e4", -3, (3, 4, 3, 0, 0), "運搬の体制について、提案者に確認したい点がある。",
                   submitted=False),
    ),
)

# --- 高島平のモビリティ（採択済み、実証へ） -------------------------------------------------------------

MOBILITY_STORY = Story(
    staff=STAFF_TAKASHIMADAIRA,
    proposals=(
        DemoProposal(
            "m1", COMPANY, -160,
            "高島平 電動マイクロモビリティのシェアリング ― 駅・団地・商店街をつなぐ",
            "都営三田線の高島平駅と、団地・商店街・公共施設を結ぶ8か所のポートで、電動アシスト自転車と座って乗れる"
            "小型の電動モビリティを貸し出します。高齢の方向けの安全講習と、地域のNPOと一緒に行う乗り方の体験会で、"
            "これまで利用の少なかった高齢の方にも使っていただける移動手段をめざします。",
            "## 提案の概要\n\n"
            "これまでの試行では一定の利用がありましたが、高齢の方の利用は限られていました。"
            "本提案では、車両とサービスを高齢の方に合わせて見直し、地域と一緒に広めます。\n\n"
            "## 車両とポート\n\n"
            "- 電動アシスト自転車12台と、座って乗れる小型の電動モビリティ8台（最高速度は時速6km）\n"
            "- 高島平駅前、団地内の4か所、商店街、高島平地域センター、熱帯環境植物館の8か所のポート\n\n"
            "## 安全と地域との連携\n\n"
            "- 初回利用前の安全講習（約30分）\n"
            "- NPO法人 いたばし地域ネット（デモ）と、町会・商店会を通じた体験会\n"
            "- 走行ルールを地域の方と一緒に決め、駅前広場では誘導員を配置\n\n"
            "## 確かめること\n\n"
            "利用回数、65歳以上の方の利用の割合、駅と商店街のあいだの回遊の変化（Wi-Fiセンサーの計測と比べます）。",
            "株式会社いたばしモビリティ（デモ）（代表）：運営3名、整備2名、データ分析1名。"
            "NPO法人 いたばし地域ネット（デモ）：体験会と地域との調整2名。",
            7_600_000,
            "1〜2か月目：ポートの設置と走行ルールの協議\n3か月目：運行開始と試乗会\n"
            "3〜5か月目：実証運用（試乗モニターの募集を含む）\n6か月目：結果のとりまとめと公表",
            "高島平駅前プラザと周辺街路（ポートの設置と試乗会）、区有地の一部（車両の保管・充電）。",
            "車両はリース。保険は対人・対物無制限の賠償責任保険に加入します。収支計画（実証後の料金案を含む）を添付。",
            _kpis(("月間の利用回数", "400", "2,000", "回"), ("利用者のうち65歳以上の方の割合", "8", "25", "%")),
            coauthors=(NPO,),
            voters=(R1, R2, R3, R5),
            decision=(DecisionOutcome.SELECTED,
                      "安全性（車両の速度制限、講習、誘導員の配置）と、高齢の方の使いやすさへの工夫が評価基準に最もよく"
                      "合っていました。地域のNPOとの共同提案で、体験会を通じて利用を広げる道筋も具体的です。"
                      "区民の皆さんの投票でも最も多くの応援をいただきました。実証では、走行ルールを地域と一緒に決める"
                      "ことを条件とします。"),
        ),
        DemoProposal(
            "m2", UNIVERSITY, -155,
            "団地内を巡回する、自動運転の低速モビリティ",
            "時速5km程度で走る自動運転の小型モビリティが、団地内の決まったルートを巡回し、住棟の前から駅前・商店街まで"
            "乗せていきます。運転の必要がないため、自転車に乗らない高齢の方も利用できます。",
            "## 提案の概要\n\n"
            "団地内の道路は整っていて交通量も少なく、低速の自動運転の実証に向いています。\n\n"
            "## 内容\n\n"
            "- 6人乗りの低速自動運転車両1台で、団地内の約2kmのルートを巡回\n"
            "- 保安員が同乗し、危険なときは手動で止めます\n"
            "- 乗降のしやすさ、待ち時間、住民の受け止め方を調査します",
            "東京北部大学 都市工学研究室（デモ）：教員2名、大学院生3名、車両メーカーに協力を依頼予定。",
            8_000_000,
            "1〜4か月目：ルートの調査と関係機関との協議\n5〜6か月目：試験走行\n7〜9か月目：実証運行",
            "団地内の道路と、駅前プラザの乗降場所。",
            "車両の借用はメーカーとの協議中で、確定していない。",
            _kpis(("1日の乗車人数", "0", "80", "人"),),
            voters=(R2, R4),
            decision=(DecisionOutcome.NOT_SELECTED,
                      "運転の必要がない点は高齢の方にとって大きな利点と評価しました。一方で、車両の借用が確定しておらず、"
                      "関係機関との協議に要する期間を考えると、今回の実証期間内の実現が難しいと判断しました。"
                      "次世代交通基盤の検討の中で、改めてご相談させてください。"),
        ),
        DemoProposal(
            "m3", BUS, -150,
            "予約に応じて走る、小型の乗合バス",
            "スマートフォンや電話で予約すると、団地・商店街・駅・病院のあいだを10人乗りの小型バスが乗合で走ります。"
            "決まった時刻表はなく、予約の状況に合わせて効率よく回ります。",
            "## 提案の概要\n\n"
            "路線バスの通らない場所への移動を、予約制の乗合バスで補います。\n\n"
            "## 内容\n\n"
            "- 10人乗りの車両2台、運行は平日の9時〜17時\n"
            "- 電話予約も受け付け、スマートフォンのない方も使えます\n"
            "- 運賃は実証期間中1回100円",
            "いたばし北バス株式会社（デモ）：運行管理2名、乗務員4名。",
            7_900_000,
            "1〜3か月目：運行計画と許可の手続き\n4〜9か月目：実証運行",
            "駅前プラザの乗降場所。",
            "乗務員の確保が課題で、実証期間中は他路線からの応援で対応する。",
            _kpis(("1日の乗車人数", "0", "60", "人"),),
            voters=(R6,),
            decision=(DecisionOutcome.NOT_SELECTED,
                      "電話予約でスマートフォンのない方も使える点を評価しました。ただし、運行にかかる費用が大きく、"
                      "実証後に自立して運行を続ける見通し（評価基準「事業の継続性」）が十分に示されていませんでした。"),
        ),
    ),
    comments=(
        DemoComment("mc1", R2, -135, "10:10",
                    "高島平に40年住んでいます。駅まで歩くのがつらくなってきたので、座って乗れる乗り物があると助かります。",
                    on="m1"),
        DemoComment("mc1a", COMPANY, -134, "15:00",
                    "ありがとうございます。座って乗れる小型の電動モビリティは、足元が低く乗り降りしやすい車両を選んでいます。"
                    "体験会でぜひお試しください。", on="m1", reply_to="mc1"),
        DemoComment("mc2", R5, -130, "12:30", "歩道を走るときの速さが心配です。子どもも多いので。", on="m1"),
        DemoComment("mc2a", STAFF_TAKASHIMADAIRA, -129, "16:20",
                    "【高島平まちづくり推進課より】ご心配ありがとうございます。採択された場合は、走行ルールを地域の皆さんと"
                    "一緒に決めることを条件にします。", on="m1", reply_to="mc2"),
    ),
    reviewers=(REVIEWER, REVIEWER2),
    reviews=(
        DemoReview(REVIEWER, "m1", -115, (5, 4, 4, 3, 4), "安全への配慮と地域との連携が具体的。"),
        DemoReview(REVIEWER, "m2", -114, (4, 5, 2, 2, 2), "魅力的だが車両の確保が不確実。"),
        DemoReview(REVIEWER, "m3", -113, (4, 4, 3, 2, 2), "運行費用に対して利用見込みが少ない。"),
        DemoReview(REVIEWER2, "m1", -110, (4, 5, 4, 3, 4), "高齢者向けの講習と体験会の計画が良い。"),
        DemoReview(REVIEWER2, "m2", -109, (4, 4, 2, 2, 3), "実証期間内の実現性に課題。"),
        DemoReview(REVIEWER2, "m3", -108, (4, 4, 3, 2, 2), "乗務員の確保に不安が残る。"),
    ),
    decided_day=-76,
)

# --- 熱帯環境植物館（採択済み、実証は完了） --------------------------------------------------------

GARDEN_STORY = Story(
    staff=STAFF_ENV,
    proposals=(
        DemoProposal(
            "g1", AUDIO, -280,
            "3Dマップとバーチャルセンサーで、歩くだけで流れる音声ガイド",
            "館内をデジタルスキャンして作成した3Dマップの上に、展示ごとのバーチャルセンサーを配置します。来館者が専用の"
            "スマートフォンを首から下げて歩くと、センサーの上を通ったときに眼鏡型スピーカーや肩掛けスピーカーから"
            "自動で解説が流れます。画面を見ずに展示を楽しめ、子どもや高齢の方、外国人の来館者にも届く案内をめざします。",
            "## 提案の概要\n\n"
            "展示の解説板は、文字が小さかったり、混んでいて近づけなかったりします。本提案は、歩くだけで解説が"
            "聞こえる音声ガイドをつくります。\n\n"
            "## 仕組み\n\n"
            "- 館内を3Dスキャンし、展示ごとにバーチャルセンサーを配置します（館内に機器は設置しません）。\n"
            "- 来館者は専用のスマートフォンを首から下げ、眼鏡型または肩掛けのスピーカーで聞きます。\n"
            "- 解説は日本語・英語・子ども向けの3種類から選べます。\n\n"
            "## 確かめること\n\n"
            "体験した方の満足度、展示の前で立ち止まる時間の変化、高温多湿の館内での機器の耐久性。",
            "株式会社みどりの音響デザイン（デモ）（代表）：音響設計1名、アプリ開発2名。"
            "東京北部大学 都市工学研究室（デモ）：3Dスキャンと来館者の動線の分析。",
            2_300_000,
            "1か月目：館内の3Dスキャン\n2か月目：解説の制作（植物館の学芸員と）\n3〜6か月目：体験会と効果の計測",
            "熱帯環境植物館（3Dスキャンと体験会。開館中の実施）。",
            "専用スマートフォン20台とスピーカー20台は当社の所有機材を使います。",
            _kpis(("音声ガイドの体験者数", "0", "1,500", "人"),
                  ("体験者のうち「展示がよくわかった」と答えた方の割合", "未計測", "80", "%")),
            coauthors=(UNIVERSITY,),
            voters=(R1, R3, R4),
            decision=(DecisionOutcome.SELECTED,
                      "画面を見ずに歩きながら楽しめる案内で、子どもや高齢の方を含む誰もが使える点が評価基準に最もよく"
                      "合っていました。館内に機器を設置しないため展示への影響が小さく、費用も予算の範囲に収まっています。"),
        ),
        DemoProposal(
            "g2", SIGNAGE, -275,
            "館内の大型モニターとQRコードで展示を案内",
            "館内の4か所に大型モニターを設け、展示の見どころを映像で紹介します。各展示の解説板にはQRコードを付け、"
            "来館者自身のスマートフォンで詳しい解説を読めるようにします。",
            "## 提案の概要\n\n"
            "映像と来館者のスマートフォンで、展示の魅力を伝えます。\n\n"
            "- 大型モニター4台（防湿仕様）\n- 解説板へのQRコードの追加（80か所）",
            "板橋サイネージ株式会社（デモ）：企画1名、映像制作2名。",
            2_450_000,
            "1〜2か月目：映像の制作\n3か月目：設置\n4〜6か月目：運用",
            "熱帯環境植物館（モニターの設置場所4か所）。",
            "モニターは防湿仕様の特注品。",
            _kpis(("QRコードからの閲覧数", "0", "3,000", "回"),),
            voters=(R5,),
            decision=(DecisionOutcome.NOT_SELECTED,
                      "映像による紹介はわかりやすい一方で、大型モニターの設置が大温室の展示空間に与える影響が大きく、"
                      "高温多湿の環境での機器の耐久性にも課題がありました。"),
        ),
        DemoProposal(
            "g3", NPO, -270,
            "地域のボランティアガイドとデジタルを組み合わせた案内",
            "地域の方がボランティアガイドとして展示を案内し、ガイドがいない時間は録音した解説を来館者のスマートフォンで"
            "聞けるようにします。ガイドの養成講座も開きます。",
            "## 提案の概要\n\n"
            "人による案内の温かさと、デジタルの手軽さを組み合わせます。\n\n"
            "- ボランティアガイドの養成講座（全4回）\n- ガイドの声を録音した解説（30か所）",
            "NPO法人 いたばし地域ネット（デモ）：事務局2名、地域のボランティア。",
            900_000,
            "1〜2か月目：養成講座\n3〜6か月目：ガイドの実施と録音解説の公開",
            "熱帯環境植物館（ガイドの集合場所）。",
            "ボランティアの交通費は実費を支給します。",
            _kpis(("ガイドの参加者数", "0", "600", "人"),),
            voters=(R2,),
            decision=(DecisionOutcome.NOT_SELECTED,
                      "地域の方が関わる点は高く評価しました。一方で、ガイドのいない時間の案内が録音の再生にとどまり、"
                      "課題の「歩きながら楽しめる案内」への効果は限定的と判断しました。植物館のボランティア活動として"
                      "別途ご相談させてください。"),
        ),
    ),
    comments=(
        DemoComment("gc1", R4, -255, "20:30",
                    "子どもが植物館が大好きです。画面を見なくていいのは、子どもと一緒に歩くときに安心です。", on="g1"),
        DemoComment("gc1a", AUDIO, -254, "10:00",
                    "ありがとうございます。子ども向けの解説は、植物館の学芸員さんと一緒に、クイズも入れてつくる予定です。",
                    on="g1", reply_to="gc1"),
    ),
    reviewers=(REVIEWER,),
    reviews=(
        DemoReview(REVIEWER, "g1", -245, (5, 4, 4, 4, 4), "展示への影響が小さく、誰もが使える案内になっている。"),
        DemoReview(REVIEWER, "g2", -244, (3, 3, 2, 3, 3), "機器の設置による展示空間への影響が大きい。"),
        DemoReview(REVIEWER, "g3", -243, (3, 4, 3, 2, 5), "地域との関わりは良いが、課題への効果が限られる。"),
    ),
    decided_day=-221,
)

# --- ARのまち歩き（選定なしで終了） --------------------------------------------------------------------

AR_STORY = Story(
    staff=STAFF_TAKASHIMADAIRA,
    proposals=(
        DemoProposal(
            "a1", SIGNAGE, -200,
            "商店街の店先にARの「まち歩きスタンプ」を置き、集めると買い物に使えるクーポンに",
            "高島平の3D都市モデルの上に、商店街の店先や公園に置いたARのスタンプを配置します。スマートフォンをかざして"
            "スタンプを集めると、参加店で使えるクーポンがもらえます。まちを巡るきっかけを、商店での買い物につなげます。",
            "## 提案の概要\n\n"
            "試行イベントでは多くの方が参加した一方、商店での買い物にはあまりつながりませんでした。"
            "本提案は、スタンプとクーポンで、巡ることと買うことを結びつけます。\n\n"
            "## 内容\n\n"
            "- ARのスタンプを20か所に配置（3D都市モデルとVPSで位置を合わせます）\n"
            "- スタンプ5個で、参加店で使える200円のクーポン\n"
            "- 歩きながらの操作を防ぐため、スタンプは立ち止まって読み取る場所に置きます",
            "板橋サイネージ株式会社（デモ）：企画1名、AR制作2名。",
            2_400_000,
            "1〜2か月目：参加店の募集とコンテンツ制作\n3か月目：イベントの実施",
            "高島平地区の公共空間（スタンプの案内板の設置）。",
            "クーポンの原資（約600,000円）は商店会との折半を想定。商店会とは未調整。",
            _kpis(("イベント参加者数", "1,200", "3,000", "人"), ("クーポンの利用枚数", "0", "800", "枚")),
            voters=(R1, R2, R5),
        ),
        DemoProposal(
            "a2", AUDIO, -195,
            "音とARで、高島秋帆ゆかりの高島平の歴史をたどるまち歩き",
            "幕末に高島秋帆が西洋砲術の訓練を行った地としての高島平の歴史を、ARの再現映像と音声の解説でたどる"
            "まち歩きコースをつくります。歴史を知ることで、まちへの愛着と回遊を生み出します。",
            "## 提案の概要\n\n"
            "高島平という地名の由来となった高島秋帆の砲術訓練や、昭和40年代の土地区画整理で生まれたまちの歴史を、"
            "歩きながら楽しめるようにします。\n\n"
            "## 内容\n\n"
            "- 約3kmのまち歩きコースに、音声解説のポイントを10か所\n"
            "- 訓練の様子などを、ARの再現映像で見られるポイントを3か所",
            "株式会社みどりの音響デザイン（デモ）：音響設計1名、AR制作1名。郷土史の監修を依頼予定。",
            2_200_000,
            "1〜3か月目：取材と制作\n4か月目：公開とまち歩きイベント",
            "高島平地区の公共空間。",
            "郷土資料館の資料の利用は未調整。",
            _kpis(("コースの利用者数", "0", "2,000", "人"),),
            voters=(R4, R6),
        ),
    ),
    comments=(
        DemoComment("ac1", R2, -170, "19:00",
                    "高島平の名前の由来を知らない人も多いので、歴史をたどるのは面白いと思います。", on="a2"),
    ),
    reviewers=(REVIEWER,),
    reviews=(
        DemoReview(REVIEWER, "a1", -150, (2, 2, 3, 3, 3),
                   "クーポンの原資と参加店について商店会との調整ができておらず、商店街への波及効果の見通しが弱い。"),
        DemoReview(REVIEWER, "a2", -149, (2, 2, 4, 3, 3),
                   "歴史の題材は魅力的だが、商店街への波及効果と、地域が自ら続ける方法が示されていない。"),
    ),
    closed_day=-120,
)

STORIES: dict[str, Story] = {
    BUS_STOPS: BUS_STORY,
    ENERGY_CHALLENGE: ENERGY_STORY,
    MOBILITY: MOBILITY_STORY,
    GARDEN: GARDEN_STORY,
    AR_WALK: AR_STORY,
}


def people(story: Story) -> set[str]:
    """Every account the story needs."""
    needed = {story.staff, *story.reviewers}
    for proposal in story.proposals:
        needed |= {proposal.author, *proposal.coauthors, *proposal.voters}
    needed |= {comment.author for comment in story.comments}
    needed |= {item.reviewer for item in story.reviews}
    return needed


# --- playing -------------------------------------------------------------------------------------


class Counts(NamedTuple):
    proposals: int = 0
    comments: int = 0
    votes: int = 0
    reviews: int = 0
    decisions: int = 0


def _organisation_of(session: Session, user_id: int) -> int:
    """The member's (first) organisation: the one they propose for."""
    return session.exec(select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user_id)
                        .order_by(OrganisationMember.id)).first()  # type: ignore[return-value]


def _input(item: DemoProposal) -> submissions.ProposalForm:
    return submissions.ProposalForm(
        title=item.title, summary=item.summary, description=item.description, team=item.team,
        cost_estimate_yen=item.cost_estimate_yen, schedule=item.schedule, test_field_needs=item.test_field_needs,
        confidential=item.confidential,
        kpis=[{"indicator": indicator, "baseline": baseline, "target": target, "unit": unit}
              for indicator, baseline, target, unit in item.kpis])


def _vote_days(first: int, last: int, voters: int, index: int) -> list[int]:
    """Days within [first, last] for ``voters`` votes on the ``index``-th proposal, spread and fixed."""
    span = max(last - first, 0) + 1
    return [first + (index * 3 + n * 5) % span for n in range(voters)]


def steps(playback: Playback, challenge_id: int, story: Story, schedule: dict[Phase, datetime],
          today: date, *, closed_reason: str = "") -> tuple[list[Step], Counts]:
    """Everything the story says happened on the challenge once it accepted proposals, as steps to play
    in time order with the challenge's own (:mod:`proposals.demo`), and what they add up to."""
    session = playback.session
    act = playback.actor
    ids: dict[str, int] = {}  # proposal and comment keys -> their ids, filled in as the steps run
    planned: list[Step] = []

    def step(when: datetime, action: Callable[[], Any], label: str = "") -> None:
        planned.append(Step(when, action, label))

    # Proposals: drafted two days before submission, co-authors invited and confirming in between.
    for number, item in enumerate(story.proposals):
        minute = f"{10 + number % 7}:{(number * 7) % 60:02d}"

        def draft(item: DemoProposal = item) -> None:
            author = act(item.author)
            organisation_id = _organisation_of(session, author.user_id)  # type: ignore[union-attr,arg-type]
            proposal = submissions.create_draft(session, author, challenge_id, organisation_id, _input(item))  # type: ignore[arg-type]
            ids[item.key] = proposal.id  # type: ignore[assignment]

        step(ward_time(today, item.day - 2, minute), draft, f"draft {item.key}")
        for coauthor in item.coauthors:
            def invite(item: DemoProposal = item, coauthor: str = coauthor) -> None:
                member = act(coauthor)
                submissions.add_coauthor(session, act(item.author), ids[item.key],  # type: ignore[arg-type]
                                         _organisation_of(session, member.user_id))  # type: ignore[union-attr,arg-type]

            def confirm(item: DemoProposal = item, coauthor: str = coauthor) -> None:
                member = act(coauthor)
                submissions.confirm_coauthor(session, member, ids[item.key],  # type: ignore[arg-type]
                                             _organisation_of(session, member.user_id))  # type: ignore[union-attr,arg-type]

            step(ward_time(today, item.day - 2, "15:00"), invite, f"invite {coauthor} to {item.key}")
            step(ward_time(today, item.day - 1, "11:30"), confirm, f"{coauthor} confirms {item.key}")
        step(ward_time(today, item.day, minute),
             lambda item=item: submissions.submit(session, act(item.author), ids[item.key]),  # type: ignore[misc,arg-type]
             f"submit {item.key}")

    # The schedule moves the challenge on: the beat job's own service, at each planned date.
    for phase in (Phase.VOTING, Phase.REVIEW):
        when = schedule.get(phase)
        if when is not None and when <= ward_time(today, 0, "00:00"):
            step(when, lambda: lifecycle.advance_due(session), f"schedule moves to {phase.value}")

    # Comments and replies (to the thread, as the page's reply form sends them).
    for comment in story.comments:
        def post(comment: DemoComment = comment) -> None:
            target_type, target_id = (("proposal", ids[comment.on]) if comment.on
                                      else ("challenge", challenge_id))
            form = comments.CommentForm(body=comment.body, parent_id=ids[comment.reply_to] if comment.reply_to else None)
            posted = comments.post(session, act(comment.author), target_type, target_id, form)  # type: ignore[arg-type]
            ids[comment.key] = posted.id  # type: ignore[assignment]

        step(ward_time(today, comment.day, comment.clock), post, f"comment {comment.key}")

    # Votes, spread over the voting phase (up to yesterday for the challenge voting now).
    voting, review_start = schedule.get(Phase.VOTING), schedule.get(Phase.REVIEW)
    vote_count = 0
    if voting is not None:
        first = (voting.date() - today).days + 1
        last = min((review_start.date() - today).days - 1 if review_start else -1, -1)
        for index, item in enumerate(story.proposals):
            for voter, day in zip(item.voters, _vote_days(first, last, len(item.voters), index), strict=True):
                clock = f"{7 + (index + len(voter)) % 14:02d}:{(index * 11 + day) % 60:02d}"
                step(ward_time(today, day, clock),
                     lambda item=item, voter=voter: votes.cast(session, act(voter), ids[item.key]),  # type: ignore[misc,arg-type]
                     f"{voter} votes for {item.key}")
                vote_count += 1

    # Review: the department assigns its reviewers as the review phase opens; they declare and score.
    review_count = 0
    if review_start is not None and story.reviewers:
        for reviewer in story.reviewers:
            step(review_start + timedelta(hours=10),
                 lambda reviewer=reviewer: review.assign(session, act(story.staff), challenge_id,
                                                          act(reviewer).user_id),  # type: ignore[union-attr,arg-type]
                 f"assign {reviewer}")
        criteria = review.criteria_of(session, challenge_id)
        for item in story.reviews:
            when = ward_time(today, item.day, "13:00")

            def declare(item: DemoReview = item) -> None:
                review.declare_conflict(session, act(item.reviewer), ids[item.proposal],  # type: ignore[arg-type]
                                        review.DeclareForm(has_conflict="yes" if item.conflict else "no",
                                                           note=item.conflict))

            step(when, declare, f"{item.reviewer} declares on {item.proposal}")
            if item.conflict:
                continue
            scores = {c.id: str(score) for c, score in zip(criteria, item.scores, strict=True) if score}

            def score(item: DemoReview = item, scores: dict[int, str] = scores) -> None:  # type: ignore[assignment]
                review.save_review(session, act(item.reviewer), ids[item.proposal],  # type: ignore[arg-type]
                                   review.ReviewForm(scores=scores, comment=item.comment),
                                   submit=item.submitted)

            step(when + timedelta(minutes=40), score,
                 f"{item.reviewer} reviews {item.proposal}")
            review_count += int(item.submitted)

    # Decisions: saved privately in the morning, published in the afternoon (which moves to "decided").
    decisions = [item for item in story.proposals if item.decision is not None]
    if story.decided_day is not None and decisions:
        def save() -> None:
            review.save_decisions(session, act(story.staff), challenge_id, review.DecisionsForm(entries={
                ids[item.key]: review.DecisionForm(outcome=item.decision[0], rationale=item.decision[1])  # type: ignore[index]
                for item in decisions}))

        step(ward_time(today, story.decided_day, "10:00"), save, "save decisions")
        step(ward_time(today, story.decided_day, "16:00"),
             lambda: review.publish_decisions(session, playback.settings, act(story.staff), challenge_id),
             "publish decisions")

    # Or none is chosen: staff close the challenge with its public reason.
    if story.closed_day is not None:
        step(ward_time(today, story.closed_day, "17:00"),
             lambda: lifecycle.move(session, act(story.staff), challenge_id, Phase.CLOSED, closed_reason),
             "close without selection")

    return planned, Counts(proposals=len(story.proposals), comments=len(story.comments), votes=vote_count, reviews=review_count,
                  decisions=len(decisions) if story.decided_day is not None else 0)
