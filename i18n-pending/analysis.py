"""New messages of the opinion analysis ("what we heard"), with their Japanese (issue 18 item 5).

Template messages with variables are written as Babel extracts them (``%(n)s``); plural forms give the
singular and the plural msgid, both to the same Japanese.
"""

JA = {
    "Analyse the opinions": "意見を分析する",
    "Analyses you started": "開始した分析",
    "Characteristic words:": "特徴的な語：",
    "Choose a period of at most three years.": "期間は3年以内で選んでください。",
    "Choose a topic": "トピックを選択",
    "Choose a topic from the list.": "一覧からトピックを選んでください。",
    "Choose the topic to keep.": "残すトピックを選んでください。",
    "Choose the topic to merge into it.": "統合するトピックを選んでください。",
    "Choose two different topics.": "異なる2つのトピックを選んでください。",
    "Choose what to analyse.": "分析する対象を選んでください。",
    "Enter a name for the topic.": "トピックの名前を入力してください。",
    "Enter the first day of the period.": "期間の初日を入力してください。",
    "Enter the last day of the period.": "期間の最終日を入力してください。",
    "Failed": "失敗",
    "First day": "初日",
    "For the staff in charge: group the questions, comments and linked voices into topics, then review and "
    "publish them.": "担当職員向け：質問・コメント・関連するまちの声をトピックに分類し、確認してから公開します。",
    "Grouped on the ward's own server by the words the texts share (no text was sent elsewhere). Topic names "
    "were reviewed by the ward's staff.":
        "区のサーバー上で、文章に共通する語をもとに分類しました（文章を外部に送信していません）。"
        "トピック名は区の職員が確認しました。",
    "Keep this topic": "残すトピック",
    "Last day": "最終日",
    "Merge two topics": "2つのトピックを統合",
    "Name of the topic": "トピック名",
    "Next page": "次のページ",
    "Not published: only the staff in charge see this page.": "未公開：このページは担当職員だけが見られます。",
    "Opinion analysis": "意見分析",
    "Pages": "ページ",
    "Previous page": "前のページ",
    "Publish “What we heard”": "「いただいた声」を公開",
    "Published on %(date)s.": "%(date)sに公開しました。",
    "Publishing shows the topics, their counts and quotes to everyone, linked from the subject's page.":
        "公開すると、トピック・件数・引用が誰でも見られるようになり、対象のページからリンクされます。",
    "Ready for review": "確認待ち",
    "Reload to see the progress": "再読み込みして進み具合を見る",
    "Rename": "名前を変更",
    "Share": "割合",
    "Start the analysis": "分析を開始",
    "Texts": "件数",
    "Texts per topic": "トピックごとの件数",
    "The analysis failed. Start it again; if it fails again, tell the system administrator.":
        "分析に失敗しました。もう一度開始してください。再び失敗する場合はシステム管理者に連絡してください。",
    "The analysis groups residents' comments, questions and voices into topics, each with its characteristic "
    "words and a few quotes. It runs on the ward's own server: no text leaves it. Start it for a challenge "
    "from the challenge's page, or here for the voices of a period.":
        "区民のコメント・質問・まちの声をトピックに分類し、それぞれの特徴的な語といくつかの引用を示します。"
        "分析は区のサーバー上で行い、文章を外部に送りません。課題の分析は課題のページから、"
        "期間内のまちの声の分析はここから開始します。",
    "The analysis has not finished yet.": "分析はまだ終わっていません。",
    "The analysis has started. This page shows its progress.": "分析を開始しました。このページで進み具合を確認できます。",
    "The page “What we heard” is no longer public.": "「いただいた声」のページを非公開にしました。",
    "The page “What we heard” is now public.": "「いただいた声」のページを公開しました。",
    "The page “What we heard” is public.": "「いただいた声」のページは公開中です。",
    "The topic has been renamed.": "トピックの名前を変更しました。",
    "The topics have been merged.": "トピックを統合しました。",
    "The ward read %(n)s comment, question or voice and grouped them into topics by the words they share.":
        "区は%(n)s件のコメント・質問・まちの声を読み、共通する語をもとにトピックに分類しました。",
    "The ward read %(n)s comments, questions and voices and grouped them into topics by the words they share.":
        "区は%(n)s件のコメント・質問・まちの声を読み、共通する語をもとにトピックに分類しました。",
    "There were no texts to group.": "分類する文章がありませんでした。",
    "Topic": "トピック",
    "Topics": "トピック",
    "Topics and the number of texts in each": "トピックとそれぞれの件数",
    "Voices from %(start)s to %(end)s": "%(start)sから%(end)sまでのまちの声",
    "Voices in a period": "期間内のまちの声",
    "Waiting to start": "開始待ち",
    "What residents said about this challenge, grouped into topics": "この課題に寄せられた区民の声（トピック別）",
    "What residents said: opinion analysis": "区民の声の分析",
    "What we heard": "いただいた声",
    "Withdraw the page": "ページを非公開にする",
    "You have not started an analysis yet.": "まだ分析を開始していません。",
    "and merge this one into it": "統合するトピック",
    "published on %(date)s": "%(date)s公開",
    "%(n)s text": "%(n)s件",
    "%(n)s texts": "%(n)s件",
    "%(n)s text was grouped into %(topics)s topics.": "%(n)s件の文章を%(topics)s個のトピックに分類しました。",
    "%(n)s texts were grouped into %(topics)s topics.": "%(n)s件の文章を%(topics)s個のトピックに分類しました。",
    "%(percent)s%% done": "%(percent)s%%完了",
    "Running": "実行中",
}
