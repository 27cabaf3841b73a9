"""New messages of the support desk (issue 18 item 4, branch ``desk``) with their Japanese, to merge into the
catalogue. The plural message ("Record %(n)s opinion" / "Record %(n)s opinions") has one Japanese form.
Some labels were on main untranslated (the channels, the voice statuses, "Support desk"): included here."""

JA = {
    # on main, untranslated until now
    "Support desk": "窓口代理入力",
    "Online": "オンライン",
    "Entered by the ward from a paper form": "紙の用紙から区が代理入力",
    "Entered by the ward from a workshop": "ワークショップから区が代理入力",
    "Entered by the ward from a phone call": "電話から区が代理入力",
    "Received": "受付",
    "Under consideration": "検討中",
    "Became a challenge": "課題化",
    "Addressed": "対応済み",
    "Not taken up": "対応しない",
    # services and forms
    "Choose how the opinion reached the ward.": "意見をどのように受け付けたか選んでください。",
    "Write the resident's opinion.": "区民の意見を入力してください。",
    "At most %(max)s opinions can be entered at once.": "一度に入力できる意見は%(max)s件までです。",
    "This file cannot be read as CSV text. Save it from your spreadsheet as \"CSV UTF-8\" or \"CSV\" and try again.":
        "このファイルはCSVのテキストとして読み込めません。表計算ソフトで「CSV UTF-8」または「CSV」形式で保存し直してください。",
    "The file is too large: at most %(size)s kB.": "ファイルが大きすぎます（%(size)s kBまで）。",
    "The columns of the file do not match. The first line must name the columns: %(expected)s.":
        "ファイルの列が合っていません。1行目に次の列名を書いてください：%(expected)s。",
    "The file has too many rows: at most %(max)s opinions at once.": "ファイルの行数が多すぎます。一度に%(max)s件までです。",
    "QR code of the page's address: %(url)s": "このページのアドレスのQRコード：%(url)s",
    "How it reached the ward": "受付方法",
    "Paper form": "紙の用紙",
    "Workshop": "ワークショップ",
    "Phone call": "電話",
    "Choose the challenge the opinions are about.": "意見の対象となる課題を選んでください。",
    "Choose…": "選んでください…",
    "Not specified": "指定なし",
    "The resident's voice was recorded.": "区民の声を登録しました。",
    "Confirm that the resident agreed to the publication of their opinion.": "区民が意見の公開に同意したことを確認してください。",
    "The resident's opinion was recorded.": "区民の意見を登録しました。",
    "Choose the CSV file to import.": "取り込むCSVファイルを選んでください。",
    "Enter at least one opinion.": "意見を1件以上入力してください。",
    "No row can be recorded: correct the rows and check them again.": "登録できる行がありません。行を直してもう一度確認してください。",
    "%(count)s opinions were recorded.": "%(count)s件の意見を登録しました。",
    "Enter a title for the voice.": "声のタイトルを入力してください。",
    "Write what the resident said.": "区民の話した内容を入力してください。",
    "Choose one of the ward's areas, or leave it empty.": "区内の地域から選ぶか、空欄のままにしてください。",
    "Private note for the ward: %(note)s": "区の内部メモ：%(note)s",
    # the administrators' counts
    "Online and assisted entries": "オンライン投稿と代理入力",
    "Voices and comments posted online, and those the support desk entered for residents (代理入力), by how they reached the ward.":
        "オンラインで投稿された声・コメントと、窓口が区民に代わって入力したもの（代理入力）の件数（受付方法別）。",
    "Voices": "まちの声",
    "Entered by the support desk, all channels": "代理入力の合計",
    # page links
    "Taking part without the internet": "インターネットを使わずに参加する",
    "Printable A4 sheet with a QR code": "QRコード付きA4印刷用シート",
    "Record an opinion for a resident": "区民の意見を代理入力",
    "Record a workshop's opinions": "ワークショップの意見をまとめて入力",
    # desk forms
    "How did the opinion reach the ward?": "意見をどのように受け付けましたか",
    "Shown publicly instead of a name: “Entered by the ward from a paper form”, “… from a workshop” or “… from a phone call”.":
        "名前の代わりに「紙の用紙から区が代理入力」「ワークショップから…」「電話から…」と公開されます。",
    "Private note for the ward (optional)": "区の内部メモ（任意）",
    "For example the paper form's number. Only the support desk and ward staff see it; it is never published.":
        "例：用紙の番号。窓口と区職員だけが見られ、公開されることはありません。",
    "The resident consented to the publication of this opinion (without their name).":
        "区民はこの意見の公開（名前なし）に同意しました。",
    "Required. The time of the consent is recorded.": "必須です。同意の日時を記録します。",
    "A workshop's voices at once": "ワークショップの声をまとめて入力",
    "A workshop's opinions on a challenge at once": "課題へのワークショップの意見をまとめて入力",
    "Type the opinions in the rows below, or import a CSV file. Nothing is recorded yet: the next page shows every row with what is wrong with it, and you then record the valid rows (or nothing). At most %(max)s opinions at once.":
        "下の行に意見を入力するか、CSVファイルを取り込んでください。この時点ではまだ登録されません。次のページで全行と各行の問題点を確認してから、問題のない行を登録します（登録しないこともできます）。一度に%(max)s件までです。",
    "Challenges that take comments now.": "現在コメントを受け付けている課題です。",
    "Type the opinions": "意見を入力する",
    "Leave the rows you do not need empty.": "使わない行は空欄のままにしてください。",
    "Row": "行",
    "Address or place (optional)": "住所・場所（任意）",
    "The resident's opinion": "区民の意見",
    "Row %(n)s: title": "%(n)s行目：タイトル",
    "Row %(n)s: description": "%(n)s行目：内容",
    "Row %(n)s: category": "%(n)s行目：分野",
    "Row %(n)s: area": "%(n)s行目：地域",
    "Row %(n)s: address or place": "%(n)s行目：住所・場所",
    "Row %(n)s: the resident's opinion": "%(n)s行目：区民の意見",
    "Row %(n)s: private note": "%(n)s行目：内部メモ",
    "Check the rows": "入力した行を確認する",
    "More rows": "行を増やす",
    "Or import a CSV file": "またはCSVファイルを取り込む",
    "Save the sheet from Excel or another spreadsheet as “CSV UTF-8” or “CSV” (Shift_JIS); both are read. The first line names the columns, in any order:":
        "Excelなどの表計算ソフトで「CSV UTF-8」または「CSV」（Shift_JIS）形式で保存してください。どちらも読み込めます。1行目に列名を書きます（順不同）：",
    "Columns of the CSV file": "CSVファイルの列",
    "Column": "列名",
    "Also accepted": "日本語の列名",
    "What to write": "書く内容",
    "Required. A short title, up to 120 characters.": "必須。短いタイトル（120文字まで）。",
    "Required. What the resident said, up to 4,000 characters.": "必須。区民の話した内容（4,000文字まで）。",
    "Required. One of the categories, by name (e.g. 防災・防犯) or code (e.g. disaster_safety).":
        "必須。分野の名前（例：防災・防犯）またはコード（例：disaster_safety）。",
    "Optional. One of the ward's areas, by name or code.": "任意。区内の地域の名前またはコード。",
    "Optional. An address or a place, up to 200 characters.": "任意。住所や場所（200文字まで）。",
    "Optional. A private note for the ward, e.g. the sticky note's number; never published.":
        "任意。区の内部メモ（例：付箋の番号）。公開されません。",
    "Download an empty template (CSV)": "空のひな形をダウンロード（CSV）",
    "CSV file (at most %(kb)s kB)": "CSVファイル（%(kb)s kBまで）",
    "Check the file": "ファイルを確認する",
    "Record an opinion on a challenge": "課題への意見を代理入力",
    "Type what the resident wrote or said. No account is needed: the comment is published without a name, marked as entered by the ward.":
        "区民が書いたこと、話したことを入力してください。アカウントは不要です。コメントは名前なしで、区が代理入力したことを示して公開されます。",
    "Record the opinion": "意見を登録する",
    "Record residents' voices and opinions on their behalf, from a paper form, a workshop or a phone call (代理入力). Record only what a resident agreed to have published: their name is never shown; the page says that the ward entered it, and from what.":
        "紙の用紙、ワークショップ、電話で受け付けた区民の声や意見を、区民に代わって入力します（代理入力）。公開に同意を得たものだけを入力してください。名前は表示されず、区がどの方法で受け付けて入力したかが表示されます。",
    "Record a resident's voice": "区民の声を代理入力",
    "A local need, problem or idea (まちの声), one at a time.": "地域の困りごと・要望・アイデア（まちの声）を1件ずつ。",
    "A comment on a challenge that takes comments now, one at a time.": "コメント受付中の課題へのコメントを1件ずつ。",
    "Many rows in a form, or a CSV file, checked row by row before anything is recorded.":
        "複数行のフォームまたはCSVファイルで。登録前に1行ずつ確認します。",
    "Recently recorded": "最近の代理入力",
    "Recorded": "登録日時",
    "What": "内容",
    "Private note": "内部メモ",
    "Opinion on a challenge": "課題への意見",
    "Voice": "まちの声",
    "Nothing recorded yet.": "まだ登録はありません。",
    "Check before recording": "登録前の確認",
    "%(total)s rows: %(valid)s can be recorded, %(invalid)s have errors and will be left out.":
        "%(total)s行：%(valid)s行を登録できます。%(invalid)s行は問題があるため登録されません。",
    "To record the rows with errors too, go back, correct them (or the file) and check again.":
        "問題のある行も登録するには、戻って行（またはファイル）を直し、もう一度確認してください。",
    "Every row": "すべての行",
    "Check": "確認結果",
    "OK": "OK",
    "Every resident whose opinion is in the rows consented to its publication (without their name).":
        "これらの行の意見を出したすべての区民が、公開（名前なし）に同意しました。",
    "Record %(n)s opinion": "%(n)s件の意見を登録する",
    "Record nothing and start again": "登録せずにやり直す",
    "%(title)s (printable sheet)": "%(title)s（印刷用シート）",
    "This page is an A4 sheet to print and post at ward facilities: use your browser's Print command.":
        "このページは区の施設に掲示するためのA4シートです。ブラウザの印刷機能で印刷してください。",
    "Challenge (課題) of Itabashi ward: tell us what you think": "板橋区の課題：ご意見をお聞かせください",
    "A resident's voice (まちの声) in Itabashi ward": "板橋区のまちの声",
    "How to take part": "参加のしかた",
    "QR code linking to this page": "このページへのQRコード",
    "Read it in full and comment online: scan the QR code or open this address.":
        "全文を読んでオンラインでコメントするには、QRコードを読み取るか、このアドレスを開いてください。",
    "Read it in full, support it and comment online: scan the QR code or open this address.":
        "全文を読んでオンラインで賛同・コメントするには、QRコードを読み取るか、このアドレスを開いてください。",
    "No internet? Write your opinion below and hand this sheet in at a community centre (地域センター) or the ward office. The ward's support desk enters it for you; it is published without your name, marked as entered by the ward from a paper form.":
        "インターネットを使わない方は、下の欄にご意見を書いて、地域センターまたは区役所にお出しください。区の窓口が代わりに入力し、お名前なしで「紙の用紙から区が代理入力」と示して公開します。",
    "Your opinion": "ご意見",
    "Area where you live, work or study (optional):": "お住まい・お勤め・通学先の地域（任意）：",
    "I agree that my opinion is published on cocreate without my name.": "私の意見が名前なしでcocreateに公開されることに同意します。",
    "For the ward: form number": "区記入欄：用紙番号",
    "entered on": "入力日",
    "Type what the resident wrote or said. No account is needed: the voice is published without a name, marked as entered by the ward.":
        "区民が書いたこと、話したことを入力してください。アカウントは不要です。声は名前なしで、区が代理入力したことを示して公開されます。",
    "Record the voice": "声を登録する",
}
