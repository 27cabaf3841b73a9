JA = {
    # cocreate/surveys/results.py, result_routes.py, exports.py
    "This survey does not exist.": "このアンケートは存在しません。",
    "This question does not exist.": "この質問は存在しません。",
    "This question has no chart.": "この質問にはグラフがありません。",
    "These results do not exist or are not public.": "この結果は存在しないか、公開されていません。",
    "%(count)d answered.": "%(count)d件の回答がありました。",
    "Most chose “%(label)s” (%(count)d, %(share)s%%).": "最も多かったのは「%(label)s」（%(count)d件、%(share)s%%）です。",
    "Mean %(mean)s.": "平均は%(mean)sです。",
    "One bar per statement, stacked by answer.": "項目ごとに1本の棒で、回答の内訳を積み上げて示しています。",
    "Answers": "回答数",
    "Choice": "選択肢",
    "Value": "評価",
    "Statement": "項目",
    "Channel": "回答経路",
    "Date answered": "回答日",
    # cocreate/accounts/policy.py
    "The results will be shown here once the survey has closed.": "結果はアンケートの締め切り後にここに公開されます。",
    # cocreate/surveys/opinions.py
    "Survey": "アンケート",
    # cocreate/surveys/datasets.py
    "Survey results": "アンケート結果",
    "One row per question and answer of each survey that has closed with public results: how many chose each "
    "answer (each value of a scale, each answer to each statement of a matrix). Free-text questions give only how "
    "many answered. No individual response and nothing about who answered is included.":
        "結果を公開して締め切ったアンケートの、質問と回答ごとに1行：それぞれの回答（段階評価の各値、マトリクスの各項目への"
        "各回答）を選んだ件数です。自由記述の質問は回答件数のみです。個々の回答や回答者に関する情報は含みません。",
    "The survey's number.": "アンケートの番号。",
    "The survey's title.": "アンケートのタイトル。",
    "The day the survey closed (Japan time).": "アンケートを締め切った日（日本時間）。",
    "Responses to the survey.": "アンケートの回答数。",
    "The question's number in the survey.": "アンケート内の質問番号。",
    "The question.": "質問文。",
    "The kind of question: single, multiple, scale, text or matrix.":
        "質問の種類：single（単一選択）、multiple（複数選択）、scale（段階評価）、text（自由記述）、matrix（マトリクス）。",
    "Responses that answered the question.": "この質問に回答した件数。",
    "Matrix questions: the statement answered; empty otherwise.": "マトリクスの質問では回答した項目。それ以外は空欄。",
    "The choice, or the value of a scale; empty for free text.": "選択肢、または段階評価の値。自由記述では空欄。",
    "Responses that gave this answer (for free text: that answered).": "この回答を選んだ件数（自由記述では回答した件数）。",
    "Percent of those who answered the question (or the statement).": "質問（または項目）に回答した人に占める割合（%）。",
    # templates/surveys/results.html, result_texts.html
    "The survey is still open: only its staff see these results, and they change as answers arrive.":
        "アンケートは受付中です。この結果は担当職員だけに表示され、回答が届くたびに変わります。",
    "These results are not public: only the survey's staff see them.": "この結果は公開されていません。担当職員だけに表示されます。",
    ("%(n)s response", "%(n)s responses"): "回答%(n)s件",
    ", of which %(n)s entered by the support desk": "（うち窓口での代理入力%(n)s件）",
    "Responses per channel": "回答経路ごとの回答数",
    "This survey is anonymous: the results never show who answered.": "このアンケートは匿名です。結果から回答者が分かることはありません。",
    "For the survey's staff": "担当職員向け",
    "The survey's settings": "アンケートの設定",
    "All channels": "すべての回答経路",
    "Show these results": "この条件で表示",
    "Every answer, one row per response:": "すべての回答（1件の回答を1行）：",
    "CSV (UTF-8)": "CSV（UTF-8）",
    "CSV for Excel": "Excel用CSV",
    "Group the free-text answers into topics (\"what we heard\"), then review and publish them.":
        "自由記述の回答を話題ごとにまとめ（「いただいた声」）、確認してから公開します。",
    "Analyse the free-text answers": "自由記述を分析する",
    "Mean: %(mean)s": "平均：%(mean)s",
    "Shares of those who answered": "回答者に占める割合",
    ("%(n)s answer", "%(n)s answers"): "回答%(n)s件",
    "All the answers to this question": "この質問へのすべての回答",
    "Back to the results of “%(title)s”": "「%(title)s」の結果に戻る",
    "Pages of the answers": "回答のページ",
}
