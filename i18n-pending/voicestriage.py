"""New messages of the staff triage of residents' voices, with their Japanese (issue 18 item 2).

A plural message is keyed by its (singular, plural) pair; Japanese has one form for both. The status
labels (Received …) are the data model's msgids (proposals.models.VOICE_STATUS_LABELS), listed here too
because no pending file had them yet.
"""

JA = {
    # staff menu, rules and services
    "Residents' voices to handle": "対応するまちの声",
    "Only staff of the department in charge of this voice can do this.": "この声を担当する部署の職員だけが行えます。",
    "This voice was merged into another one; act on that one instead.": "この声は別の声に統合されました。統合先の声で対応してください。",
    "Only a newly received voice can be acknowledged.": "受付状態の声だけを「検討中」にできます。",
    "Only ward staff can turn voices into challenges.": "声を課題にできるのは区職員だけです。",
    "Give the reason; it is shown publicly with the new status.": "理由を入力してください。新しい状態とともに公開されます。",
    "Choose “Addressed” or “Not taken up”.": "「対応済み」か「対応しない」を選んでください。",
    "Choose a department from the list.": "一覧から部署を選んでください。",
    "Enter the number of another voice.": "別の声の番号を入力してください。",
    "Enter the number of an existing challenge.": "既存の課題の番号を入力してください。",
    "Choose voices from the list.": "一覧から声を選んでください。",
    "Give the challenge a title, written as a wish (「…を実現したい」).": "課題の題名を「…を実現したい」という願いの形で入力してください。",
    "This voice already has this status.": "この声はすでにこの状態です。",
    "This department is already in charge of this voice.": "この部署はすでにこの声の担当です。",
    "A voice cannot be merged into itself.": "声をそれ自身に統合することはできません。",
    "There is no voice with this number.": "この番号の声はありません。",
    "That voice was itself merged into another one; merge into that one instead.":
        "その声は別の声に統合済みです。統合先の声に統合してください。",
    "There is no challenge with this number.": "この番号の課題はありません。",
    "This voice is already linked to this challenge.": "この声はすでにこの課題に結び付いています。",
    "This challenge was born from these residents' voices:": "この課題は、次のまちの声から生まれました：",
    "Choose at least one voice.": "声を1件以上選んでください。",
    "Choose at most %(max)s voices.": "選べる声は%(max)s件までです。",
    # notifications and e-mail
    "Your voice “%(title)s” is now “%(status)s”.": "あなたの声「%(title)s」は「%(status)s」になりました。",
    "A voice you support, “%(title)s”, is now “%(status)s”.": "あなたが賛同した声「%(title)s」は「%(status)s」になりました。",
    "%(status)s: %(title)s": "%(status)s：%(title)s",
    "The ward has answered your voice “%(title)s”.": "あなたの声「%(title)s」に区が回答しました。",
    "The ward has answered a voice you support, “%(title)s”.": "あなたが賛同した声「%(title)s」に区が回答しました。",
    "The ward's answer: %(title)s": "区からの回答：%(title)s",
    "Status changes of your voices and voices you support": "自分の声・賛同した声の状態の変更",
    "The ward's answers to your voices and voices you support": "自分の声・賛同した声への区の回答",
    "The ward has changed the status of your voice “%(title)s”.": "あなたの声「%(title)s」の状態を区が変更しました。",
    "The ward has changed the status of a voice you support, “%(title)s”.":
        "あなたが賛同した声「%(title)s」の状態を区が変更しました。",
    "New status: %(status)s": "新しい状態：%(status)s",
    "Answer:": "回答：",
    "See the voice and what happened so far:": "声とこれまでの経過はこちら：",
    "You receive this e-mail because you posted this voice.": "このメールは、あなたがこの声を投稿したためお送りしています。",
    "You receive this e-mail because you support this voice.": "このメールは、あなたがこの声に賛同したためお送りしています。",
    # status labels (the data model's)
    "Received": "受付",
    "Under consideration": "検討中",
    "Became a challenge": "課題化",
    "Addressed": "対応済み",
    "Not taken up": "対応しない",
    # flash messages
    "The draft challenge was created. It cites the voices it was born from.": "課題の下書きを作成しました。元になった声を引用しています。",
    "The voice is now under consideration. The author and supporters are told.": "この声を「検討中」にしました。投稿者と賛同者に通知します。",
    "The answer was published.": "回答を公開しました。",
    "The voice is now “%(status)s”.": "この声を「%(status)s」にしました。",
    "The voice was given to another department.": "この声を別の部署に引き継ぎました。",
    "The voice was merged into No. %(number)s; its supports were carried over.": "この声をNo. %(number)sに統合し、賛同を引き継ぎました。",
    "The voice was linked to the challenge.": "この声を課題に結び付けました。",
    # the queue
    "All but merged": "統合済み以外すべて",
    "Voices your departments are in charge of, and voices no department has taken yet, newest first. Open a voice "
    "to acknowledge it, answer it, merge a duplicate or link it to a challenge.":
        "あなたの部署が担当する声と、まだどの部署も担当していない声を新しい順に表示します。声を開くと、検討中にする、回答する、"
        "重複を統合する、課題に結び付けることができます。",
    "Voices %(first)s–%(last)s of %(total)s": "声 %(total)s件中 %(first)s〜%(last)s件目",
    "Choose": "選択",
    "Supports": "賛同",
    "Choose “%(title)s”": "「%(title)s」を選択",
    "Not taken yet": "未担当",
    "Turn the chosen voices into a draft challenge": "選んだ声から課題の下書きを作る",
    "The draft cites the voices; they become “Became a challenge” and their authors and supporters are told. Only "
    "your departments see the draft until it is published.":
        "下書きは声を引用し、声は「課題化」になり、投稿者と賛同者に通知されます。公開するまで下書きはあなたの部署だけが見られます。",
    "Written as a wish, e.g. 「駅前の歩道を安全に歩けるようにしたい」.": "願いの形で書きます。例：「駅前の歩道を安全に歩けるようにしたい」。",
    "Create the draft challenge": "課題の下書きを作成",
    "Pages of voices": "声のページ",
    "No voices match these filters.": "条件に合う声はありません。",
    # a voice's staff page and the actions
    "Merged into No. %(number)s": "No. %(number)sに統合",
    "Challenge No. %(number)s": "課題 No. %(number)s",
    "Public page of this voice": "この声の公開ページ",
    "What happened so far (public)": "これまでの経過（公開）",
    "Given to another department": "別の部署に引き継ぎ",
    "No. %(number)s was merged into this voice": "No. %(number)sをこの声に統合",
    "Nothing yet: the voice has just been received.": "まだありません。この声は受け付けたばかりです。",
    "Note to the author (optional, public)": "投稿者へのひとこと（任意・公開）",
    "Acknowledge: under consideration": "受け付けて「検討中」にする",
    "Public answer": "公開の回答",
    "New status": "新しい状態",
    "Choose a status": "状態を選んでください",
    "Reason (public)": "理由（公開）",
    "Change the status": "状態を変更",
    "Link to challenge No.": "結び付ける課題の番号",
    "The number in the challenge's address, /challenges/…": "課題のアドレス /challenges/… の番号",
    "Note (optional, public)": "ひとこと（任意・公開）",
    "Link to the challenge": "課題に結び付ける",
    "Merge into voice No.": "統合先の声の番号",
    "For a duplicate: its supports move to the voice you give here (each person once); its comments stay.":
        "重複した声に使います。賛同はここで指定した声に移ります（1人1回）。コメントはそのまま残ります。",
    "Give to department": "引き継ぐ部署",
    "Reassign": "引き継ぐ",
    "Title of the challenge": "課題の題名",
    "Turns this voice into a draft challenge that cites it. To combine several voices, choose them in the queue.":
        "この声を引用する課題の下書きを作ります。複数の声をまとめるときは、一覧で選んでください。",
    "Create a draft challenge": "課題の下書きを作る",
    # the challenge page
    ("Born from %(n)s resident's voice", "Born from %(n)s residents' voices"): "%(n)s件のまちの声から生まれました",
    ("%(n)s support", "%(n)s supports"): "賛同 %(n)s件",
}
