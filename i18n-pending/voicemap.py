"""New msgids of the voicemap branch (issue 18: the voice form's point picker, the voice page's map, the
desk's note on the staff voice page), with their Japanese."""

JA = {
    "The point of your voice": "あなたの声の地点",
    "Point placed: latitude %(lat)s, longitude %(lng)s.": "地点を置きました：緯度 %(lat)s、経度 %(lng)s。",
    "That place is outside the area the ward accepts. Choose a point in or near Itabashi ward.":
        "その場所は受け付けている範囲の外です。板橋区内かその近くの地点を選んでください。",
    "The point was cleared.": "地点を消しました。",
    "Or click or tap the map to place the point: both fields above are filled in. Typing in them moves the point on the map.":
        "または地図をクリック（タップ）して地点を置くこともできます。上の2つの欄に入力されます。欄に入力すると地図上の地点が動きます。",
    "Map for choosing the point of your voice": "声の地点を選ぶための地図",
    "Use the centre of the chosen area": "選んだ地域の中心にする",
    "Clear the point": "地点を消す",
    "The point of this voice": "この声の地点",
    "Map showing the point of this voice (latitude %(lat)s, longitude %(lng)s)":
        "この声の地点を示す地図（緯度 %(lat)s、経度 %(lng)s）",
    "How it reached the ward": "区に届いた方法",
    "Consent to publish recorded": "公開への同意を記録した日時",
    "Private note for the ward": "区のための非公開メモ",
}
