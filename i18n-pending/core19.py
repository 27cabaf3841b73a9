JA = {
    "No data yet.": "まだデータがありません。",
    "Download the data (CSV)": "データをダウンロード（CSV）",
    "Single choice": "単一選択",
    "Multiple choice": "複数選択",
    "Scale": "段階評価",
    "Free text": "自由記述",
    "Matrix": "マトリクス",
}
