"""Writing the open data files: every dataset of every manifest as CSV, CSV for Excel and JSON, one zip of
everything, the DCAT catalogue and a manifest of what was written.

The files of one generation go to a new folder (``<data>/opendata/.build-…``), renamed when complete
(``gen-<time>``); the ``current`` link is then swapped to it in one ``rename`` (atomic on POSIX), so a
reader sees the previous generation or the new one, never half of one. The generation before stays
for downloads under way; older ones are removed.

Rows are streamed: each dataset's function yields them (reading the database a chunk at a time, see
:func:`cocreate.opendata.datasets.stream`) and each row is written to the three files at once, so no
dataset is ever held in memory. The manifest (``manifest.json``) lists every file with its size, SHA-256
(the ETag it is served with) and media type, and every dataset's row count and update time.

Formats:

- ``<name>.csv``: UTF-8 without BOM, a header row of the column names, CRLF line ends (RFC 4180); empty
  cell for none; date-times in ISO 8601 UTC (``2026-12-07T09:30:00Z``); ``true``/``false``.
- ``<name>-excel.csv``: the same for Excel (ward staff use it): UTF-8 with a byte-order mark, and a text
  cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading ``'``.
- ``<name>.json``: ``{"dataset", "title", "license", "modified", "columns", "rows", "row_count"}``, rows
  as objects keyed by the column names (null for none).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from cocreate import components
from cocreate.db import Database
from cocreate.i18n import lazy_gettext as _l
from cocreate.i18n import using_locale
from cocreate.opendata import pseudonyms
from cocreate.opendata.datasets import Column, Dataset
from cocreate.settings import Settings

LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENSE_NAME = "CC BY 4.0"
PUBLISHER = _l("Itabashi City")
ATTRIBUTION = _l("Source: Itabashi City, cocreate open data (CC BY 4.0)")
CATALOG_TITLE = _l("cocreate open data")
CATALOG_DESCRIPTION = _l("The public data of the Itabashi ward's co-creation platform: challenges, proposals, "
                         "decisions, questions and answers, comments, residents' voices, test fields, trials and "
                         "more, as CSV and JSON.")
LOCALES = ("ja", "en")

FOLDER = "opendata"
CURRENT = "current"
MANIFEST = "manifest.json"
CATALOG = "catalog.jsonld"
README = "README.txt"
ZIP = "cocreate-opendata.zip"
KEEP = 2
"""Generations kept: the current one and the one before (for downloads under way)."""

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8; header=present",
    "csv_excel": "text/csv; charset=utf-8; header=present",
    "json": "application/json",
    "zip": "application/zip",
    "jsonld": "application/ld+json",
    "txt": "text/plain; charset=utf-8",
}
IANA = "https://www.iana.org/assignments/media-types/"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def folder(settings: Settings) -> Path:
    return settings.data_dir / FOLDER


def filenames(name: str) -> dict[str, str]:
    """A dataset's files by kind: ``csv``, ``csv_excel``, ``json``."""
    return {"csv": f"{name}.csv", "csv_excel": f"{name}-excel.csv", "json": f"{name}.json"}


def media_type(filename: str) -> str:
    if filename.endswith(".csv"):
        return MEDIA_TYPES["csv"]
    return MEDIA_TYPES[filename.rsplit(".", 1)[-1]]


# --- reading what was generated ------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """The current generation: its folder and manifest."""

    path: Path
    manifest: dict[str, Any]

    @property
    def generated_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["generated_at"].replace("Z", "+00:00"))

    def file(self, filename: str) -> dict[str, Any] | None:
        """The manifest's entry of ``filename`` (None for a name it does not list: nothing else is served)."""
        return self.manifest["files"].get(filename)

    def dataset(self, name: str) -> dict[str, Any] | None:
        return self.manifest["datasets"].get(name)


def current(settings: Settings) -> Published | None:
    """The current generation, or None before the first one."""
    link = folder(settings) / CURRENT
    try:
        path = link.resolve(strict=True)
        raw = (path / MANIFEST).read_bytes()
        manifest = json.loads(raw)
    except (OSError, ValueError):
        return None
    # The manifest is served too (for data portals' harvesters): its own entry, from its bytes.
    manifest["files"][MANIFEST] = {"size": len(raw), "sha256": hashlib.sha256(raw).hexdigest(),
                                   "media_type": MEDIA_TYPES["json"], "modified": manifest["generated_at"]}
    return Published(path, manifest)


# --- writing -------------------------------------------------------------------------------------


def _utc(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def _json_value(value: Any, column: Column, base_url: str) -> Any:
    if value is None:
        return None
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if column.type == "url" and isinstance(value, str) and value.startswith("/"):
        return base_url + value
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _excel_value(value: Any, column: Column) -> str:
    text = _csv_value(value)
    if column.type in ("string", "url") and text.startswith(FORMULA_START):
        return "'" + text
    return text


class _Hashing(io.RawIOBase):
    """A binary file that keeps the SHA-256 and size of what is written."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self._file.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def _text(binary: _Hashing) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(binary, buffer_size=1 << 16), encoding="utf-8", newline="",
                            write_through=False)


def _entry(filename: str, binary: _Hashing, modified: str) -> dict[str, Any]:
    return {"size": binary.size, "sha256": binary.sha256.hexdigest(), "media_type": media_type(filename),
            "modified": modified}


def _file_entry(path: Path, modified: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 16), b""):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest(), "media_type": media_type(path.name),
            "modified": modified}


def _translated(value: Any) -> dict[str, str]:
    result = {}
    for locale in LOCALES:
        with using_locale(locale):
            result[locale] = str(value)
    return result


def write_dataset(dataset: Dataset, rows: Iterable[dict[str, Any]], target: Path, *, base_url: str,
                  modified: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """Write one dataset's three files into ``target``, one row at a time; (row count, manifest entries)."""
    names = filenames(dataset.name)
    headings = [column.name for column in dataset.columns]
    plain, excel, as_json = (_Hashing(target / names[kind]) for kind in ("csv", "csv_excel", "json"))
    count = 0
    with _text(plain) as plain_text, _text(excel) as excel_text, _text(as_json) as json_text:
        plain_csv = csv.writer(plain_text, lineterminator="\r\n")
        excel_text.write("\ufeff")
        excel_csv = csv.writer(excel_text, lineterminator="\r\n")
        plain_csv.writerow(headings)
        excel_csv.writerow(headings)
        head = {
            "dataset": dataset.name, "title": _translated(dataset.title), "description": _translated(dataset.description),
            "license": LICENSE_URL, "attribution": _translated(ATTRIBUTION), "modified": modified,
            "columns": [{"name": c.name, "type": c.type, "description": _translated(c.description)}
                        for c in dataset.columns],
        }
        json_text.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [')
        for row in rows:
            values = [_json_value(row.get(column.name), column, base_url) for column in dataset.columns]
            plain_csv.writerow([_csv_value(value) for value in values])
            excel_csv.writerow([_excel_value(value, column) for value, column in zip(values, dataset.columns,
                                                                                     strict=True)])
            json_text.write(("," if count else "") + "\n" + json.dumps(dict(zip(headings, values, strict=True)),
                                                                        ensure_ascii=False))
            count += 1
        json_text.write(f'\n], "row_count": {count}}}\n')
    return count, {names[kind]: _entry(names[kind], binary, modified)
                   for kind, binary in (("csv", plain), ("csv_excel", excel), ("json", as_json))}


def _absolute(base_url: str, filename: str) -> str:
    return f"{base_url}/open-data/{filename}"


def catalog(datasets: Sequence[Dataset], manifest: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The DCAT catalogue (JSON-LD) of a generation, after DCAT-AP (and DCAT-AP-JP's use of it): a
    ``dcat:Catalog`` whose ``dcat:Dataset``s each have a ``dcat:Distribution`` per file."""
    def text(value: Any) -> list[dict[str, str]]:
        return [{"@value": label, "@language": locale} for locale, label in _translated(value).items()]

    def when(value: str) -> dict[str, str]:
        return {"@value": value, "@type": "xsd:dateTime"}

    licence = {"@id": LICENSE_URL}
    publisher = {"@type": "foaf:Organization", "foaf:name": text(PUBLISHER)}
    contact = {"@type": "vcard:Organization", "vcard:fn": text(PUBLISHER), "vcard:hasURL": {"@id": f"{base_url}/contact"}}
    page = f"{base_url}/open-data"
    formats = {"csv": ("CSV", "text/csv"), "csv_excel": ("CSV", "text/csv"), "json": ("JSON", "application/json")}
    entries = []
    for dataset in datasets:
        facts = manifest["datasets"].get(dataset.name)
        if facts is None:
            continue
        distributions = []
        for kind, filename in filenames(dataset.name).items():
            entry = manifest["files"][filename]
            label, mime = formats[kind]
            distributions.append({
                "@id": f"{page}#{dataset.name}-{kind}", "@type": "dcat:Distribution",
                "dct:title": f"{dataset.name} ({label}{', Excel' if kind == 'csv_excel' else ''})",
                "dct:format": label, "dcat:mediaType": {"@id": IANA + mime},
                "dcat:downloadURL": {"@id": _absolute(base_url, filename)},
                "dcat:accessURL": {"@id": page},
                "dcat:byteSize": {"@value": str(entry["size"]), "@type": "xsd:nonNegativeInteger"},
                "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                                  "spdx:checksumValue": entry["sha256"]},
                "dct:license": licence, "dct:modified": when(entry["modified"]),
            })
        entries.append({
            "@id": f"{page}#{dataset.name}", "@type": "dcat:Dataset", "dct:identifier": dataset.name,
            "dct:title": text(dataset.title), "dct:description": text(dataset.description),
            "dcat:keyword": list(dataset.keywords), "dct:publisher": publisher, "dcat:contactPoint": contact,
            "dct:license": licence,
            "dct:rights": text(ATTRIBUTION), "dct:modified": when(facts["modified"]),
            "dcat:landingPage": {"@id": page}, "dct:language": [{"@id": "http://id.loc.gov/vocabulary/iso639-1/ja"}],
            "dcat:distribution": distributions,
        })
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/", "xsd": "http://www.w3.org/2001/XMLSchema#",
            "spdx": "http://spdx.org/rdf/terms#", "vcard": "http://www.w3.org/2006/vcard/ns#",
        },
        "@id": _absolute(base_url, CATALOG), "@type": "dcat:Catalog",
        "dct:title": text(CATALOG_TITLE), "dct:description": text(CATALOG_DESCRIPTION),
        "dct:publisher": publisher, "dct:license": licence, "dct:rights": text(ATTRIBUTION),
        "dct:modified": when(manifest["generated_at"]), "foaf:homepage": {"@id": page},
        "dct:language": [{"@id": "http://id.loc.gov/vocabulary/iso639-1/ja"}],
        "dcat:dataset": entries,
    }


def _readme(datasets: Sequence[Dataset], manifest: dict[str, Any]) -> str:
    parts = []
    for locale in LOCALES:
        with using_locale(locale):
            lines = [str(CATALOG_TITLE), "=" * 40, str(CATALOG_DESCRIPTION), "",
                     f"{LICENSE_NAME}: {LICENSE_URL}", str(ATTRIBUTION), f"{manifest['generated_at']}", ""]
            for dataset in datasets:
                facts = manifest["datasets"].get(dataset.name)
                if facts is None:
                    continue
                lines += [f"{dataset.name}.csv / {dataset.name}.json ({facts['row_count']}) {dataset.title}",
                          f"  {dataset.description}"]
                lines += [f"  - {column.name} ({column.type}): {column.description}" for column in dataset.columns]
                lines.append("")
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def generate(database: Database, settings: Settings, datasets: Sequence[Dataset] | None = None,
             now: datetime | None = None) -> Published:
    """Write a new generation of every dataset (by default :func:`cocreate.components.datasets`) and make it
    the current one; what was published."""
    chosen = list(components.datasets() if datasets is None else datasets)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    modified = _utc(moment)
    root = folder(settings)
    root.mkdir(parents=True, exist_ok=True)
    stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
    build = root / f".build-{stamp}-{secrets.token_hex(4)}"
    build.mkdir()
    base_url = settings.base_url.rstrip("/")
    try:
        manifest: dict[str, Any] = {"generated_at": modified, "license": LICENSE_URL, "datasets": {}, "files": {}}
        with pseudonyms.keyed(settings.signing_key()):
            for dataset in chosen:
                with database.reading() as session:
                    count, files = write_dataset(dataset, dataset.rows(session), build, base_url=base_url,
                                                 modified=modified)
                manifest["datasets"][dataset.name] = {"row_count": count, "modified": modified,
                                                      "files": list(files)}
                manifest["files"].update(files)
        (build / README).write_text(_readme(chosen, manifest), encoding="utf-8")
        manifest["files"][README] = _file_entry(build / README, modified)
        (build / CATALOG).write_text(json.dumps(catalog(chosen, manifest, base_url), ensure_ascii=False, indent=1),
                                     encoding="utf-8")
        manifest["files"][CATALOG] = _file_entry(build / CATALOG, modified)
        with zipfile.ZipFile(build / ZIP, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for dataset in chosen:
                for kind in ("csv", "json"):
                    bundle.write(build / filenames(dataset.name)[kind], filenames(dataset.name)[kind])
            bundle.write(build / README, README)
            bundle.write(build / CATALOG, CATALOG)
        manifest["files"][ZIP] = _file_entry(build / ZIP, modified)
        (build / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        final = root / f"gen-{stamp}"
        build.rename(final)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    pointer = root / CURRENT
    if pointer.is_dir() and not pointer.is_symlink():  # a copy of the data folder that followed the link
        pointer.rename(root / f"gen-0-copied-{secrets.token_hex(4)}")  # pruned below, being the oldest name
    link = root / f".link-{secrets.token_hex(4)}"
    os.symlink(final.name, link)
    os.replace(link, root / CURRENT)
    _prune(root, final)
    return Published(final, manifest)


def _prune(root: Path, newest: Path) -> None:
    """Keep the newest generations (and what ``current`` points to); drop builds left by a crash a day ago."""
    try:
        pointed = (root / CURRENT).resolve(strict=True)
    except OSError:
        pointed = newest
    generations = sorted(path for path in root.glob("gen-*") if path.is_dir())
    for path in generations[:-KEEP]:
        if path not in (pointed, newest):
            shutil.rmtree(path, ignore_errors=True)
    stale = datetime.now(UTC) - timedelta(days=1)
    for path in root.glob(".build-*"):
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < stale:
            shutil.rmtree(path, ignore_errors=True)
