JA = {
    "You get everything cocreate holds about you and everything you did on it: your profile, the terms you agreed "
    "to, your roles and organisations, linked sign-in services, residency verification requests, your proposals, "
    "comments, likes, votes and questions, reports, briefing registrations, voices, what you follow, your "
    "notifications and their settings, your applications to trials, booking requests, trial updates, reviews and "
    "what you entered at a support desk.":
        "cocreate があなたについて保持しているデータと、あなたが cocreate で行ったことのすべてを受け取れます。"
        "プロフィール、同意した規約、役割と所属団体、連携したログインサービス、区民確認の申請、提案、コメント、"
        "いいね、投票、質問、通報、説明会の申込み、まちの声、フォロー、通知とその設定、実証への参加申込み、"
        "利用申請、実証の進捗報告、審査、窓口で代理入力した内容です。",
    "A zip file by e-mail (JSON and CSV)": "メールでZIPファイルを受け取る（JSONとCSV）",
    "We prepare a zip file with one JSON file of everything, one CSV file for each kind of data (for spreadsheets "
    "such as Excel) and a README that explains the files, in Japanese and English. When it is ready, we e-mail you "
    "a link. The link works for %(days)s days and only when you are signed in to this account; the file is then "
    "deleted.":
        "すべてのデータをまとめたJSONファイル1つ、データの種類ごとのCSVファイル（Excelなどの表計算ソフト用）、"
        "ファイルの説明（日本語と英語のREADME）を入れたZIPファイルを用意します。用意ができたら、リンクをメールで"
        "お送りします。リンクは%(days)s日間、このアカウントでログインしているときだけ使えます。その後ファイルは"
        "削除されます。",
    "We are preparing your data (asked for on %(when)s). We will e-mail you a link when it is ready. Reload this "
    "page to see whether it is ready.":
        "データを用意しています（%(when)sに受付）。用意ができたらリンクをメールでお送りします。"
        "このページを再読み込みすると、用意ができたか確認できます。",
    "Your data is ready. The link works until %(until)s.": "データの用意ができました。リンクは%(until)sまで使えます。",
    "Download your data (zip)": "データをダウンロード（ZIP）",
    "Your last download link has expired and its file has been deleted. You can ask for a new one.":
        "前回のダウンロードリンクは期限が切れ、ファイルは削除されました。もう一度申し込めます。",
    "Your last request could not be prepared. Please ask again.":
        "前回のお申込みは用意できませんでした。もう一度お申し込みください。",
    "Prepare a zip file and e-mail me a link": "ZIPファイルを用意してリンクをメールで受け取る",
    "One JSON file now": "今すぐJSONファイル1つで受け取る",
    "You get one JSON file with everything at once, for programs and for moving your data elsewhere.":
        "すべてのデータを1つのJSONファイルですぐに受け取れます。プログラムでの利用や、他のサービスへの移行に使えます。",
    "We are preparing your data. We will e-mail you a link when it is ready.":
        "データを用意しています。用意ができたらリンクをメールでお送りします。",
    "Your data is already being prepared. We will e-mail you a link when it is ready.":
        "データはすでに用意しているところです。用意ができたらリンクをメールでお送りします。",
    "Your cocreate data is ready to download": "cocreate のデータのダウンロードの用意ができました",
    "The copy of your data that you asked for is ready. Open this link, signed in to cocreate, to download it:":
        "お申込みいただいたデータの用意ができました。cocreate にログインした状態で、次のリンクからダウンロードしてください。",
    "The link works for %(days)s days and only for your own account; the file is then deleted. The file contains "
    "personal data: keep it somewhere safe. If you did not ask for this, change your password.":
        "リンクは%(days)s日間、ご本人のアカウントでのみ使えます。その後ファイルは削除されます。ファイルには個人情報が"
        "含まれますので、安全な場所に保管してください。お心当たりがない場合は、パスワードを変更してください。",
}
