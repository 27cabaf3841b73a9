JA = {
    # cocreate/stats (charts, summaries, CSV headings)
    "New accounts": "新規アカウント",
    ", ": "、",
    "%(label)s: %(count)s": "%(label)s %(count)s",
    "Participation by month": "月ごとの参加",
    "New accounts and contributions in each of the last %(n)s months, from %(first)s to %(last)s. Totals: %(totals)s.":
        "%(first)sから%(last)sまでの%(n)sか月の、月ごとの新規アカウントと投稿の数です。合計：%(totals)s。",
    "Participation per challenge": "課題ごとの参加",
    "Questions, proposals, comments, votes and briefing registrations on each of the %(n)s newest published challenges.":
        "公開された新しい課題%(n)s件それぞれへの質問、提案、コメント、投票、説明会申込の数です。",
    "From challenges to results": "課題から成果まで",
    "How far ideas have come: %(steps)s.": "アイデアがどこまで進んだか：%(steps)s。",
    "Number": "件数",
    "Step": "段階",
    "Other places": "その他の地域",
    "People by area and age band": "地域・年代別の参加者",
    "Accounts whose profile gives an area or an age band, by area and age band. To protect privacy, counts below %(n)s are not shown, nor are other counts from which they could be worked out.":
        "プロフィールに地域または年代を入力したアカウントの数を、地域・年代別に示します。個人が特定されないよう、%(n)s未満の数と、そこから計算で割り出せてしまう数は表示しません。",
    "fewer than %(n)s": "%(n)s未満",
    "Total": "合計",
    "Test-field utilisation by month": "実証フィールドの月別利用率",
    "For each test field, the share of the days it could be booked on which an approved booking used it, in each of the last %(n)s months.":
        "実証フィールドごとに、予約できる日のうち承認済みの予約で使われた日の割合を、直近%(n)sか月の月ごとに示します。",
    "Test-field days booked and available": "実証フィールドの利用日数と利用可能日数",
    "Over the last %(n)s months: days with an approved booking, and days the field could be booked (its weekly hours, less whole days closed).":
        "直近%(n)sか月の、承認済みの予約があった日数と、予約できた日数（毎週の利用可能時間のある日から、終日利用できない日を除いたもの）です。",
    "Days booked": "利用日数",
    "Days available": "利用可能日数",
    "There is no such table of statistics.": "その統計表はありません。",
    "The statistics are being recomputed. Reload this page in a minute to see them.":
        "統計を再計算しています。1分ほどしてからこのページを再読み込みしてください。",
    "Questions asked": "質問",
    "Challenges published": "公開された課題",
    "Votes": "投票",
    "Briefing registrations": "説明会申込",
    # the open dataset
    "Statistics of participation": "参加の統計",
    "The numbers of the statistics page: new accounts, comments, proposals, votes and residents' voices by month; the funnel from challenges to published results; people by area and age band from the profiles that give them. Counts of people below the page's threshold are left empty (suppressed), as are the others from which they could be worked out.":
        "統計ページの数値です。月ごとの新規アカウント、コメント、提案、投票、まちの声の数、課題から成果公開までの各段階の数、プロフィールに入力された地域・年代別の人数を含みます。ページのしきい値未満の人数と、そこから割り出せてしまう数は空欄（秘匿）にしています。",
    "Which table: participation (by month), funnel, or people_by_area_and_age_band.":
        "どの表か：participation（月別の参加）、funnel（課題から成果まで）、people_by_area_and_age_band（地域・年代別の人数）。",
    "The month (YYYY-MM, Japan time) for participation; empty otherwise.": "月（YYYY-MM、日本時間）。participation以外は空欄です。",
    "The area (a ward area's code, or the text people gave), or empty.": "地域（区の地域コード、または入力された文字列）。該当しない場合は空欄です。",
    "What is counted (accounts, comments, votes…; a funnel step; an age band).":
        "数えているもの（アカウント、コメント、投票など。段階。年代）。",
    "The count; empty when suppressed.": "件数。秘匿した場合は空欄です。",
    "Whether the count is withheld to protect privacy.": "プライバシー保護のために件数を秘匿したかどうか。",
    # pages, navigation, administration
    "Statistics": "統計",
    "Statistics for ward staff": "職員向け統計",
    "The same charts as the public statistics, with the numbers not yet public: private questions, decisions not yet published, trials and test fields not yet published.":
        "公開の統計と同じグラフに、まだ公開されていない数（非公開の質問、未公表の採否、未公開の実証プロジェクトと実証フィールド）を含めて示します。",
    "See the public statistics": "公開の統計を見る",
    "How residents, organisations and the ward take part in cocreate: each chart has its numbers in a table beside it, and each table downloads as CSV.":
        "区民、組織、区がcocreateにどのように参加しているかを示します。各グラフには数値の表を添えており、表はCSVでダウンロードできます。",
    "As of %(when)s. The numbers are recomputed every hour.": "%(when)s時点。数値は1時間ごとに再計算されます。",
    "As of %(when)s.": "%(when)s時点。",
    "Recompute now": "今すぐ再計算",
    "Charts on this page": "このページのグラフ",
    "Download for Excel (CSV, UTF-8 with BOM)": "Excel用にダウンロード（CSV、BOM付きUTF-8）",
    "Participation over time, per challenge, by area and age band, the funnel from challenges to results and test-field utilisation, as charts with their data.":
        "月ごとの参加、課題ごとの参加、地域・年代別の参加者、課題から成果までの進み具合、実証フィールドの利用率を、数値の表付きのグラフで示します。",
}
