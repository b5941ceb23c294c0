"""members: the name without accents or case, to sort and search by

"Área Metropolitana de Cúcuta" sorted after "Zhengzhou" (by code point), and a search for
"cucuta" did not find it. Each member keeps its name folded (accents and case taken away, as
core.inputs.folded does), indexed; existing members get theirs here.

Revision ID: 0034_member_sort_name
Revises: 0033_contribution_rate_places
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0034_member_sort_name"
down_revision = "0033_contribution_rate_places"
branch_labels = None
depends_on = None


def _folded(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def upgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sort_name", sa.String(length=160), nullable=True))
    bind = op.get_bind()
    for member_id, name in bind.execute(sa.text("SELECT id, name FROM member")).all():
        bind.execute(sa.text("UPDATE member SET sort_name = :s WHERE id = :id"), {"s": _folded(name), "id": member_id})
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("sort_name", existing_type=sa.String(length=160), nullable=False)
        batch_op.create_index(batch_op.f("ix_member_sort_name"), ["sort_name"], unique=False)


def downgrade():
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_sort_name"))
        batch_op.drop_column("sort_name")
