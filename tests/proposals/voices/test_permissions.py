"""The rules of residents' voices (``voice.*`` in proposals.permissions), by persona and by the voice's state.

The rules read no database: the voice's facts (merged, hidden, whether the actor wrote it) are set here as
:func:`proposals.voices.services.on_voice` reads them from the row. The same rules through the routes:
tests/cocreate/accounts/test_permission_matrix.py; through the services: test_services.py."""

from __future__ import annotations

import pytest

from cocreate import permissions
from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.errors import Forbidden, Invalid, SignInRequired
from proposals.models import Category, Voice, VoiceStatus
from proposals.permissions import OnVoice
from proposals.voices.services import on_voice


def person(*, confirmed: bool = True, blocked: bool = False, roles: frozenset[tuple[Role, int | None]] = frozenset(),
           user_id: int = 1) -> Principal:
    now = utcnow()
    user = User(id=user_id, email=f"p{user_id}@example.jp", display_name="someone",
                email_confirmed_at=now if confirmed else None, blocked_at=now if blocked else None)
    return Principal(user=user, roles=roles)


NOBODY = Principal.anonymous()
RESIDENT = person()
UNCONFIRMED = person(confirmed=False)
BLOCKED = person(blocked=True)
STAFF = person(roles=frozenset({(Role.STAFF, 1)}))
SHOWN = OnVoice()
MINE = OnVoice(author=True)
MERGED = OnVoice(VoiceStatus.MERGED)
HIDDEN = OnVoice(hidden=True)


@pytest.mark.parametrize(("actor", "error"), [(NOBODY, SignInRequired), (UNCONFIRMED, Forbidden),
                                              (BLOCKED, Forbidden), (RESIDENT, None), (STAFF, None)])
def test_who_posts_a_voice(actor: Principal, error: type[Exception] | None) -> None:
    if error is None:
        permissions.require(actor, "voice.post")
    else:
        with pytest.raises(error):
            permissions.require(actor, "voice.post")


@pytest.mark.parametrize(("actor", "target", "error"), [
    (NOBODY, SHOWN, SignInRequired), (UNCONFIRMED, SHOWN, Forbidden), (BLOCKED, SHOWN, Forbidden),
    (RESIDENT, MINE, Forbidden), (RESIDENT, MERGED, Invalid), (RESIDENT, HIDDEN, Invalid),
    (RESIDENT, SHOWN, None), (STAFF, SHOWN, None),
])
def test_who_supports_a_voice(actor: Principal, target: OnVoice, error: type[Exception] | None) -> None:
    decision = permissions.can(actor, "voice.support", target)
    if error is None:
        assert decision
    else:
        with pytest.raises(error):
            decision.require("support")


def test_withdrawing_a_support_and_commenting_follow_the_voices_state() -> None:
    assert permissions.can(RESIDENT, "voice.unsupport", SHOWN) and permissions.can(RESIDENT, "voice.unsupport", MINE)
    assert not permissions.can(NOBODY, "voice.unsupport", SHOWN).allowed
    assert permissions.can(RESIDENT, "voice.unsupport", MERGED).field == "support"
    assert permissions.can(NOBODY, "voice.comment", SHOWN)  # whoever asks: the account is comment.write's
    assert permissions.can(RESIDENT, "voice.comment", MERGED).field == "body"
    assert permissions.can(RESIDENT, "voice.comment", HIDDEN).field == "body"


def test_nobody_reports_their_own_voice() -> None:
    assert permissions.can(RESIDENT, "voice.report", SHOWN)
    assert not permissions.can(RESIDENT, "voice.report", MINE)
    assert permissions.can(NOBODY, "voice.report", SHOWN).sign_in


def test_the_facts_come_from_the_row() -> None:
    voice = Voice(id=5, title="t", body="b", category=Category.ADMIN_DX, author_id=1, department_id=3)
    assert on_voice(RESIDENT, voice) == OnVoice(VoiceStatus.RECEIVED, 3, author=True)
    assert on_voice(person(user_id=2), voice) == OnVoice(VoiceStatus.RECEIVED, 3)
    assert on_voice(NOBODY, voice) == OnVoice(VoiceStatus.RECEIVED, 3)
    voice.status, voice.hidden_at = VoiceStatus.MERGED, utcnow()
    facts = on_voice(person(user_id=2), voice)
    assert facts.merged and facts.hidden and not facts.author
    assert on_voice(NOBODY, Voice(title="t", body="b", category=Category.ADMIN_DX)) == OnVoice()  # an assisted entry
