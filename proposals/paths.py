"""Paths of proposals pages for code that runs without a request: notifications (stored with their link),
search documents, follow lists, iCalendar files, and the "back" address a section's forms return to.

Pages, redirects, feeds and the API build their links from route names (``url_for`` in templates,
``request.app.route_reverse`` in routes). Code without a request has no app to ask, so each path it
needs is written here once, beside the name of its route; ``tests/proposals/test_links.py`` checks every
helper against ``route_reverse`` of that name.
"""

from __future__ import annotations

CHALLENGES = "/challenges"
"""Where a challenge's pages are: its page is ``{CHALLENGES}/{id}``; the core puts its comments below it
(the ``prefix`` of :data:`proposals.comment_targets.CHALLENGE`)."""
PROPOSALS = "/proposals"
"""Where a proposal's pages are, likewise."""
VOICES = "/voices"
"""Where residents' voices are: a voice's page is ``{VOICES}/{id}`` (its comments below it)."""


def challenge(challenge_id: int) -> str:
    """``challenge-detail``."""
    return f"{CHALLENGES}/{challenge_id}"


def proposal(proposal_id: int) -> str:
    """``proposal-detail``."""
    return f"{PROPOSALS}/{proposal_id}"


def question(challenge_id: int, question_id: int) -> str:
    """``question``: a question's own page."""
    return f"/challenges/{challenge_id}/questions/{question_id}"


def voice(voice_id: int) -> str:
    """``voice-detail``."""
    return f"{VOICES}/{voice_id}"


CHECKED = {
    "challenge-detail": (challenge, {"challenge_id": 1}),
    "proposal-detail": (proposal, {"proposal_id": 1}),
    "question": (question, {"challenge_id": 1, "question_id": 2}),
    "voice-detail": (voice, {"voice_id": 1}),
}
"""Each helper with its route's name and sample parameters (for the test that checks them)."""
