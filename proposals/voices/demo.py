"""Demo residents' voices (まちの声), played through the services as the people of the core demo did them
(:mod:`cocreate.demo_playback`): residents post voices on the themes of the ward's residents' survey (shared/seeds
000: 274 responses, 安全・防犯 and 防災 first, then 交通, 子育て, 高齢者, 環境), others support and comment on
them, the support desk of a community centre enters opinions from a paper form, a phone call and a
workshop, and the owning departments triage them: acknowledge and answer, merge a duplicate, link one to
the bus-stop challenge, decline one with a reason, and turn one into a draft challenge that cites it.
Then the ward analyses what it heard on the challenge with the most residents' texts and publishes it.

Idempotent: a voice whose title exists already is left alone; nothing is played without the core demo's
people.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department
from cocreate.accounts.permissions import Principal
from cocreate.analysis import services as analysis
from cocreate.areas import Area
from cocreate.comments import events as comment_events
from cocreate.comments import services as comments
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.demo_playback import Playback, ward_time
from cocreate.i18n import WARD_TIMEZONE
from cocreate.settings import Settings
from proposals.models import Category, Challenge, Voice, VoiceChannel, VoiceStatus
from proposals.voices import assisted, triage
from proposals.voices import services as voices

RESIDENTS = ("demo-resident@example.jp", "demo-resident2@example.jp", "demo-resident3@example.jp",
             "demo-resident4@example.jp", "demo-resident5@example.jp", "demo-resident6@example.jp")
DESK = "demo-desk@example.jp"
STAFF_OF = {
    "env-policy": "demo-staff@example.jp",
    "transport": "demo-staff-transport@example.jp",
    "takashimadaira": "demo-staff-takashimadaira@example.jp",
}
"""The core demo's member of each department that triages voices."""
FALLBACK_STAFF = "demo-staff-takashimadaira@example.jp"
BUS_CHALLENGE = "バス停を、運行情報と地域の情報が届く拠点にすることを実現したい"
DARK_PATH_CHALLENGE = "高島平の夜道を、安心して歩ける明るさにすることを実現したい"
COMMENTS = {
    "dark-path": (("demo-resident4@example.jp", 38, "子どもの塾の帰りが心配で、駅まで迎えに行っています。同じ思いの家庭は多いと思います。"),
                  ("demo-resident6@example.jp", 37, "夜に自転車で通ると、歩いている人が見えずにぶつかりそうになります。")),
    "school-crossing": (("demo-resident3@example.jp", 24, "朝、旗振りをしている保護者の方も危ないと話していました。"),),
    "bus-wait": (("demo-resident5@example.jp", 48, "雨の日に屋根のないバス停で待つのがつらいです。表示があれば近くで待てます。"),),
}
"""Comments on voices: (author, days before today, text)."""

VOICES = [
    # 安全・防犯
    dict(key="dark-path", author="demo-resident@example.jp", channel="online", category="disaster_safety",
         area="takashimadaira", point=(35.7892, 139.6588), day=40,
         title="高島平駅から団地までの遊歩道が夜とても暗い",
         body="高島平駅の北側から二丁目の団地へ抜ける遊歩道は、街灯の間隔が広く夜9時を過ぎると足元が見えません。"
              "塾帰りの中学生や、仕事帰りの女性が一人で歩くのを見ると心配です。\n\n"
              "人が通るときだけ明るくなる照明や、見守りカメラなど、費用をかけすぎない方法で明るくできないでしょうか。",
         supporters=9, fate=("challenge", None)),
    dict(key="dark-path-2", author="demo-resident2@example.jp", channel="online", category="disaster_safety",
         area="takashimadaira", point=(35.7885, 139.6579), day=33,
         title="団地の遊歩道に防犯灯を増やしてほしい",
         body="夜、高島平二丁目の遊歩道を通ると真っ暗な区間があります。防犯灯を増やしてもらえると安心です。",
         supporters=3, fate=("merge", "dark-path")),
    dict(key="school-crossing", author="demo-resident@example.jp", channel="online", category="transport_mobility",
         area="shimura", point=(35.7761, 139.6946), day=25,
         title="志村坂上の交差点、登校時間の車が危ない",
         body="志村坂上駅近くの交差点は朝7時半から8時過ぎまで抜け道として車が多く、"
              "横断歩道を渡る小学生のすぐ前を右折車が通ります。ヒヤリとする場面を何度も見ました。"
              "どの時間帯にどれくらい危ない場面があるのか、データで確かめて対策してほしいです。",
         supporters=7, fate=("considering", "通学路の安全点検の対象に加え、交通安全課と学校で現地を確認します。"
                                               "結果はこのページでお知らせします。")),
    # 防災
    dict(key="evac-info", author=None, channel="paper", category="disaster_safety",
         area="akatsuka", point=None, day=30,
         title="避難所の空き状況が分かるようにしてほしい",
         body="台風のとき、どの避難所に入れるのか分からず、近所の人と電話で聞き合いました。"
              "スマホを持っていない高齢者にも分かるように、町会の掲示板や防災無線でも知らせてほしい。"
              "（赤塚地域センターの意見用紙より）",
         supporters=5, fate=None),
    dict(key="flood-river", author="demo-resident2@example.jp", channel="online", category="disaster_safety",
         area="itabashi", point=(35.7545, 139.7070), day=18,
         title="石神井川の水位をもっと手軽に見たい",
         body="大雨のたびに石神井川の様子を見に行く人がいて危ないと思います。"
              "水位や雨量が区のホームページや駅のサイネージで見られれば、見に行かずに済みます。",
         supporters=4, fate=None),
    # 交通
    dict(key="bus-wait", author="demo-resident@example.jp", channel="online", category="transport_mobility",
         area="akatsuka", point=(35.7712, 139.6440), day=50,
         title="バス停で、あと何分で来るのか分からない",
         body="成増方面へのバスは遅れることが多く、雨の日にバス停で20分待つこともあります。"
              "バス停に到着予定が表示されれば、近くのお店で待つこともできます。",
         supporters=11, fate=("resolved", "スマートバス停の実証（区の課題「スマートバス停」）で、"
                                             "赤塚地域の2か所に到着予定の表示を始めました。")),
    dict(key="hill-mobility", author=None, channel="workshop", category="transport_mobility",
         area="shimura", point=None, day=22,
         title="坂の多い地域で買い物に行くのが大変",
         body="志村の坂を上り下りして買い物に行くのが年々つらくなっています。"
              "小さな乗り物や乗り合いの仕組みがあれば、もっと外に出られると思います。"
              "（志村地域センターのワークショップより）",
         supporters=6, fate=None),
    # 子育て
    dict(key="stroller-park", author="demo-resident2@example.jp", channel="online", category="childcare_education",
         area="tokiwadai", point=(35.7590, 139.6880), day=15,
         title="公園のトイレにおむつ替えの台がほしい",
         body="常盤台の公園で子どもを遊ばせるとき、おむつ替えができるトイレが近くにありません。"
              "どの公園にあるのか地図で分かるだけでも助かります。",
         supporters=3, fate=None),
    dict(key="rainy-play", author="demo-resident@example.jp", channel="online", category="childcare_education",
         area="itabashi", point=None, day=12,
         title="雨の日に子どもが遊べる場所の空き状況を知りたい",
         body="児童館やあいキッズが雨の日に混み合っていて、着いてから入れないことがあります。"
              "混雑具合が事前に分かると助かります。",
         supporters=2, fate=None),
    # 高齢者
    dict(key="digital-help", author=None, channel="phone", category="admin_dx",
         area="takashimadaira", point=None, day=20,
         title="オンライン手続きのやり方を近くで教えてほしい",
         body="区の手続きがスマホでできると聞きましたが、やり方が分かりません。"
              "地域センターで、決まった曜日に教えてもらえる場所があるとありがたいです。（電話でのご意見）",
         supporters=4, fate=("considering", "地域センターでのスマホ相談会を検討しています。")),
    dict(key="bench", author="demo-resident2@example.jp", channel="online", category="health_welfare",
         area="shimura", point=(35.7770, 139.6960), day=9,
         title="駅までの道に休めるベンチを",
         body="志村三丁目駅までの上り坂に座れる場所がなく、途中で休めません。ベンチを置いてほしいです。",
         supporters=5, fate=None),
    # 環境
    dict(key="heat-spot", author="demo-resident@example.jp", channel="online", category="environment_energy",
         area="itabashi", point=(35.7519, 139.7105), day=35,
         title="夏の暑さを避けられる場所を増やしてほしい",
         body="夏の昼間、駅前から区役所までの道に日陰がほとんどありません。"
              "クールスポットの場所が分かる地図や、ミストなどの設備があるとよいと思います。",
         supporters=6, fate=None),
    dict(key="food-waste", author=None, channel="workshop", category="environment_energy",
         area="tokiwadai", point=None, day=22,
         title="家庭の生ごみを減らす取り組みに参加したい",
         body="生ごみを堆肥にする方法を知りたいという声が多く出ました。集合住宅でもできる方法や、"
              "できた堆肥を使える場所があれば参加したい。（常盤台のワークショップより）",
         supporters=2, fate=("declined", "生ごみの堆肥化は清掃事務所の既存事業（講習会）で受け付けています。"
                                            "本プラットフォームの課題にはしませんが、講習会の日程は区報でお知らせします。")),
]


WORKSHOP = [
    ("集会所に防災用品の置き場所を示してほしい", "disaster_safety", "tokiwadai",
     "町会の防災倉庫に何があるのか、誰が鍵を持っているのかを知らない人が多い。掲示や地図で分かるようにしてほしい。"),
    ("子ども食堂の情報をまとめて知りたい", "childcare_education", "tokiwadai",
     "近くの子ども食堂の日程がばらばらに告知されていて分かりにくい。一か所で見られるとよい。"),
    ("商店街の空き店舗を地域の居場所に", "industry_commerce", "tokiwadai",
     "常盤台の商店街に空き店舗が増えている。高齢者や子どもが立ち寄れる居場所として使えないか。"),
]
"""A community-centre workshop's opinions, entered by the support desk in one go (代理入力)."""


def _day(today: date, days_ago: int, clock: str = "10:00") -> Any:
    return ward_time(today, -days_ago, clock)


def _staff_for(playback: Playback, departments: dict[int, str], voice: Voice) -> Principal | None:
    code = departments.get(voice.department_id) if voice.department_id else None
    email = STAFF_OF.get(code) if code else FALLBACK_STAFF
    return playback.actor(email) if email else None


def load(session: Session, settings: Settings) -> str:
    """Play the demo voices (after the demo challenges, which one of them links to)."""
    playback = Playback(session, settings, handlers={comment_events.TASK: comment_events.run})
    if not playback.has(DESK, *RESIDENTS, *STAFF_OF.values()):
        return "voices left out (they need the core demo's people: load it first)"
    titles = [v["title"] for v in VOICES] + [w[0] for w in WORKSHOP]
    if session.exec(select(func.count()).select_from(Voice).where(col(Voice.title).in_(titles))).one():
        return "voices already there"
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    posted: dict[str, int] = {}
    for item in sorted(VOICES, key=lambda v: -v["day"]):
        when = _day(today, item["day"])
        area = Area(item["area"]) if item["area"] else None
        lat, lng = item["point"] or (None, None)
        if item["author"]:
            form = voices.VoiceForm(title=item["title"], body=item["body"], category=Category(item["category"]),
                                    area=area, latitude=lat, longitude=lng)
            voice = playback.at(when, lambda form=form, author=item["author"]: voices.post(
                session, settings, playback.actor(author), form))
        else:
            entry = assisted.AssistedVoiceForm(title=item["title"], body=item["body"],
                                               category=Category(item["category"]), area=area,
                                               note=f"意見用紙 No.{len(posted) + 1}")
            voice = playback.at(when, lambda entry=entry, channel=item["channel"]: assisted.record(
                session, playback.actor(DESK), [entry], VoiceChannel(channel), consented=True)[0])
        assert voice.id is not None
        posted[item["key"]] = voice.id
        supporters = [r for r in RESIDENTS if r != item["author"]][: item["supporters"]]
        for index, supporter in enumerate(supporters):
            playback.at(_day(today, item["day"], f"{11 + index}:00"),
                        lambda supporter=supporter, voice_id=voice.id: voices.support(
                            session, playback.actor(supporter), voice_id))
        for author, days_ago, text in COMMENTS.get(item["key"], ()):
            playback.at(_day(today, days_ago, "19:30"), lambda author=author, text=text, voice_id=voice.id: comments.post(
                session, playback.actor(author), "voice", voice_id, comments.CommentForm(body=text)))
    workshop = [assisted.AssistedVoiceForm(title=t, body=b, category=Category(c), area=Area(a), note="ワークショップ記録")
                for t, c, a, b in WORKSHOP]
    playback.at(_day(today, 21, "15:00"), lambda: assisted.record(
        session, playback.actor(DESK), workshop, VoiceChannel.WORKSHOP, consented=True))

    departments = {d.id: d.code for d in session.exec(select(Department)).all()}
    fates = 0
    for item in VOICES:
        fate = item["fate"]
        if fate is None:
            continue
        voice_id = posted[item["key"]]
        voice = session.get(Voice, voice_id)
        staff = _staff_for(playback, departments, voice)
        if staff is None:
            continue
        when = _day(today, item["day"] - 3, "14:00")
        kind, text = fate
        if kind == "merge":
            playback.at(when, lambda v=voice_id, into=posted[text], s=staff: triage.merge(
                session, settings, s, v, triage.MergeForm(into=into, merge_note="同じ場所についての声をまとめました。")))
        elif kind == "challenge":
            playback.at(when, lambda v=voice_id, s=staff: triage.acknowledge(
                session, settings, s, v, triage.NoteForm(note="現地を確認しました。課題として企業・大学の提案を募る準備をしています。")))
            playback.at(_day(today, item["day"] - 10, "10:00"), lambda v=voice_id, s=staff: triage.to_challenge(
                session, settings, s, triage.ToChallengeForm(voice_ids=[v], challenge_title=DARK_PATH_CHALLENGE)))
        elif kind == "considering":
            playback.at(when, lambda v=voice_id, s=staff, t=text: triage.acknowledge(
                session, settings, s, v, triage.NoteForm(note=t)))
        elif kind == "resolved":
            bus = session.exec(select(Challenge.id).where(Challenge.title == BUS_CHALLENGE)).first()
            if bus is not None:
                playback.at(when, lambda v=voice_id, s=staff, c=bus: triage.link(
                    session, settings, s, v, triage.LinkForm(challenge_id=c, link_note="この課題で取り組んでいます。")))
            playback.at(_day(today, item["day"] - 20, "10:00"), lambda v=voice_id, s=staff, t=text: triage.close(
                session, settings, s, v, triage.CloseForm(status=VoiceStatus.RESOLVED, reason=t)))
        elif kind == "declined":
            playback.at(when, lambda v=voice_id, s=staff, t=text: triage.close(
                session, settings, s, v, triage.CloseForm(status=VoiceStatus.DECLINED, reason=t)))
        fates += 1
    heard = _publish_what_we_heard(playback, session, today)
    return (f"{len(posted) + len(WORKSHOP)} voices added ({len(WORKSHOP) + sum(1 for v in VOICES if not v['author'])} "
            f"entered by the support desk), {fates} triaged{heard}")


def _publish_what_we_heard(playback: Playback, session: Session, today: date) -> str:
    """Analyse the public challenge with the most residents' comments and publish what the ward heard."""
    top = session.exec(
        select(Comment.target_id, Challenge.department_id)
        .join(Challenge, Challenge.id == Comment.target_id)
        .where(Comment.target_type == "challenge", Comment.official == "", col(Comment.deleted_at).is_(None))
        .group_by(Comment.target_id, Challenge.department_id)
        .order_by(func.count().desc(), Comment.target_id).limit(1)).first()
    if top is None:
        return ""
    challenge_id, department_id = top
    code = session.get(Department, department_id).code
    staff = playback.actor(STAFF_OF.get(code, FALLBACK_STAFF))
    if staff is None or not staff.is_staff_of(department_id):
        return ""
    playback.handlers = {**playback.handlers, analysis.TASK: lambda s, _settings, run_id: analysis.execute(s, run_id)}
    run = playback.at(ward_time(today, -1, "09:00"), lambda: analysis.start(session, staff, "challenge", challenge_id))
    playback.at(ward_time(today, -1, "09:30"), lambda: analysis.publish(session, staff, run.id))
    return ", and what the ward heard on one challenge published"
