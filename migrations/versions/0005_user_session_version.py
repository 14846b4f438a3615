"""users get a session version, so signing out, a new password or deactivation ends sessions

A session stores the version it signed in with (`"<id>:<version>"`) and is refused once the
user's version has moved on. Existing users start at 0; sessions signed in before this
revision stored a bare id and must sign in again once.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
