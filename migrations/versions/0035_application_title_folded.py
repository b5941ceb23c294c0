"""applications: the title without accents or case, for the staff list's search

Staff searching "creches" did not find "Crèches de marché", and on SQLite "Étude" typed exactly
did not find "Étude sur le travail domestique" (its lower() folds ASCII only). Each application
keeps its title folded (accents and case taken away, as core.inputs.folded does); existing
applications get theirs here.

Revision ID: 0035_application_title_folded
Revises: 0034_member_sort_name
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0035_application_title_folded"
down_revision = "0034_member_sort_name"
branch_labels = None
depends_on = None


def _folded(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_folded", sa.String(length=300), nullable=False, server_default=""))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, title FROM application WHERE title <> ''")).all()
    for application_id, title in rows:
        bind.execute(
            sa.text("UPDATE application SET title_folded = :t WHERE id = :id"),
            {"t": _folded(title)[:300], "id": application_id},
        )


def downgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("title_folded")
