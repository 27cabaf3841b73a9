"""New messages of the map of everything (/map), with their Japanese (issue 18 item 3)."""

JA = {
    "Map": "地図",
    "Residents' voices": "まちの声",
    "What is happening where in the ward: residents' voices, challenges, test fields and trials. The list below "
    "shows every place on the map, grouped by kind.":
        "区内のどこで何が起きているか：まちの声、課題、実証フィールド、実証プロジェクト。下の一覧には、地図上のすべての場所を"
        "種類ごとに示しています。",
    "Filter the map": "地図の絞り込み",
    "Test fields have no category: choosing one leaves them out.": "実証フィールドには分野がないため、分野を選ぶと表示されません。",
    "Show on the map": "地図に表示",
    "Skip the map: go to the list of places": "地図を飛ばして場所の一覧へ",
    "Map of the places listed below": "下の一覧にある場所の地図",
    "Legend": "凡例",
    "Approximate place: the centre of the area": "おおよその位置（地域の中心）",
    "Each marker is a button: reach it with Tab and open it with Enter. The list below has the same places.":
        "各マーカーはボタンです。Tabキーで移動し、Enterキーで開けます。下の一覧にも同じ場所があります。",
    "The map could not be loaded. The list below shows every place.":
        "地図を読み込めませんでした。下の一覧ですべての場所をご覧いただけます。",
    "Places on the map": "地図上の場所",
    "Places: %(number)s": "場所：%(number)s件",
    "%(area)s (approximate: the centre of the area)": "%(area)s（おおよその位置：地域の中心）",
    "Nothing here matches the filters.": "条件に合うものはありません。",
    "Showing the first %(number)s.": "最初の%(number)s件を表示しています。",
    "More in the list of %(label)s": "%(label)sの一覧でさらに見る",
    "%(count)s places here: zoom in to see them": "ここに%(count)s件の場所があります。拡大すると表示されます",
}
