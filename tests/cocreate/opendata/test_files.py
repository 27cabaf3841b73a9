"""The open data files as a visitor and a data portal get them: the page before and after the first generation,
the formats (CSV, CSV for Excel with its BOM, JSON, the zip), the DCAT catalogue (parsed as JSON-LD by
rdflib, every download address answering), caching headers (ETag, Last-Modified, 304), streaming, the
staff's "generate now" button, and the page's query count."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import rdflib
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.opendata import generate as files
from cocreate.opendata.datasets import Column, Dataset, stream
from cocreate.settings import Settings
from tests.cocreate.opendata.world import build
from tests.factories import create_ward, sign_in
from tests.helpers import QueryLog, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="files on disk and Python; the datasets' SQL is portable")


def _path(url: str) -> str:
    return urlsplit(url).path


def test_before_the_first_generation_the_page_says_so(client: TestClient[Litestar]) -> None:
    page = client.get("/open-data")
    assert page.status_code == 200
    assert 'id="open-data-none"' in page.text
    assert 'id="dataset-comments"' in page.text  # the catalogue of datasets is there all the same
    missing = client.get("/open-data/catalog.jsonld")
    assert missing.status_code == 404


def test_the_files_their_formats_and_headers(client: TestClient[Litestar], session: Session, database: Database,
                                             settings: Settings) -> None:
    build(session)
    files.generate(database, settings)

    page = client.get("/open-data")
    assert page.status_code == 200 and 'id="open-data-none"' not in page.text
    assert 'id="download-zip"' in page.text and 'id="download-comments-csv_excel"' in page.text

    plain = client.get("/open-data/challenges.csv")
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/csv; charset=utf-8")
    assert plain.headers["content-disposition"].startswith('attachment; filename="challenges.csv"')
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(plain.content.decode("utf-8"))))
    assert rows and rows[0]["url"].startswith(settings.base_url + "/challenges/")
    assert rows[0]["published_at"].endswith("Z")

    excel = client.get("/open-data/challenges-excel.csv")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert excel.content.decode("utf-8-sig") == plain.content.decode("utf-8")  # no formula-like cell here

    as_json = client.get("/open-data/proposals.json")
    assert as_json.headers["content-type"].startswith("application/json")
    document = as_json.json()
    assert document["license"] == files.LICENSE_URL and document["row_count"] == len(document["rows"]) >= 1
    assert {column["name"] for column in document["columns"]} == set(document["rows"][0])
    assert set(document["attribution"]) == {"ja", "en"} and "Itabashi" in document["attribution"]["en"]

    bundle = client.get(f"/open-data/{files.ZIP}")
    assert bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = set(archive.namelist())
        assert {"challenges.csv", "challenges.json", "comments.csv", files.README, files.CATALOG} <= names
        assert archive.read("challenges.csv") == plain.content
        assert "CC BY 4.0" in archive.read(files.README).decode("utf-8")

    # Cache validation: the SHA-256 as ETag, the generation time as Last-Modified.
    etag, modified = plain.headers["etag"], plain.headers["last-modified"]
    manifest = json.loads(client.get(f"/open-data/{files.MANIFEST}").content)
    assert etag == f'"{manifest["files"]["challenges.csv"]["sha256"]}"'
    assert client.get("/open-data/challenges.csv", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/open-data/challenges.csv", headers={"if-none-match": '"other"'}).status_code == 200
    assert client.get("/open-data/challenges.csv", headers={"if-modified-since": modified}).status_code == 304
    published = files.current(settings)
    assert published is not None
    earlier = format_datetime(published.generated_at - timedelta(days=1), usegmt=True)
    assert client.get("/open-data/challenges.csv", headers={"if-modified-since": earlier}).status_code == 200
    assert client.get("/open-data/challenges.csv", headers={"if-modified-since": "garbage"}).status_code == 200

    # Only what the manifest lists is served.
    for name in ("..%2Fsecret_key", "secret_key", "cocreate.sqlite3", "nothing.csv"):
        assert client.get(f"/open-data/{name}").status_code == 404


def test_the_excel_variant_keeps_spreadsheets_from_running_formulas(tmp_path: Any) -> None:
    dataset = Dataset("t", "T", "D", (Column("text", "x"), Column("n", "y", "integer")),
                      rows=lambda session: iter([{"text": "=HYPERLINK(\"http://x\")", "n": -3}, {"text": "ok", "n": 1}]))
    count, entries = files.write_dataset(dataset, dataset.rows(None), tmp_path,  # type: ignore[arg-type]
                                         base_url="http://x", modified="2026-01-01T00:00:00Z")
    assert count == 2 and set(entries) == {"t.csv", "t-excel.csv", "t.json"}
    plain = (tmp_path / "t.csv").read_text(encoding="utf-8")
    excel = (tmp_path / "t-excel.csv").read_text(encoding="utf-8-sig")
    assert '"=HYPERLINK(""http://x"")",-3' in plain
    assert '"\'=HYPERLINK(""http://x"")",-3' in excel  # the text guarded, the negative number left alone
    assert json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))["rows"][1] == {"text": "ok", "n": 1}


def test_the_catalogue_is_dcat_and_every_download_answers(client: TestClient[Litestar], session: Session,
                                                          database: Database, settings: Settings) -> None:
    create_ward(session)
    files.generate(database, settings)
    answer = client.get(f"/open-data/{files.CATALOG}")
    assert answer.headers["content-type"].startswith("application/ld+json")
    graph = rdflib.Graph().parse(data=answer.content, format="json-ld")
    dcat, dct = rdflib.Namespace("http://www.w3.org/ns/dcat#"), rdflib.Namespace("http://purl.org/dc/terms/")
    catalogs = list(graph.subjects(rdflib.RDF.type, dcat.Catalog))
    assert len(catalogs) == 1
    datasets = set(graph.objects(catalogs[0], dcat.dataset))
    assert len(datasets) >= 11
    for dataset in datasets:
        assert (dataset, rdflib.RDF.type, dcat.Dataset) in graph
        assert (dataset, dct.license, rdflib.URIRef(files.LICENSE_URL)) in graph
        assert {title.language for title in graph.objects(dataset, dct.title)} == {"ja", "en"}
        assert list(graph.objects(dataset, dct.modified)) and list(graph.objects(dataset, dcat.keyword))
        assert graph.value(dataset, dcat.contactPoint) is not None and graph.value(dataset, dct.publisher) is not None
        distributions = list(graph.objects(dataset, dcat.distribution))
        assert len(distributions) == 3
        for distribution in distributions:
            media = str(graph.value(distribution, dcat.mediaType))
            assert media.startswith("https://www.iana.org/assignments/media-types/")
            url = str(graph.value(distribution, dcat.downloadURL))
            assert url.startswith(settings.base_url + "/open-data/")
            download = client.get(_path(url))
            assert download.status_code == 200, url
            assert int(graph.value(distribution, dcat.byteSize)) == len(download.content)
            assert download.headers["content-type"].split(";")[0] == media.removeprefix(files.IANA)


def test_rows_are_streamed_not_loaded(tmp_path: Any) -> None:
    """A dataset of many rows is written while its generator still runs: rows already yielded are on disk
    before the last one is made (nothing collects them first)."""
    seen_on_disk: list[int] = []
    total = 60_000

    def rows(_session: Any) -> Iterator[dict[str, Any]]:
        for number in range(total):
            if number == total - 1:
                seen_on_disk.append((tmp_path / "big.csv").stat().st_size)
            yield {"n": number, "text": "行" * 20}

    dataset = Dataset("big", "Big", "Many rows", (Column("n", "n", "integer"), Column("text", "t")), rows=rows)
    count, entries = files.write_dataset(dataset, rows(None), tmp_path, base_url="", modified="2026-01-01T00:00:00Z")
    assert count == total
    assert seen_on_disk and seen_on_disk[0] > entries["big.csv"]["size"] * 0.9


def test_stream_reads_a_table_in_chunks(session: Session) -> None:
    from cocreate.accounts.models import Department

    for number in range(25):
        session.add(Department(code=f"d{number}", division_ja="部", section_ja=f"課{number}", division_en="D",
                               section_en=f"S{number}"))
    session.commit()
    import sqlalchemy as sa

    statement = sa.select(Department.id, Department.code)
    got = [code for _id, code in stream(session, statement, Department.id, chunk=10)]
    assert got == [f"d{number}" for number in range(25)]


def test_staff_ask_for_a_generation_and_others_cannot(client: TestClient[Litestar], session: Session) -> None:
    ward = create_ward(session)
    page = client.get("/open-data")
    assert 'id="open-data-generate"' not in page.text
    sign_in(client, ward.resident)
    assert 'id="open-data-generate"' not in client.get("/open-data").text
    refused = client.post("/open-data/generate", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, ward.staff)
    assert 'id="open-data-generate"' in client.get("/open-data").text
    done = client.post("/open-data/generate", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/open-data"
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "opendata.generate_requested")).all()
    assert [entry.actor_id for entry in entries] == [ward.staff.id]
    no_token = client.post("/open-data/generate", data={}, follow_redirects=False)
    assert no_token.status_code == 403


def test_the_page_reads_no_table(client: TestClient[Litestar], session: Session, database: Database,
                                 settings: Settings, query_log: QueryLog) -> None:
    build(session)
    files.generate(database, settings)
    query_log.statements.clear()
    assert client.get("/open-data").status_code == 200
    assert query_log.count <= 2, str(query_log)  # the visitor's session at most; the page itself reads files


def test_administrators_have_the_button_on_their_dashboard(client: TestClient[Litestar], session: Session) -> None:
    ward = create_ward(session)
    sign_in(client, ward.admin)
    dashboard = client.get("/admin")
    assert 'id="admin-open-data-generate"' in dashboard.text
    done = client.post("/open-data/generate", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert done.status_code == 303


def test_a_failed_generation_leaves_the_current_one_whole(session: Session, database: Database,
                                                          settings: Settings) -> None:
    create_ward(session)
    first = files.generate(database, settings)

    def broken(_session: Any) -> Iterator[dict[str, Any]]:
        yield {"n": 1}
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        files.generate(database, settings, [Dataset("broken", "B", "B", (Column("n", "n", "integer"),), rows=broken)])
    current = files.current(settings)
    assert current is not None and current.path == first.path and "broken" not in current.manifest["datasets"]
    assert not list(files.folder(settings).glob(".build-*"))  # the half-written folder is gone

    second = files.generate(database, settings)
    third = files.generate(database, settings)
    kept = sorted(path.name for path in files.folder(settings).glob("gen-*"))
    assert kept == sorted([second.path.name, third.path.name])  # the current one and the one before
    assert files.current(settings).path == third.path  # type: ignore[union-attr]


def test_every_link_of_the_page_answers(client: TestClient[Litestar], session: Session, database: Database,
                                        settings: Settings) -> None:
    from tests.links import check_links

    ward = create_ward(session)
    files.generate(database, settings)
    links, posts = check_links(client, ["/open-data"])
    assert "/open-data/comments-excel.csv" in links and "/open-data/catalog.jsonld" in links and not posts
    sign_in(client, ward.staff)
    _links, posts = check_links(client, ["/open-data"])
    assert posts == {"/open-data/generate"}


EXTRA = [Dataset("extra_numbers", "Extra numbers", "A dataset another component declares.",
                 (Column("n", "A number.", "integer"), Column("day", "A day.", "date")),
                 rows=lambda _session: ({"n": n, "day": None} for n in range(3)), keywords=("追加",))]


def test_a_dataset_any_component_declares_is_published_without_change(client: TestClient[Litestar],
                                                                        database: Database,
                                                                        settings: Settings) -> None:
    from cocreate.components import Component
    from tests.helpers import extra_component

    with extra_component(Component(name="extra", datasets=("tests.cocreate.opendata.test_files:EXTRA",))):
        published = files.generate(database, settings)
        page = client.get("/open-data")
    assert published.manifest["datasets"]["extra_numbers"]["row_count"] == 3
    assert 'id="dataset-extra_numbers"' in page.text and 'href="/open-data/extra_numbers.json"' in page.text
    assert client.get("/open-data/extra_numbers.csv").text == "n,day\r\n0,\r\n1,\r\n2,\r\n"
    catalogue = json.loads(client.get(f"/open-data/{files.CATALOG}").content)
    assert "extra_numbers" in {entry["dct:identifier"] for entry in catalogue["dcat:dataset"]}
