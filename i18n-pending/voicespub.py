"""New messages of the public side of residents' voices (まちの声, issue 18 item 1), with their Japanese.

A plural message is keyed by its (singular, plural) pair; Japanese has one form for both. "Received" is
the data model's status label (proposals.models.VOICE_STATUS_LABELS), which the voice page's trail uses.
"""

JA = {
    # navigation, rules and services
    "Residents' voices": "まちの声",
    "Back to the voice": "声に戻る",
    "Sign in to post a voice.": "声を投稿するにはログインしてください。",
    "Confirm your e-mail address before you post a voice.": "声を投稿する前に、メールアドレスを確認してください。",
    "This voice is hidden.": "この声は非表示になっています。",
    "This voice was merged into another one; support that one instead.":
        "この声は別の声に統合されました。統合先の声を応援してください。",
    "Sign in to support this voice.": "この声を応援するにはログインしてください。",
    "Confirm your e-mail address before you support a voice.": "声を応援する前に、メールアドレスを確認してください。",
    "You cannot support your own voice.": "ご自身の声は応援できません。",
    "This voice no longer takes comments.": "この声にはもうコメントできません。",
    "This voice was merged into another one; comment there.": "この声は別の声に統合されました。統合先の声にコメントしてください。",
    "Report a voice": "声を通報する",
    "Reported voice": "通報された声",
    "This image cannot be read. Choose another photo (PNG, JPEG or WebP).":
        "この画像を読み取れません。別の写真（PNG、JPEG、WebP）を選んでください。",
    "Thank you. Your voice has been published and sent to the ward.": "ありがとうございます。声を公開し、区に届けました。",
    "You already support this voice.": "この声はすでに応援しています。",
    "Your support was withdrawn.": "応援を取り消しました。",
    "You had not supported this voice.": "この声を応援していませんでした。",
    "Residents' voices — cocreate Itabashi": "まちの声 — コクリエ板橋",
    "Local needs, problems and ideas raised by residents.": "区民が寄せた、地域のニーズ・困りごと・アイデア。",
    "This voice does not exist or is not public.": "この声は存在しないか、公開されていません。",
    # the form
    "Give your voice a short title.": "声に短い題名を付けてください。",
    "Describe the need, problem or idea.": "ニーズ・困りごと・アイデアの内容を書いてください。",
    "Choose a category from the list.": "一覧から分野を選んでください。",
    "Choose an area from the list.": "一覧から地域を選んでください。",
    "Enter a latitude in or near Itabashi ward, from 35.70 to 35.85.":
        "板橋区内かその周辺の緯度を、35.70から35.85の範囲で入力してください。",
    "Enter a longitude in or near Itabashi ward, from 139.58 to 139.78.":
        "板橋区内かその周辺の経度を、139.58から139.78の範囲で入力してください。",
    "Post a voice": "声を投稿する",
    "Tell the ward about a local need, a problem or an idea. Your voice is published with your public name and "
    "goes to the department in charge.":
        "地域のニーズや困りごと、アイデアを区に伝えてください。声は公開名とともに公開され、担当部署に届きます。",
    "Address or place": "住所または場所",
    "A short sentence, for example “The crossing near the station has no signal”.":
        "短い一文で。例：「駅前の横断歩道に信号がない」",
    "What happens, where and when, and what would help. You can use Markdown.":
        "いつ・どこで・何が起きているか、何があると助かるかを書いてください。Markdownが使えます。",
    "No particular area": "特定の地域なし",
    "Where (optional)": "場所（任意）",
    "Give a point on the map in decimal degrees (you can copy it from a map app), or an address or place name, "
    "or leave both empty.":
        "地図上の地点を十進の度で（地図アプリからコピーできます）、または住所や場所の名前を入力してください。どちらも空欄でもかまいません。",
    "For example 35.7512 (from %(low)s to %(high)s).": "例：35.7512（%(low)s〜%(high)s）",
    "For example 139.7093 (from %(low)s to %(high)s).": "例：139.7093（%(low)s〜%(high)s）",
    "Photos (optional)": "写真（任意）",
    "Up to %(max)s photos (PNG, JPEG, GIF or WebP, at most 10 MB each). Describe each photo for people who cannot "
    "see it.":
        "写真は%(max)s枚まで（PNG、JPEG、GIF、WebP、各10MBまで）。見えない方のために、写真ごとに説明を書いてください。",
    "Photo %(n)s": "写真%(n)s",
    "Description of photo %(n)s": "写真%(n)sの説明",
    "Keep the location stored in the photos": "写真に記録された位置情報を残す",
    "Photos from phones often record where they were taken. We remove that unless you tick this box.":
        "スマートフォンの写真には撮影場所が記録されていることがあります。このボックスにチェックしない限り、位置情報は削除します。",
    "Post the voice": "声を投稿する",
    # the list
    "Local needs, problems and ideas raised by residents. Support the ones that matter to you; the ward's "
    "department in charge answers here in public.":
        "区民が寄せた、地域のニーズ・困りごと・アイデアです。大切だと思う声を応援してください。区の担当部署がここで公開で答えます。",
    "Sign in to post a voice": "ログインして声を投稿する",
    "Follow new voices in your feed reader (Atom)": "新しい声をフィードリーダーで受け取る（Atom）",
    "New residents' voices (Atom feed)": "新しいまちの声（Atomフィード）",
    "Filter and sort voices": "声の絞り込みと並べ替え",
    "All statuses": "すべての状態",
    "Most supported": "応援の多い順",
    "Show voices": "声を表示",
    "Showing %(first)s–%(last)s of %(total)s voices": "%(total)s件中 %(first)s〜%(last)s件目の声",
    "No voices match these filters.": "条件に合う声はありません。",
    "Pages of voices": "声のページ",
    "Show all voices": "すべての声を表示",
    "No voices have been posted yet.": "まだ声は投稿されていません。",
    ("%(n)s supporter", "%(n)s supporters"): "応援 %(n)s人",
    ("%(n)s comment", "%(n)s comments"): "コメント %(n)s件",
    # a voice's page
    "Support this voice": "この声を応援する",
    ("%(n)s person supports this voice", "%(n)s people support this voice"): "%(n)s人がこの声を応援しています",
    "You support this voice": "この声を応援しています",
    "Withdraw my support": "応援を取り消す",
    "Sign in to support this voice": "ログインしてこの声を応援する",
    "Report this voice": "この声を通報する",
    "The voice you opened was merged into this one, with its supporters.":
        "開いた声は、応援とともにこの声に統合されました。",
    "This voice was merged into another one.": "この声は別の声に統合されました。",
    "Posted by %(name)s on %(date)s": "%(name)s さんが %(date)s に投稿",
    "In charge: %(name)s": "担当：%(name)s",
    "Linked challenge:": "関連する課題：",
    "Where": "場所",
    "Point on the map: latitude %(lat)s, longitude %(lng)s": "地図上の地点：緯度 %(lat)s、経度 %(lng)s",
    "What the ward did": "区の対応",
    "Received": "受付",
    "Answer from the ward": "区からの回答",
    "Passed to %(name)s": "%(name)s に引き継ぎ",
    "Department in charge changed": "担当部署が変わりました",
    "A similar voice (no. %(id)s) was merged with this one, with its supporters":
        "似た声（No. %(id)s）を、応援とともにこの声に統合しました",
    "Linked to the challenge": "次の課題に結び付けました：",
    "Linked to a challenge": "課題に結び付けました",
}
