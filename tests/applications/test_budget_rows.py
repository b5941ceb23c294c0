"""Saving a draft updates its budget lines in place, position by position: an unchanged line keeps
its row (and id) and writes nothing, a changed one is updated, rows beyond the new budget go and
new lines are added at the end."""

import sqlalchemy as sa

from fundapp.applications import operations
from fundapp.applications.models import BudgetLine
from fundapp.extensions import db

from .. import factories as f


def _lines(application):
    return [
        (ln.id, ln.category, ln.description, ln.requested_cents, ln.cofunding_cents)
        for ln in sorted(application.budget_lines, key=lambda ln: ln.position)
    ]


def _save(application, focal, budget):
    return operations.save_draft(
        application, actor=focal, values={"budget": budget}, expected_version=application.version
    )


def test_lines_are_updated_in_place(app):
    with app.app_context():
        focal = f.focal_point("Bogotá")
        application = f.draft("Bogotá", focal=focal, requested=80_000_00)
        (first_id, *_), (second_id, *_) = _lines(application)
        as_typed = [
            {
                "category": "personnel",
                "description": "Coordinators / Coordinadoras",
                "requested_cents": 48_000_00,
                "cofunding_cents": 12_000_00,
            },
            {
                "category": "equipment",
                "description": "Furniture for the hubs",
                "requested_cents": 32_000_00,
                "cofunding_cents": 6_000_00,
            },
        ]

        assert _save(application, focal, as_typed) == {}
        assert [row[0] for row in _lines(application)] == [first_id, second_id]

        # The second line changes, a third is added: the first two keep their rows.
        as_typed[1]["description"] = "Mobiliario de los centros de cuidado"
        as_typed.append(
            {
                "category": "services",
                "description": "Formación de cuidadoras",
                "requested_cents": 10_000_00,
                "cofunding_cents": 0,
            }
        )
        assert _save(application, focal, as_typed) == {}
        lines = _lines(application)
        assert [row[0] for row in lines[:2]] == [first_id, second_id]
        assert lines[1][2] == "Mobiliario de los centros de cuidado" and lines[2][1:] == (
            "services",
            "Formación de cuidadoras",
            10_000_00,
            0,
        )
        assert application.requested_cents == 90_000_00

        # The first line is removed: the first two rows take the two lines left, the third row goes.
        assert _save(application, focal, as_typed[1:]) == {}
        db.session.expire_all()
        lines = _lines(application)
        assert [row[0] for row in lines] == [first_id, second_id]
        assert [row[2] for row in lines] == ["Mobiliario de los centros de cuidado", "Formación de cuidadoras"]
        assert (
            db.session.scalar(
                sa.select(sa.func.count(BudgetLine.id)).where(BudgetLine.application_id == application.id)
            )
            == 2
        )
        assert application.requested_cents == 42_000_00
