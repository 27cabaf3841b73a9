"""Japanese text for generated content, from the vocabulary of the ward's policy documents (shared/seeds:
Itabashi's smart city policy and industrial vision, the Chiba, Chofu and national smart city texts).

Every function takes a ``random.Random`` so that a dataset is the same on every run. The words are
copied here (the seeds are not part of the repository): areas of the ward, topics, technologies,
actors and outcomes as those documents name them.
"""

from __future__ import annotations

import random

AREAS = ("高島平", "成増", "大山", "志村", "常盤台", "赤塚", "板橋", "蓮根", "西台", "徳丸", "中台", "小茂根",
         "大和町", "仲宿", "坂下", "舟渡", "前野町", "上板橋")
TOPICS = ("防災", "見守り", "子育て", "高齢者の外出", "ごみの減量", "公共施設の省エネ", "地域の移動", "商店街のにぎわい",
          "健康づくり", "避難所の運営", "通学路の安全", "緑化", "エネルギーの地産地消", "買い物支援", "デジタルデバイド対策",
          "空き家の活用", "自転車の利用", "図書館の利用", "窓口の待ち時間", "熱中症対策")
TECHNOLOGIES = ("センサー", "スマートバス停", "オンデマンド交通", "電動キックボード", "ドローン", "AIカメラ",
                "エネルギーマネジメントシステム", "人流データ", "スマートフォンアプリ", "地域ポイント", "オープンデータ",
                "Wi-Fiパケットセンサー", "AR", "データ連携基盤", "チャットボット", "IoT機器", "太陽光発電", "蓄電池",
                "ロボット", "オンライン申請")
ACTORS = ("区民", "町会・自治会", "商店街", "事業者", "大学", "NPO", "学校", "高齢者", "子育て世帯", "来街者",
          "区の職員", "ボランティア")
OUTCOMES = ("利便性の向上", "CO2の削減", "安全・安心の確保", "地域のにぎわい", "行政サービスの効率化",
            "住民の声の見える化", "持続可能なまちづくり", "担い手の確保", "費用の削減", "参加のしやすさ")
ORG_PREFIXES = ("株式会社", "合同会社", "一般社団法人", "特定非営利活動法人", "国立大学法人", "学校法人")
ORG_WORDS = ("いたばし", "たかしまだいら", "ときわだい", "なります", "スマート", "みらい", "まちづくり", "グリーン",
             "モビリティ", "データ", "ラボ", "コミュニティ", "エナジー", "ケア", "リンク", "サステナ")
ORG_SUFFIXES = ("ラボ", "テクノロジーズ", "ソリューションズ", "研究所", "ネットワーク", "デザイン", "システムズ",
                "パートナーズ", "ワークス", "イノベーション")
FAMILY_NAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
                "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水")
NICKNAMES = ("さくら", "たろう", "はなこ", "ゆうき", "みどり", "けんた", "あおい", "そら", "ひかり", "まこと",
             "しげる", "のぞみ", "ゆい", "だいき", "かおり", "つばさ")

CHALLENGE_WISHES = (
    "{area}で{topic}を、{tech}を活かして進めたい",
    "{actor}が{topic}に参加しやすい仕組みを実現したい",
    "{topic}の課題を{tech}で解決し、{outcome}を実現したい",
    "{area}の{topic}を、区民と一緒に見直したい",
)
PROPOSAL_TITLES = (
    "{tech}による{area}の{topic}",
    "{actor}と進める{topic}の実証",
    "{topic}のための{tech}活用プラン",
    "{area}発・{tech}で{outcome}",
)
SENTENCES = (
    "{area}地域では{topic}が課題になっており、{actor}からも改善を求める声があります。",
    "{tech}を使って{topic}の状況を見える化し、{outcome}につなげます。",
    "まずは小さく始め、{area}での実証の結果をもとに区内へ広げていきます。",
    "{actor}と区が一緒に検討する場を設け、ワークショップで意見を集めます。",
    "個人情報に配慮し、集計したデータはオープンデータとして公開します。",
    "実証の効果は利用者アンケートと{tech}のデータで評価し、KPIとして報告します。",
    "{topic}について、{actor}の負担を増やさずに続けられる運営体制をつくります。",
    "スマートフォンに不慣れな方も参加できるよう、紙や窓口での案内も用意します。",
    "費用の見込みは機器の設置と運用保守、説明会の開催を含めて算定しました。",
    "{area}の{actor}とのヒアリングで、{topic}への関心が高いことが分かりました。",
)
COMMENTS = (
    "{area}に住んでいます。{topic}はとても大事だと思います。",
    "{tech}は高齢の家族でも使えるでしょうか。説明会があると安心です。",
    "実証の結果がどのように公開されるのか知りたいです。",
    "{actor}として協力できることがあれば参加したいです。",
    "費用に見合う効果があるのか、KPIの設定をもう少し詳しく教えてください。",
    "{area}駅の周辺でも試してほしいです。",
    "個人情報の扱いについて、もう少し具体的な説明がほしいです。",
    "とても良い提案だと思います。**ぜひ実現してほしい**です。",
    "以前にも似た取組がありましたが、今回は何が違うのでしょうか。",
    "子どもの通学路でも使えると助かります。\n朝の時間帯が特に心配です。",
)
REPLIES = (
    "ご意見ありがとうございます。{area}での実証も検討します。",
    "同じ意見です。{topic}は急いでほしいです。",
    "説明会は{area}の地域センターで開く予定と聞きました。",
    "> {topic}\nこの点、私も気になっていました。",
)


def pick(rng: random.Random, words: tuple[str, ...]) -> str:
    return words[rng.randrange(len(words))]


def _fill(rng: random.Random, template: str) -> str:
    return template.format(area=pick(rng, AREAS), topic=pick(rng, TOPICS), tech=pick(rng, TECHNOLOGIES),
                           actor=pick(rng, ACTORS), outcome=pick(rng, OUTCOMES))


def sentence(rng: random.Random) -> str:
    return _fill(rng, pick(rng, SENTENCES))


def paragraph(rng: random.Random, sentences: int = 3) -> str:
    return "".join(sentence(rng) for _ in range(sentences))


def markdown(rng: random.Random, paragraphs: int = 3) -> str:
    """A few paragraphs and a list, as proposers write them."""
    parts = [paragraph(rng, rng.randint(2, 4)) for _ in range(paragraphs)]
    parts.insert(1, "\n".join(f"- {sentence(rng)}" for _ in range(3)))
    return "\n\n".join(parts)


def challenge_title(rng: random.Random) -> str:
    return _fill(rng, pick(rng, CHALLENGE_WISHES))


def proposal_title(rng: random.Random) -> str:
    return _fill(rng, pick(rng, PROPOSAL_TITLES))


def comment(rng: random.Random) -> str:
    return _fill(rng, pick(rng, COMMENTS))


def reply(rng: random.Random) -> str:
    return _fill(rng, pick(rng, REPLIES))


def organisation_name(rng: random.Random, number: int) -> str:
    return f"{pick(rng, ORG_PREFIXES)}{pick(rng, ORG_WORDS)}{pick(rng, ORG_SUFFIXES)}{number}（ベンチ）"


def display_name(rng: random.Random) -> str:
    return f"{pick(rng, FAMILY_NAMES)} {pick(rng, NICKNAMES)}"
