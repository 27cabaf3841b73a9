"""The accounts' typed forms: fields that were not sent, the accounts' own field types, and refusals
that still keep what they must (a failed sign-in's count) now that services run in units of work."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.accounts import admin, oidc, organisations, residency, self_service, services
from cocreate.accounts.models import OrganisationKind, Role, SignInThrottle, User
from cocreate.errors import Invalid
from cocreate.i18n import using_locale
from tests.factories import PASSWORD, create_user
from tests.helpers import csrf_token


def errors_of(form: type, data: dict[str, object]) -> dict[str, str]:
    with using_locale("en"), pytest.raises(Invalid) as failed:
        form.parse(data)  # type: ignore[attr-defined]
    return failed.value.errors


def test_fields_that_were_not_sent_are_refused_like_empty_ones() -> None:
    assert set(errors_of(services.RegistrationForm, {})) == {
        "email", "display_name", "password", "accept_terms", "accept_privacy"}
    assert errors_of(admin.InvitationAcceptForm, {"password": "a good staff password"}) == {
        "accept_terms": "Agree to the terms of use to register.",
        "accept_privacy": "Agree to the privacy policy to register."}
    assert errors_of(admin.GrantForm, {}) == {"role": "Choose a role."}
    assert set(errors_of(admin.StaffInvitationForm, {})) == {"email", "display_name", "department_id"}
    assert set(errors_of(oidc.CompletionForm, {})) == {"display_name", "accept_terms", "accept_privacy"}
    assert set(errors_of(residency.AddressForm, {})) == {"full_name", "postal_code", "address"}
    assert set(errors_of(organisations.OrganisationForm, {})) == {"name", "kind"}
    assert errors_of(organisations.UnverifyForm, {}) == {
        "note": "Give the reason; the organisation's administrators will see it."}
    # Optional fields stay optional.
    assert organisations.VerifyForm.parse({}).note == ""
    assert self_service.ProfileForm.parse({"display_name": "はなこ"}).locale == "ja"


def test_passwords_and_other_values_read_as_sent_are_never_stripped_but_are_cut() -> None:
    form = services.SignInForm.parse({"email": " Hanako@Example.jp ", "password": "  spaced password  ",
                                      "next": ["/a", "/b"]})
    assert (form.email, form.password, form.next) == (" Hanako@Example.jp ", "  spaced password  ", "/a")
    assert len(services.SignInForm.parse({"password": "x" * 5000}).password) == 1000
    registration = services.RegistrationForm.parse({
        "email": " Hanako@Example.JP ", "display_name": " はなこ ", "password": " a password with spaces ",
        "accept_terms": "yes", "accept_privacy": "on"})
    assert registration.email == "hanako@example.jp" and registration.display_name == "はなこ"
    assert registration.password == " a password with spaces "


def test_the_accounts_field_types_keep_their_own_messages() -> None:
    assert errors_of(services.RegistrationForm, {"display_name": "tab\there"})["display_name"] == \
        "The display name contains characters that cannot be used."
    assert errors_of(services.RegistrationForm, {"email": "a" * 300 + "@example.jp"})["email"] == \
        "Enter an e-mail address like name@example.jp."
    assert errors_of(residency.AddressForm, {"postal_code": "100-0001"})["postal_code"] == \
        "Enter a postal code in Itabashi ward (it starts with 173, 174 or 175)."
    assert residency.AddressForm.parse({"full_name": "板橋 花子", "postal_code": "〒１７３－０００４",
                                        "address": "板橋区板橋二丁目"}).postal_code == "173-0004"
    assert errors_of(organisations.OrganisationForm, {"name": "\u202eevil"})["name"] == \
        "The name contains characters that cannot be used."
    organisation = organisations.OrganisationForm.parse({"name": "板橋モビリティ", "kind": "company",
                                                         "corporate_number": "１-１８０３-０１０１-８７７１"})
    assert organisation.kind is OrganisationKind.COMPANY and organisation.corporate_number == "1180301018771"
    assert organisations.OrganisationForm.parse({"name": "x", "kind": "company"}).corporate_number is None
    assert errors_of(admin.DepartmentForm, {"code": "Roads"})["code"].startswith("Use up to 64 lowercase letters")
    assert errors_of(admin.StaffInvitationForm, {"extra_roles": ["reviewer", "root"]})["extra_roles"] == \
        "Choose only from the roles listed."
    assert admin.StaffInvitationForm.parse({"email": "a@example.jp", "display_name": "a", "department_id": "１",
                                            "extra_roles": ["reviewer", "reviewer"]}).extra_roles == [Role.REVIEWER]


@pytest.mark.databases("sqlite", why="the route's answer and what it wrote")
def test_a_registration_without_any_field_is_refused_field_by_field(
    client: TestClient[Litestar], session: Session
) -> None:
    response = client.post("/account/register", data={"_csrf_token": csrf_token(client)})
    assert response.status_code == 400
    for message in ("メールアドレスを入力してください", "表示名を入力してください", "10文字以上",
                    "利用規約への同意", "個人情報の取扱いへの同意"):
        assert message in response.text
    assert session.exec(select(func.count()).select_from(User)).one() == 0


@pytest.mark.databases("sqlite", why="what a refusal keeps is written to the database")
def test_a_refused_sign_in_still_counts_the_failure(session: Session) -> None:
    create_user(session, "hanako@example.jp")
    with pytest.raises(services.SignInFailed) as failed:
        services.authenticate(session, "hanako@example.jp", "wrong password!", "192.0.2.1")
    assert isinstance(failed.value, Invalid) and set(failed.value.errors) == {"email"}
    session.expire_all()
    assert session.get(SignInThrottle, "email:hanako@example.jp|from:192.0.2.1").failures == 1  # type: ignore[union-attr]
    assert session.get(SignInThrottle, "email:hanako@example.jp").failures == 1  # type: ignore[union-attr]
    assert session.get(SignInThrottle, "ip:192.0.2.1").failures == 1  # type: ignore[union-attr]
    assert services.authenticate(session, "hanako@example.jp", PASSWORD, "192.0.2.1").email == "hanako@example.jp"
    session.expire_all()
    # Since issue 17 a sign-in clears this client's count only: the address's own count (every client's
    # failures, a guess spread over many) is not the signing-in person's to clear.
    assert session.get(SignInThrottle, "email:hanako@example.jp|from:192.0.2.1").failures == 0  # type: ignore[union-attr]
    assert session.get(SignInThrottle, "email:hanako@example.jp").failures == 1  # type: ignore[union-attr]
