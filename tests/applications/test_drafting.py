"""A city drafts, budgets and submits through the pages; every bad input is refused, nothing lost."""

import email
import io
import re
from datetime import timedelta
from email import policy

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from pypdf import PdfReader

from fundapp.applications.models import Application, Submission
from fundapp.calls.models import Call
from fundapp.core.models import AuditEntry
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from .. import factories as f
from ..helpers import run_jobs
from .conftest import (
    as_user,
    complete_fields,
    count_apps,
    get_application,
    page_text,
    pdf_bytes,
    save,
    start,
    upload,
    version_of,
)

LETTER = "Letter of support from the mayor or city government"
BUDGET = "Detailed budget"


def _complete(app, client, application_id, call_id, partner_id=None):
    response = save(client, application_id, complete_fields(app, call_id, partner_id))
    if response.status_code != 302:
        import re

        raise AssertionError(re.findall(r'<li><a href="#([^"]+)">(.*?)</a>', page_text(response)))
    for requirement in (LETTER, BUDGET):
        assert "Document attached." in page_text(upload(client, application_id, requirement, pdf_bytes(), "doc.pdf"))


@pytest.mark.sqlite
def test_a_city_drafts_completes_and_submits_and_gets_its_receipt(app, cities, open_call, make_client, smtp_server):
    andres = as_user(make_client, "andres@bogota.example")
    application_id = start(andres)
    # A partial save is fine: a draft holds whatever has been typed so far.
    response = save(andres, application_id, {"title": "Care blocks", "summary": ""})
    assert response.status_code == 302
    with app.app_context():
        assert get_application(application_id).title == "Care blocks"
    page = page_text(andres.get(f"/applications/{application_id}/check"))
    assert "Write the summary." in page and "Add the budget lines." in page and f"Attach: {LETTER}." in page

    _complete(app, andres, application_id, open_call, partner_id=cities["medellin"])
    check = page_text(andres.get(f"/applications/{application_id}/check"))
    assert "Everything the call asks for is there." in check and "€100,000.00" in check

    response = andres.post(
        f"/applications/{application_id}/submit",
        {},
        token_from=f"/applications/{application_id}/check",
        follow_redirects=True,
    )
    page = page_text(response)
    assert "IFM-LCS-2025-001" in page
    with app.app_context():
        application = get_application(application_id)
        assert application.reference == "IFM-LCS-2025-001" and application.state == "submitted"
        assert application.requested_cents == 100_000_00 and application.cofunding_cents == 15_000_00
        (submission,) = application.submissions
        assert submission.data["city"] == "Bogotá" and submission.data["partners"][0]["member"] == "Medellín"
        assert submission.data["requested_cents"] == 100_000_00
        assert db.session.get(Call, open_call).locked_at is not None
        assert db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "application.submit")) is not None
    assert andres.get(f"/applications/{application_id}/edit").status_code == 302  # no longer editable

    run_jobs(app)
    messages = [email.message_from_bytes(e.content, policy=policy.default) for e in smtp_server.messages]
    (message,) = [m for m in messages if "IFM-LCS-2025-001" in m["Subject"]]
    assert message["To"] == "Andrés <andres@bogota.example>"
    assert message["Subject"] == "Application received: IFM-LCS-2025-001"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "IFM-LCS-2025-001-v1.pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "IFM-LCS-2025-001" in text and "Bogotá" in text and "€100,000.00" in text
    # The project lead, and each file by the name it is downloaded under (not its draft-time name).
    assert "María Fernanda Rojas" in text
    assert "IFM-LCS-2025-001-detailed-budget.pdf" in text and "draft-" not in text
    with app.app_context():
        assert db.session.scalar(sa.select(Submission)).receipt_document_id is not None
    download = andres.get(f"/applications/{application_id}/versions/1/receipt.pdf")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    # One version sent: nothing to compare yet, and the page says so rather than comparing it with itself.
    versions = page_text(andres.get(f"/applications/{application_id}/versions"))
    assert "Only one version has been sent: there is nothing to compare yet." in versions
    assert 'name="b"' not in versions


def test_references_number_the_calls_applications_in_order(app, cities, open_call, make_client):
    for email_address in ("camila@bogota.example", "focal@quito.example"):
        client = as_user(make_client, email_address)
        application_id = start(client)
        _complete(app, client, application_id, open_call)
        client.post(f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check")
    with app.app_context():
        refs = db.session.scalars(sa.select(Application.reference).order_by(Application.number)).all()
        assert refs == ["IFM-LCS-2025-001", "IFM-LCS-2025-002"]


def test_a_budget_above_the_cap_is_saved_as_typed_but_cannot_be_submitted(app, cities, open_call, make_client):
    """A total above the cap is kept (on every device, not only in this browser's copy), the city is
    told it cannot submit it so, and the check page and the submission say the same until trimmed."""
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data["budget-0-requested"] = "60000.01"
    over = (
        "The total requested, €100,000.01, is above the call’s cap of €100,000.00: your budget is saved, but the "
        "application cannot be submitted until it is within the cap."
    )
    # The autosave stores it: no field is reported unsaved, the note says why it cannot be sent.
    autosaved = save(camila, application_id, data, autosave=True).get_json()
    assert autosaved["status"] == "saved" and autosaved["errors"] == {} and autosaved["notes"] == {"budget": over}
    # Saved from the form: "Saved at", then the editor with the note (not under "not saved").
    response = save(camila, application_id, data)
    assert response.status_code == 302
    editor = page_text(camila.get(response.headers["Location"]))
    assert over in editor and "These fields were not saved" not in editor
    with app.app_context():
        application = get_application(application_id)
        assert application.requested_cents == 100_000_01 and len(application.budget_lines) == 2
    check = page_text(camila.get(f"/applications/{application_id}/check"))
    assert "The total requested is above the call’s cap of €100,000.00." in check
    camila.post(f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check")
    with app.app_context():
        assert get_application(application_id).reference is None
    # Trimmed: the note is gone.
    data["budget-0-requested"] = "60000.00"
    assert save(camila, application_id, data, autosave=True).get_json()["notes"] == {}
    assert over.split(":")[0] not in page_text(camila.get(f"/applications/{application_id}/edit"))


@pytest.mark.parametrize(
    "typed, message",
    [
        ({"budget-0-requested": "-5"}, "The amount cannot be negative."),
        ({"budget-0-requested": "sixty thousand"}, "Enter an amount in euros"),
        ({"budget-0-cofunding": "-1"}, "The amount cannot be negative."),
        ({"budget-0-requested": "9" * 30}, "This amount is too large."),
    ],
)
def test_a_bad_budget_is_refused_and_everything_else_is_kept(app, cities, open_call, make_client, typed, message):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data.update(typed)
    response = save(camila, application_id, data)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    assert f'value="{typed.popitem()[1]}"' in page  # what was typed is still in the field
    with app.app_context():
        application = get_application(application_id)
        assert application.title == "Care blocks for Bogotá"  # the rest was saved
        assert application.budget_lines == [] and application.requested_cents == 0


def test_an_unreadable_amount_is_named_by_its_line_and_marked_in_its_cell(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data.update(
        {
            "budget-1-category": "equipment",
            "budget-1-description": "Mobiliario de las manzanas",
            "budget-1-requested": "12.500,5x",
        }
    )
    response = save(camila, application_id, data)
    assert response.status_code == 400
    page = page_text(response)
    assert "Budget not saved, because of line 2: Enter an amount in euros" in page
    (cell,) = [tag for tag in re.findall(r"<input[^>]*>", page) if 'id="budget-1-requested"' in tag]
    assert 'aria-invalid="true"' in cell and 'aria-describedby="budget-1-requested-error"' in cell
    assert 'value="12.500,5x"' in cell  # what was typed, to correct
    assert 'id="budget-1-requested-error"' in page
    # The autosave names the cell too, so the page marks it beside the amount, not only the budget.
    autosaved = save(camila, application_id, data, autosave=True).get_json()
    assert autosaved["errors"]["budget-1-requested"].startswith("Enter an amount in euros")
    assert autosaved["errors"]["budget"].startswith("Budget not saved, because of line 2")
    with app.app_context():
        assert get_application(application_id).budget_lines == []  # the budget waits for that line


def test_a_start_date_outside_the_calls_window_is_refused(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    with app.app_context():
        earliest, latest = db.session.get(Call, open_call).start_window()
    for day in (earliest - timedelta(days=1), latest + timedelta(days=1)):
        data = complete_fields(app, open_call)
        data["start_date"] = day.isoformat()
        response = save(camila, application_id, data)
        assert response.status_code == 400
        # Dates as Camila reads them, not ISO.
        first, last = (format_date(d, "medium", locale="en") for d in (earliest, latest))
        assert f"Projects of this call start between {first} and {last}." in page_text(response)
        with app.app_context():
            assert get_application(application_id).start_date is None


def test_a_duration_outside_the_calls_limits_is_refused(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data["duration_months"] = "36"
    response = save(camila, application_id, data)
    assert response.status_code == 400 and "Projects of this call last 6 to 24 months." in page_text(response)


@pytest.mark.parametrize(
    "partner, message",
    [
        ("999999", "A partner must be a Metropolis member."),
        ("lead", "Bogotá leads the application; it cannot also be its partner."),
        ("0", "Choose the partner city whose role is “Partner”."),  # a role typed, the city left on "—"
    ],
)
def test_a_partner_that_is_not_a_member_or_is_the_lead_is_refused(
    app, cities, open_call, make_client, partner, message
):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data.update(
        {"partners-0-member": str(cities["bogota"]) if partner == "lead" else partner, "partners-0-role": "Partner"}
    )
    response = save(camila, application_id, data)
    assert response.status_code == 400 and message in page_text(response)
    assert 'value="Partner"' in page_text(response)  # the role typed comes back
    with app.app_context():
        assert get_application(application_id).partners == []


def test_a_second_application_by_the_same_lead_city_is_refused(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    start(camila)
    andres = as_user(make_client, "andres@bogota.example")
    response = andres.post("/calls/LCS-2025/apply", {}, token_from="/calls/LCS-2025", follow_redirects=True)
    assert "Bogotá already has an application to this call: continue that one." in page_text(response)
    with app.app_context():
        assert count_apps() == 1
        (application_id,) = db.session.scalars(sa.select(Application.id)).all()
    assert response.request.path == f"/applications/{application_id}"  # taken to the city's application


def test_an_ineligible_city_cannot_start(app, cities, open_call, make_client):
    from ..helpers import make_member, make_user

    with app.app_context():
        lima = make_member("Lima", "PE", "latin_america_caribbean", dues=2019)
        make_user("focal@lima.example", "applicant", member=lima)
    lima_client = as_user(make_client, "focal@lima.example")
    response = lima_client.post("/calls/LCS-2025/apply", {}, token_from="/calls/LCS-2025", follow_redirects=True)
    assert "Membership dues must be paid through" in page_text(response)
    with app.app_context():
        assert count_apps() == 0


@pytest.mark.parametrize(
    "filename, data, message",
    [
        ("letter.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "does not match its “.pdf” name"),
        ("letter.pdf", b"MZ\x90\x00 this is an executable", "does not match its “.pdf” name"),
        ("letter.exe", b"%PDF-1.4 ...", "Upload a PDF, an image"),
        ("letter.docx", b"%PDF-1.4 not a zip", "does not match its “.docx” name"),
    ],
)
def test_forged_or_unknown_uploads_are_refused(app, cities, open_call, make_client, filename, data, message):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    response = upload(camila, application_id, LETTER, data, filename)
    page = page_text(response)
    assert message in page
    # Said beside the upload form (not at the top of the long editor), the document still chosen.
    refused = page.split('id="upload-refused"', 1)[1].split("</p>", 1)[0]
    assert "The file was not attached" in refused and message in refused
    assert 'class="flashes"' not in page
    assert response.request.args.get("requirement") == LETTER
    assert re.search(r'<option selected value="' + re.escape(LETTER) + '"', page) or re.search(
        r'<option value="' + re.escape(LETTER) + r'" selected', page
    )
    with app.app_context():
        assert get_application(application_id).documents == []


def test_an_upload_to_an_application_sent_from_another_window_says_why_on_its_page(app, cities, open_call, make_client):
    """The editor was left open in a tab while the application was sent from another: the upload
    leads to the application's page (no upload form there), which says why at the top."""
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    _complete(app, camila, application_id, open_call, partner_id=cities["medellin"])
    sent = camila.post(f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check")
    assert sent.status_code == 302
    response = camila.post(
        f"/applications/{application_id}/documents",
        {"requirement": "other", "file": (io.BytesIO(pdf_bytes("Acta del concejo")), "acta.pdf")},
        token_from=f"/applications/{application_id}",
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = page_text(response)
    flashes = page.split('class="flashes"', 1)[1].split("</div>", 1)[0]
    assert "The file was not attached: Documents cannot be changed now." in flashes
    with app.app_context():
        application = get_application(application_id)
        assert len(application.documents) == 2
        reference, document_ids = application.reference, [d.id for d in application.documents]
    # Once sent, the city still sees what it attached, and downloads it under the reference.
    view = page_text(camila.get(f"/applications/{application_id}"))
    sent_documents = view.split('id="documents-sent"', 1)[1].split("</section>", 1)[0]
    for document_id in document_ids:
        assert f'href="/applications/{application_id}/documents/{document_id}"' in sent_documents
    assert f">{reference}-detailed-budget.pdf</a>" in sent_documents
    assert camila.get(f"/applications/{application_id}/documents/{document_ids[0]}").status_code == 200


def test_an_upload_over_the_size_limit_is_refused(app, cities, open_call, make_client):
    app.config["MAX_UPLOAD_BYTES"] = 2048
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    big = pdf_bytes("x" * 100) + b"%" + b"0" * 4096
    page = page_text(upload(camila, application_id, LETTER, big, "letter.pdf"))
    assert "The file is larger than" in page
    with app.app_context():
        assert get_application(application_id).documents == []


def test_documents_are_stored_with_a_server_made_name_and_served_as_attachments(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    upload(camila, application_id, LETTER, pdf_bytes(), "../../etc/passwd.pdf")
    with app.app_context():
        (attached,) = get_application(application_id).documents
        assert (
            attached.document.filename
            == f"draft-{application_id}-letter-of-support-from-the-mayor-or-city-government.pdf"
        )
        document_id = attached.id
    response = camila.get(f"/applications/{application_id}/documents/{document_id}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    quito = as_user(make_client, "focal@quito.example")
    assert quito.get(f"/applications/{application_id}/documents/{document_id}").status_code == 404


@pytest.mark.sqlite
def test_another_city_or_a_reviewer_gets_404_on_the_draft(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    for email_address in ("focal@quito.example", "rev@x.example"):
        other = as_user(make_client, email_address)
        for url in (
            f"/applications/{application_id}",
            f"/applications/{application_id}/edit",
            f"/applications/{application_id}/check",
            f"/applications/{application_id}/versions",
        ):
            assert other.get(url).status_code == 404, (email_address, url)
        response = save(other, application_id, {"title": "Hijacked"}, version="1")
        assert response.status_code == 404
        response = other.post(
            f"/applications/{application_id}/autosave", {"title": "Hijacked", "version": "1"}, token_from="/"
        )
        assert response.status_code == 404
        assert other.post(f"/applications/{application_id}/submit", {}, token_from="/").status_code == 404
    with app.app_context():
        assert get_application(application_id).title == ""


def test_staff_do_not_see_drafts(app, cities, open_call, make_client, staff):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    assert staff.get(f"/staff/applications/{application_id}").status_code == 404
    assert "1 draft in progress" in page_text(staff.get(f"/staff/calls/{open_call}/applications"))


@pytest.mark.sqlite
def test_a_submission_one_second_after_closing_is_refused(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    _complete(app, camila, application_id, open_call)
    with app.app_context():
        # Staff bring the deadline forward to a second ago, through the call's edit operation.
        f.edit_call(db.session.get(Call, open_call), closes_at=utcnow() - timedelta(seconds=1))
    response = camila.post(
        f"/applications/{application_id}/submit",
        {},
        token_from=f"/applications/{application_id}/check",
        follow_redirects=True,
    )
    text = page_text(response)
    assert "applications can no longer be submitted" in text
    # Camila reads the time on her city's clock, with the call's own beside it; no UTC, no ISO.
    assert "(America/Bogota); call time: " in text and "(Europe/Madrid)" in text
    assert "UTC" not in text
    with app.app_context():
        application = get_application(application_id)
        assert application.state == "draft" and application.reference is None
        assert application.title == "Care blocks for Bogotá"  # nothing of the draft is lost


def test_the_server_decides_the_deadline_to_the_second(app, cities, open_call, make_client):
    from fundapp.applications import operations

    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    _complete(app, camila, application_id, open_call)
    with app.test_request_context():
        application = get_application(application_id)
        closes = application.call.closes_at
        user = application.created_by_id and db.session.get(
            __import__("fundapp.accounts.models", fromlist=["User"]).User, application.created_by_id
        )
        with pytest.raises(operations.Refused, match="can no longer be submitted"):
            operations.submit(application, actor=user, now=closes + timedelta(seconds=1))
        db.session.rollback()
        operations.submit(get_application(application_id), actor=user, now=closes - timedelta(seconds=1))
        assert get_application(application_id).state == "submitted"


def test_an_incomplete_application_cannot_be_submitted(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    response = camila.post(
        f"/applications/{application_id}/submit",
        {},
        token_from=f"/applications/{application_id}/check",
        follow_redirects=True,
    )
    assert "The application is not complete yet." in page_text(response) and "Give the project a title." in page_text(
        response
    )
    with app.app_context():
        assert get_application(application_id).state == "draft"


def test_the_cofunding_share_and_minimum_are_checked_at_submission(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    data = complete_fields(app, open_call)
    data.update({"budget-0-cofunding": "0", "budget-1-cofunding": "0"})
    save(camila, application_id, data)
    page = page_text(camila.get(f"/applications/{application_id}/check"))
    assert "Co-funding must be at least 10% of the project cost." in page


@pytest.mark.sqlite
def test_a_stale_autosave_is_refused_and_the_colleagues_work_stands(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    andres = as_user(make_client, "andres@bogota.example")
    application_id = start(camila)
    version = version_of(camila, application_id)
    assert version_of(andres, application_id) == version
    first = save(andres, application_id, {"title": "Andrés's title"}, version=version, autosave=True)
    assert first.status_code == 200 and first.json["status"] == "saved"
    second = save(camila, application_id, {"title": "Camila's title"}, version=version, autosave=True)
    assert second.status_code == 409 and second.json["status"] == "stale"
    assert "Andrés saved this application" in second.json["message"]
    with app.app_context():
        assert get_application(application_id).title == "Andrés's title"
    # The plain form says the same and keeps what Camila typed.
    response = save(camila, application_id, {"title": "Camila's title"}, version=version)
    assert response.status_code == 409 and 'value="Camila\'s title"' in page_text(response).replace("&#39;", "'")


def test_autosave_saves_good_fields_and_reports_bad_ones(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    response = save(camila, application_id, {"title": "Care blocks", "beneficiaries_women": "-4"}, autosave=True)
    assert response.status_code == 200
    assert response.json["errors"] == {"beneficiaries_women": "Cannot be negative."}
    with app.app_context():
        application = get_application(application_id)
        assert application.title == "Care blocks" and application.beneficiaries_women is None


def test_the_lead_city_withdraws_with_a_reason(app, cities, open_call, make_client):
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    _complete(app, camila, application_id, open_call)
    camila.post(f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check")
    response = camila.post(
        f"/applications/{application_id}/withdraw",
        {"reason": ""},
        token_from=f"/applications/{application_id}",
        follow_redirects=True,
    )
    assert response.status_code == 400 and "Give the reason." in page_text(response)
    # Too long: said as such beside the field, with what was typed still in it; nothing withdrawn.
    long_reason = "El concejo cambió de planes. " * 150
    response = camila.post(
        f"/applications/{application_id}/withdraw",
        {"reason": long_reason},
        token_from=f"/applications/{application_id}",
    )
    page = page_text(response)
    assert (
        response.status_code == 400 and "for at most 4,000" in page.split('id="reason-error"', 1)[1].split("</p>", 1)[0]
    )
    assert long_reason.strip()[:200] in page
    with app.app_context():
        assert get_application(application_id).state == "submitted"
    camila.post(
        f"/applications/{application_id}/withdraw",
        {"reason": "The council changed its plans."},
        token_from=f"/applications/{application_id}",
    )
    with app.app_context():
        application = get_application(application_id)
        assert application.state == "withdrawn" and application.withdrawn_reason == "The council changed its plans."
    # Withdrawn, the city may start again.
    start(camila)


def test_the_receipt_holds_the_indicator_targets_in_its_language(app):
    from flask_babel import force_locale

    from fundapp.applications.pdf import application_pdf

    data = {
        "reference": "IFM-LCS-2026-004",
        "title": "Manzanas del cuidado",
        "city": "Bogotá",
        "call": "LCS-2026",
        "requested_cents": 92_500_50,
        "cofunding_cents": 12_500_00,
        "dimensions": ["recognise"],
        "start_date": "2027-03-01",
        "duration_months": 18,
        "partners": [],
        "budget": [],
        "documents": [],
        "lead_name": "María Fernanda Rojas",
        "indicators": [
            {
                "id": 1,
                "names": {"en": "Carers trained", "es": "Cuidadoras formadas"},
                "units": {"en": "people", "es": "personas"},
                "parts": ["women", "men"],
                "target": {"women": 1200, "men": None},
            }
        ],
    }
    with app.test_request_context(), force_locale("es"):
        pdf_data = application_pdf(data, "es")
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_data)).pages).split())
    assert "Indicadores y metas" in text and "Cuidadoras formadas (personas)" in text
    assert "Mujeres: 1200 · Hombres: —" in text or "Mujeres: 1.200 · Hombres: —" in text
    assert "María Fernanda Rojas" in text


def test_a_call_taken_back_to_draft_is_not_said_to_be_closed(app, cities, open_call, make_client, staff):
    camila = as_user(make_client, "camila@bogota.example")
    start(camila)
    url = f"/staff/calls/{open_call}/state"
    assert (
        staff.post(url, {"action": "unpublish", "reason": "Fix the criteria"}, token_from=url[:-6]).status_code == 302
    )
    page = page_text(camila.get("/applications/"))
    assert "The programme team has taken the call back to prepare it again: your draft is kept" in page
    assert "The call is closed." not in page


def test_a_long_text_is_not_cut_by_the_browser_but_refused_beside_it_and_kept(app, cities, open_call, make_client):
    """No maxlength on the long fields (a browser counts an emoji as two and cuts a paste silently):
    a summary over 3,000 characters is refused beside it, kept as typed, the rest saved."""
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    editor = page_text(camila.get(f"/applications/{application_id}/edit"))
    summary_tag = (
        editor.split('name="summary"')[0].rsplit("<textarea", 1)[1] + editor.split('name="summary"')[1].split(">")[0]
    )
    assert "maxlength" not in summary_tag and "maxlength" not in editor  # the title neither
    long_summary = "Cuidado comunitario 🤝 " * 140  # 3,080 characters (3,220 UTF-16 units)
    response = save(camila, application_id, {"title": "Manzanas del cuidado", "summary": long_summary})
    assert response.status_code == 400
    assert long_summary.strip() in page_text(response) or long_summary in page_text(response)
    # The numbers written for the reader (Camila reads English here), counted as she sees them.
    assert "This text is too long: 3,080 characters, for at most 3,000." in page_text(response)
    with app.app_context():
        application = get_application(application_id)
        assert application.title == "Manzanas del cuidado" and application.summary == ""
