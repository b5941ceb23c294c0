"""The schema the migrations build is the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fundapp.extensions import db

pytestmark = pytest.mark.sqlite


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_constraints_follow_the_naming_convention(app):
    names = [c.name for t in db.metadata.sorted_tables for c in t.constraints if c.name]
    assert names and all(n.startswith(("pk_", "fk_", "uq_", "ck_")) for n in names)
