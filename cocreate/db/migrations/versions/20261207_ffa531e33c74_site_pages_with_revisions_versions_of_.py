"""site pages with revisions; versions of the terms and privacy policy agreed to

Revision ID: ffa531e33c74
Revises: f40ef9672730
Create Date: 2026-12-07 06:48:41.308128
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cocreate.db.base
from cocreate.pages.seed import seed_rows

revision: str = 'ffa531e33c74'
down_revision: str | None = 'f40ef9672730'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('page_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page', sa.Enum('terms', 'privacy', 'about', 'help', 'accessibility', 'contact', name='sitepage', native_enum=False, length=20), nullable=False),
    sa.Column('title_ja', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('title_en', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('body_ja', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('new_version', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', cocreate.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['page_revision.id'], name=op.f('fk_page_revision_based_on_id_page_revision')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_page_revision_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_revision')),
    sa.UniqueConstraint('page', 'based_on_id', name=op.f('uq_page_revision_page_based_on_id'))
    )
    with op.batch_alter_table('page_revision', schema=None) as batch_op:
        batch_op.create_index('ix_page_revision_page_id', ['page', 'id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('privacy_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))

    # Every page starts with its seeded text; the terms and the privacy policy at version 2026-11, the
    # version every consent recorded so far refers to. The table as it is at this revision, not the model.
    page_revision = sa.table(
        'page_revision',
        sa.column('page', sa.String), sa.column('title_ja', sa.String), sa.column('title_en', sa.String),
        sa.column('body_ja', sa.Text), sa.column('body_en', sa.Text), sa.column('version', sa.String),
        sa.column('new_version', sa.Boolean), sa.column('note', sa.String), sa.column('created_by_id', sa.Integer),
        sa.column('created_at', cocreate.db.base.UTCDateTime(timezone=True)),
    )
    op.bulk_insert(page_revision, seed_rows())

    # The versions each user last agreed to, from their consent records (the newest of each document).
    for document in ('terms', 'privacy'):
        op.execute(sa.text(
            f"UPDATE user_account SET {document}_version = (SELECT consent.version FROM consent "
            f"WHERE consent.user_id = user_account.id AND consent.document = '{document}' "
            "ORDER BY consent.id DESC LIMIT 1)"
        ))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('privacy_version')
        batch_op.drop_column('terms_version')

    with op.batch_alter_table('page_revision', schema=None) as batch_op:
        batch_op.drop_index('ix_page_revision_page_id')

    op.drop_table('page_revision')
