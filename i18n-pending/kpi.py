"""New messages of KPI tracking over time (labs/kpis.py, labs/kpi_routes.py, labs/kpi_datasets.py, the KPI
rules in labs/permissions.py, the trial form's numbers, templates/labs/*kpi*, templates/mail/kpi_*.txt), with
their Japanese."""

JA = {
    "Enter the date of the measurement.": "計測日を入力してください。",
    "Enter the measured value.": "計測値を入力してください。",
    "The date of a measurement cannot be in the future.": "計測日に未来の日付は入力できません。",
    "The date is too long before the trial: enter a date from %(date)s.":
        "実証の開始より前すぎる日付です。%(date)s 以降の日付を入力してください。",
    "%(count)s confirmed measurements from %(first)s to %(last)s; the latest is %(value)s. "
    "Baseline: %(baseline)s; target: %(target)s.":
        "%(first)s から %(last)s までの確認済みの計測値 %(count)s 件。最新の値は %(value)s です。"
        "現状値：%(baseline)s、目標値：%(target)s。",
    "No confirmed measurements yet.": "確認済みの計測値はまだありません。",
    "Measured value": "計測値",
    "Date measured": "計測日",
    "Choose whether to confirm the measurement or send it back.": "計測値を確認するか、差し戻すかを選んでください。",
    "Say why the measurement is sent back, so that it can be corrected.":
        "訂正できるよう、差し戻す理由を入力してください。",
    "A measurement of “%(indicator)s” (%(trial)s) waits for your confirmation.":
        "「%(indicator)s」（%(trial)s）の計測値が確認を待っています。",
    "KPI measurement to confirm: %(trial)s": "KPIの計測値の確認のお願い：%(trial)s",
    "Your measurement of “%(indicator)s” (%(trial)s) was confirmed.":
        "「%(indicator)s」（%(trial)s）の計測値が確認されました。",
    "Your measurement of “%(indicator)s” (%(trial)s) was sent back.":
        "「%(indicator)s」（%(trial)s）の計測値が差し戻されました。",
    "About your KPI measurement: %(trial)s": "KPIの計測値について：%(trial)s",
    "KPI measurements of your department's trials to confirm": "所属部署の実証のKPI計測値の確認依頼",
    "Decisions on your organisations' KPI measurements": "所属団体のKPI計測値の確認結果",
    "Enter a number, for example 1,250 or 12.5.": "数値を入力してください（例：1,250、12.5）。",
    "The measurement has been sent to the department in charge for confirmation.":
        "計測値を担当部署に送りました。確認をお待ちください。",
    "The measurement has been confirmed and is now public.": "計測値を確認しました。公開されています。",
    "The measurement has been sent back to the organisation.": "計測値を団体に差し戻しました。",
    "The corrected measurement has been sent for confirmation again.": "訂正した計測値を、もう一度確認に送りました。",
    "KPI measurements of trials": "実証のKPI計測値",
    "One row per dated measurement of a published trial's KPI, entered by the organisation running the trial "
    "and confirmed by the department in charge. Measurements not confirmed (waiting or sent back) are left out, "
    "and so are notes and who entered or confirmed them.":
        "公開されている実証のKPIの計測値（計測日ごと）を1行ずつ収録しています。実証を行う団体が入力し、担当部署が"
        "確認したものです。確認されていない計測値（確認待ち・差し戻し）と、メモ、入力者・確認者は含みません。",
    "Number of the measurement": "計測値の番号",
    "Number of the trial": "実証の番号",
    "Title of the trial": "実証の名称",
    "Number of the KPI": "KPIの番号",
    "What the KPI measures": "KPIの指標",
    "Unit of the values": "値の単位",
    "Date of the measurement": "計測日",
    "The KPI's baseline as a number (empty if none)": "KPIの現状値（数値。ない場合は空欄）",
    "The KPI's target as a number (empty if none)": "KPIの目標値（数値。ない場合は空欄）",
    "When the department confirmed the measurement": "担当部署が計測値を確認した日時",
    "Only members of the organisations running this trial can enter its measurements.":
        "計測値を入力できるのは、この実証を行う団体のメンバーだけです。",
    "Only a measurement that was sent back can be corrected.": "訂正できるのは、差し戻された計測値だけです。",
    "Only staff of the department in charge of this trial can confirm its measurements.":
        "計測値を確認できるのは、この実証の担当部署の職員だけです。",
    "This measurement has already been decided.": "この計測値はすでに確認または差し戻しが済んでいます。",
    "A KPI that has measurements cannot be removed.": "計測値のあるKPIは削除できません。",
    "KPIs of the trials": "実証のKPI",
    "KPIs over time": "KPIの推移",
    "Measurements entered by the organisations running the trial and confirmed by the department in charge.":
        "実証を行う団体が入力し、担当部署が確認した計測値です。",
    "KPIs of every trial": "すべての実証のKPI",
    "Latest confirmed value": "確認済みの最新の値",
    "Progress towards the target": "目標への進捗",
    "Enter a measurement": "計測値を入力する",
    "Measurements not confirmed yet": "まだ確認されていない計測値",
    "Only the organisations running the trial and the department in charge see this list.":
        "この一覧は、実証を行う団体と担当部署だけに表示されます。",
    "Value": "値",
    "Entered by": "入力者",
    "Sent back": "差し戻し",
    "Every measurement has been confirmed.": "すべての計測値が確認済みです。",
    "The department in charge confirms the measurement before it is shown in the chart.":
        "計測値は、担当部署が確認してからグラフに表示されます。",
    "Send for confirmation": "確認に送る",
    "Not in the future (today is %(today)s).": "未来の日付は入力できません（今日は %(today)s です）。",
    "A number, for example 1,250 or 12.5.": "数値（例：1,250、12.5）",
    "How it was measured, or anything the department should know. Markdown can be used.":
        "計測の方法など、担当部署に伝えたいこと。Markdownが使えます。",
    "KPI measurement": "KPIの計測値",
    "Confirmed": "確認済み",
    "Why it was sent back": "差し戻しの理由",
    "Confirm or send back": "確認または差し戻し",
    "A confirmed measurement becomes public in the trial's chart and open data. "
    "Send it back with a reason if it needs correcting.":
        "確認した計測値は、実証のグラフとオープンデータで公開されます。訂正が必要な場合は、理由を添えて差し戻してください。",
    "Reason for sending it back": "差し戻しの理由",
    "Needed only when you send the measurement back.": "差し戻す場合にだけ入力してください。",
    "Confirm": "確認する",
    "Send back": "差し戻す",
    "Correct the measurement": "計測値を訂正する",
    "Send the correction for confirmation": "訂正を確認に送る",
    "What every trial measures, where it started, what it aims at and the latest value the department in charge "
    "has confirmed.":
        "それぞれの実証が何を計測しているか、現状値と目標値、担当部署が確認した最新の値を一覧にしています。",
    "KPIs of %(title)s": "%(title)s のKPI",
    "This trial has no KPIs yet.": "この実証にはまだKPIがありません。",
    "Baseline as a number (for the chart)": "現状値（グラフ用の数値）",
    "Leave empty to use the number in the baseline text.": "空欄の場合は、現状値の文字から数値を読み取ります。",
    "Target as a number (for the chart)": "目標値（グラフ用の数値）",
    "Leave empty to use the number in the target text.": "空欄の場合は、目標値の文字から数値を読み取ります。",
    "The organisation running the trial “%(trial)s” has sent a measurement of “%(indicator)s” for confirmation: "
    "%(value)s %(unit)s, measured on %(date)s.":
        "実証「%(trial)s」を行う団体から、「%(indicator)s」の計測値の確認依頼が届きました：%(value)s %(unit)s"
        "（計測日 %(date)s）。",
    "Confirm it, or send it back with a reason, here:": "こちらから確認するか、理由を添えて差し戻してください：",
    "You receive this e-mail because you are staff of the department in charge of this trial.":
        "このメールは、あなたがこの実証の担当部署の職員であるため送信しています。",
    "The department in charge has confirmed the measurement of “%(indicator)s” (%(value)s %(unit)s, measured on "
    "%(date)s) of the trial “%(trial)s”. It is now shown in the trial's chart.":
        "担当部署が、実証「%(trial)s」の「%(indicator)s」の計測値（%(value)s %(unit)s、計測日 %(date)s）を"
        "確認しました。実証のグラフに表示されています。",
    "The department in charge has sent back the measurement of “%(indicator)s” (%(value)s %(unit)s, measured on "
    "%(date)s) of the trial “%(trial)s”.":
        "担当部署が、実証「%(trial)s」の「%(indicator)s」の計測値（%(value)s %(unit)s、計測日 %(date)s）を"
        "差し戻しました。",
    "You can correct it and send it again here:": "こちらから訂正して、もう一度送ることができます：",
    "You receive this e-mail because you are a member of an organisation running this trial.":
        "このメールは、あなたがこの実証を行う団体のメンバーであるため送信しています。",
}
