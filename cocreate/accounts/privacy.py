"""What "download my data" holds of organisations beyond memberships (listed in the core's manifest): the
organisations the person registered, and the invitations they sent or accepted."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, or_, select

from cocreate.accounts.models import Organisation, OrganisationInvitation, User


def export_organisations_registered(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.exec(select(Organisation).where(Organisation.created_by_id == user.id)
                        .order_by(col(Organisation.id))).all()
    return [{"id": row.id, "name": row.name, "kind": row.kind, "corporate_number": row.corporate_number,
             "address": row.address, "website": row.website, "description": row.description,
             "registered_at": row.created_at, "verified_at": row.verified_at} for row in rows]


def export_organisation_invitations(session: Session, user: User) -> list[dict[str, Any]]:
    """Invitations the person sent (with the address they typed) or accepted; never the link's secret."""
    rows = session.exec(select(OrganisationInvitation, Organisation.name)
                        .join(Organisation, col(Organisation.id) == OrganisationInvitation.organisation_id)
                        .where(or_(OrganisationInvitation.invited_by_id == user.id,
                                   OrganisationInvitation.accepted_by_id == user.id))
                        .order_by(col(OrganisationInvitation.id))).all()
    return [{"organisation_id": row.organisation_id, "organisation": name,
             "sent_by_me": row.invited_by_id == user.id, "accepted_by_me": row.accepted_by_id == user.id,
             "email": row.email if row.invited_by_id == user.id else None, "as_admin": row.as_admin,
             "sent_at": row.created_at, "accepted_at": row.accepted_at, "revoked_at": row.revoked_at}
            for row, name in rows]
