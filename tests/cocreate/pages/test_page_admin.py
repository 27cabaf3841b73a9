"""Administrators edit the site pages: every save is a new revision with who and when; nobody else may."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Forbidden, SignInRequired
from cocreate.audit.models import AuditEntry
from cocreate.errors import Invalid
from cocreate.i18n import gettext, using_locale
from cocreate.pages import services
from cocreate.pages.models import PageRevision, SitePage
from cocreate.pages.seed import FIRST_VERSION
from tests.cocreate.accounts.self_service_helpers import new_client, post
from tests.factories import actor, create_department, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="editing pages is Python over plain rows")


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


@pytest.fixture
def admin(session: Session) -> User:
    return create_user(session, "admin@example.jp", display_name="管理者 一郎", roles=[Role.ADMIN])


@pytest.fixture
def admin_client(app: Litestar, admin: User) -> TestClient[Litestar]:
    client = new_client(app)
    sign_in(client, admin)
    return client


def revisions(session: Session, page: SitePage) -> list[PageRevision]:
    session.expire_all()
    return list(session.exec(select(PageRevision).where(PageRevision.page == page)
                             .order_by(col(PageRevision.id))).all())


def form_for(session: Session, page: SitePage, **changes: object) -> dict[str, object]:
    current = services.current(session, page).revision
    return {"title_ja": current.title_ja, "title_en": current.title_en, "body_ja": current.body_ja,
            "body_en": current.body_en, "note": "", "base_revision_id": str(current.id)} | changes


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


# --- the service ---------------------------------------------------------------------------------


def test_each_save_is_a_new_revision_with_who_and_when(session: Session, admin: User) -> None:
    first = services.current(session, SitePage.ABOUT).revision
    saved = services.save(session, actor(session, admin), SitePage.ABOUT, services.PageForm(
        **form_for(session, SitePage.ABOUT, body_ja=first.body_ja + "\n\n追記です。\r\n", note="追記")))  # type: ignore[arg-type]
    rows = revisions(session, SitePage.ABOUT)
    assert [r.id for r in rows] == [first.id, saved.id]
    assert rows[0].body_ja == first.body_ja  # the earlier text is kept as it was
    assert rows[1].body_ja.endswith("追記です。") and "\r" not in rows[1].body_ja
    assert (rows[1].created_by_id, rows[1].note, rows[1].version) == (admin.id, "追記", None)
    assert services.current(session, SitePage.ABOUT).revision.id == saved.id
    history = services.history(session, actor(session, admin), SitePage.ABOUT)
    assert [(row.revision.id, row.author.id if row.author else None) for row in history.items] == [
        (saved.id, admin.id), (first.id, None)]
    assert audit_actions(session)[-1] == "page.revised"


def test_a_correction_keeps_the_version_and_a_new_version_gets_a_dated_label(session: Session, admin: User) -> None:
    admin_actor = actor(session, admin)
    fixed = services.save(session, admin_actor, SitePage.TERMS, services.PageForm(
        **form_for(session, SitePage.TERMS, title_en="Terms of Use")))  # type: ignore[arg-type]
    assert (fixed.version, fixed.new_version) == (FIRST_VERSION, False)
    first_new = services.save(session, admin_actor, SitePage.TERMS, services.PageForm(
        **form_for(session, SitePage.TERMS, body_ja="新しい規約です。", new_version=True)))  # type: ignore[arg-type]
    second_new = services.save(session, admin_actor, SitePage.TERMS, services.PageForm(
        **form_for(session, SitePage.TERMS, body_ja="さらに新しい規約です。", new_version=True)))  # type: ignore[arg-type]
    assert first_new.new_version and second_new.new_version
    assert first_new.version and len(first_new.version) == 10 and first_new.version != FIRST_VERSION
    assert second_new.version == f"{first_new.version}-2"
    assert audit_actions(session)[-2:] == ["page.new_version", "page.new_version"]
    # Pages people do not agree to have no versions, whatever the form says.
    about = services.save(session, admin_actor, SitePage.CONTACT, services.PageForm(
        **form_for(session, SitePage.CONTACT, body_en="Call us.", new_version=True)))  # type: ignore[arg-type]
    assert (about.version, about.new_version) == (None, False)


@pytest.mark.parametrize("persona", ["anonymous", "resident", "staff", "moderator"])
def test_only_administrators_read_or_save_in_the_service(session: Session, persona: str) -> None:
    if persona == "anonymous":
        who = actor(session, None)
        refused: type[Exception] = SignInRequired
    else:
        roles = {"resident": [], "staff": [(Role.STAFF, create_department(session).id)],
                 "moderator": [Role.MODERATOR]}[persona]
        who = actor(session, create_user(session, f"{persona}@example.jp", roles=roles))  # type: ignore[arg-type]
        refused = Forbidden
    before = revisions(session, SitePage.TERMS)
    with pytest.raises(refused):
        services.save(session, who, SitePage.TERMS, services.PageForm(
            **form_for(session, SitePage.TERMS, body_ja="乗っ取り")))  # type: ignore[arg-type]
    with pytest.raises(refused):
        services.overview(session, who)
    with pytest.raises(refused):
        services.history(session, who, SitePage.TERMS)
    with pytest.raises(refused):
        services.revision(session, who, SitePage.TERMS, before[0].id)  # type: ignore[arg-type]
    assert revisions(session, SitePage.TERMS) == before


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"body_ja": "   "}, "body_ja", "Write the page in Japanese."),
    ({"body_en": ""}, "body_en", "Write the page in English."),
    ({"title_ja": ""}, "title_ja", "Enter the title in Japanese."),
    ({"title_en": "x" * 101}, "title_en", "Use at most %(max)s characters."),
    ({"body_en": "x" * 50_001}, "body_en", "Use at most %(max)s characters."),
    ({"note": "n" * 301}, "note", "Use at most %(max)s characters."),
    ({"title_ja": "改行\u0007"}, "title_ja", "This field contains characters that cannot be used."),
    ({}, "body_ja", "Nothing has changed since the current revision."),
])
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    session: Session, admin: User, changes: dict[str, str], field: str, message: str
) -> None:
    before = revisions(session, SitePage.PRIVACY)
    with using_locale("ja"), pytest.raises(Invalid) as failed:
        services.save(session, actor(session, admin), SitePage.PRIVACY,
                      services.PageForm(**form_for(session, SitePage.PRIVACY, **changes)))  # type: ignore[arg-type]
    limit = {"title_en": 100, "body_en": 50_000, "note": 300}.get(field)
    assert failed.value.errors[field] == ja(message, **({"max": limit} if limit else {}))
    assert revisions(session, SitePage.PRIVACY) == before
    assert not [a for a in audit_actions(session) if a.startswith("page.")]


def test_a_save_over_a_newer_revision_is_refused_not_lost(session: Session, admin: User) -> None:
    stale = form_for(session, SitePage.HELP, body_en="My long edit.")
    services.save(session, actor(session, admin), SitePage.HELP, services.PageForm(
        **form_for(session, SitePage.HELP, body_en="Someone else's edit.")))  # type: ignore[arg-type]
    with pytest.raises(Invalid) as failed:
        services.save(session, actor(session, admin), SitePage.HELP, services.PageForm(**stale))  # type: ignore[arg-type]
    assert "conflict" in failed.value.errors
    assert services.current(session, SitePage.HELP).revision.body_en == "Someone else's edit."


# --- the pages -----------------------------------------------------------------------------------


def test_the_admin_edits_a_page_and_reads_its_history(admin_client: TestClient[Litestar], session: Session,
                                                      admin: User) -> None:
    listing = admin_client.get("/admin/pages")
    assert listing.status_code == 200 and 'id="page-terms-edit"' in listing.text and FIRST_VERSION in listing.text
    form = admin_client.get("/admin/pages/about/edit")
    assert form.status_code == 200 and "事業者ヒアリング" in form.text and 'name="base_revision_id"' in form.text
    assert 'name="new_version"' not in form.text  # only the terms and the privacy policy have versions
    assert 'name="new_version"' in admin_client.get("/admin/pages/terms/edit").text

    saved = post(admin_client, "/admin/pages/about/edit", form_for(session, SitePage.ABOUT, title_ja="コクリエ板橋とは",
                                                                   note="題名を変更"))
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/pages/about/revisions"
    history = admin_client.get("/admin/pages/about/revisions")
    assert ja("%(page)s was saved.", page=ja("About this site")) in history.text
    new = revisions(session, SitePage.ABOUT)[-1]
    assert f'id="revision-{new.id}"' in history.text and "管理者 一郎" in history.text and "題名を変更" in history.text
    assert ja("Set up with the site") in history.text  # the seeded first revision
    assert "コクリエ板橋とは" in admin_client.get("/about?lang=ja").text

    first = revisions(session, SitePage.ABOUT)[0]
    earlier = admin_client.get(f"/admin/pages/about/revisions/{first.id}")
    assert earlier.status_code == 200 and "<h1" in earlier.text and "事業者ヒアリング" in earlier.text
    assert f'href="/admin/pages/about/edit?start={first.id}"' in earlier.text
    restoring = admin_client.get(f"/admin/pages/about/edit?start={first.id}")
    assert 'value="このサイトについて"' in restoring.text and f'name="base_revision_id" value="{new.id}"' in restoring.text
    assert admin_client.get("/admin/pages/about/revisions/999999").status_code == 404
    assert admin_client.get("/admin/pages/imprint/revisions").status_code == 404


def test_bad_input_on_the_page_gets_a_translated_error_and_keeps_the_text(admin_client: TestClient[Litestar],
                                                                          session: Session) -> None:
    before = revisions(session, SitePage.TERMS)
    response = post(admin_client, "/admin/pages/terms/edit",
                    form_for(session, SitePage.TERMS, body_en="", body_ja="書きかけの本文", new_version="yes"))
    assert response.status_code == 400
    assert ja("Write the page in English.") in response.text and 'href="#field-body_en"' in response.text
    assert "書きかけの本文" in response.text and 'name="new_version" value="yes" checked' in response.text
    assert revisions(session, SitePage.TERMS) == before


def test_a_conflict_on_the_page_keeps_the_text_and_builds_on_the_newest(admin_client: TestClient[Litestar],
                                                                        session: Session, admin: User) -> None:
    stale = form_for(session, SitePage.CONTACT, body_ja="私の長い編集")
    services.save(session, actor(session, admin), SitePage.CONTACT, services.PageForm(
        **form_for(session, SitePage.CONTACT, body_ja="別の人の編集")))  # type: ignore[arg-type]
    newest = revisions(session, SitePage.CONTACT)[-1]
    response = post(admin_client, "/admin/pages/contact/edit", stale)
    assert response.status_code == 400 and 'id="field-conflict"' in response.text
    assert "私の長い編集" in response.text and f'name="base_revision_id" value="{newest.id}"' in response.text
    assert post(admin_client, "/admin/pages/contact/edit", stale | {"base_revision_id": str(newest.id)}).status_code == 303
    assert services.current(session, SitePage.CONTACT).revision.body_ja == "私の長い編集"


@pytest.mark.parametrize("roles", [[], [Role.MODERATOR], [Role.COORDINATOR]])
def test_non_admins_are_refused_by_the_routes(app: Litestar, session: Session, roles: list[Role]) -> None:
    user = create_user(session, "someone@example.jp", roles=roles)
    client = new_client(app)
    sign_in(client, user)
    before = session.exec(select(func.count()).select_from(PageRevision)).one()
    for path in ("/admin/pages", "/admin/pages/terms/edit", "/admin/pages/terms/revisions"):
        assert client.get(path).status_code == 403, path
    assert post(client, "/admin/pages/terms/edit", form_for(session, SitePage.TERMS, body_ja="x")).status_code == 403
    assert session.exec(select(func.count()).select_from(PageRevision)).one() == before


def test_the_admin_navigation_links_to_the_site_pages(admin_client: TestClient[Litestar]) -> None:
    assert 'id="admin-nav-pages"' in admin_client.get("/admin").text


@pytest.mark.databases("sqlite", "postgresql", why="the one-successor rule is a unique constraint of each database")
def test_a_revision_has_one_successor_even_when_saves_race(session: Session, admin: User) -> None:
    """Two editors who pass the check at the same moment: the database lets only one save build on the text."""
    current = services.current(session, SitePage.ABOUT).revision
    first = PageRevision(page=SitePage.ABOUT, title_ja="a", title_en="a", body_ja="a", body_en="a",
                         based_on_id=current.id, created_by_id=admin.id)
    session.add(first)
    session.commit()
    session.add(PageRevision(page=SitePage.ABOUT, title_ja="b", title_en="b", body_ja="b", body_en="b",
                             based_on_id=current.id, created_by_id=admin.id))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()
    assert [r.id for r in revisions(session, SitePage.ABOUT)] == [current.id, first.id]
    saved = services.save(session, actor(session, admin), SitePage.ABOUT, services.PageForm(
        **form_for(session, SitePage.ABOUT, body_en="c")))  # type: ignore[arg-type]
    assert saved.based_on_id == first.id
