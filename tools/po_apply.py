"""Fill Japanese translations into the ja catalog from a Python dict file (developer tool).

Usage: python tools/po_apply.py translations.py   (a file defining JA = {msgid: msgstr, ...};
plural entries are keyed by the singular msgid). Existing translations are kept unless listed.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

CATALOG = Path(__file__).resolve().parent.parent / "cocreate/translations/ja/LC_MESSAGES/messages.po"


def main() -> None:
    table = runpy.run_path(sys.argv[1])["JA"]
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    for message in catalog:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in table:
            message.string = (table[key],) if isinstance(message.id, tuple) else table[key]
            message.flags.discard("fuzzy")
    missing = [
        m.id for m in catalog if m.id and not (m.string[0] if isinstance(m.string, tuple) else m.string)
    ]
    with CATALOG.open("wb") as handle:
        write_po(handle, catalog, width=0, omit_header=False, sort_output=True)
    for msgid in missing:
        print("untranslated:", msgid)


if __name__ == "__main__":
    main()
