"""A city focal point drafts in the browser, reloads and finds the draft saved, and submits."""

import pytest
from playwright.sync_api import expect

from .pages import pdf_file, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def open_call(app, demo_accounts):
    """The demo accounts and one open call, LCS-2025, that no city has applied to yet."""
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context():
        call = factories.call(actor=demo_user("staff@fundapp.test"))
        earliest, _latest = call.start_window()
        db.session.commit()
    return earliest


def test_a_city_drafts_reloads_finds_its_input_completes_the_budget_and_submits(open_call, app, live_server, browser):
    earliest = open_call
    page = sign_in(browser, live_server, "city@fundapp.test", locale="es-ES", timezone_id="America/Bogota")

    page.goto(f"{live_server}/calls/LCS-2025")
    page.locator("#start-application").click()
    page.wait_for_url("**/applications/*/edit")
    edit_url = page.url

    # Type, and let the autosave (every few seconds) keep it.
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        page.locator("[name=title]").fill("Manzanas del cuidado")
        page.locator("[name=summary]").fill("Servicios de cuidado cerca de casa.")
    page.wait_for_function("document.getElementById('save-status').textContent.length > 0")
    page.reload()
    assert page.locator("[name=title]").input_value() == "Manzanas del cuidado"
    assert page.locator("[name=summary]").input_value() == "Servicios de cuidado cerca de casa."

    page.locator("[name=problem]").fill("El trabajo de cuidados recae en las mujeres.")
    page.locator("[name=objectives]").fill("Liberar tiempo de las cuidadoras.")
    page.locator("[name=activities]").fill("Abrir tres manzanas del cuidado.")
    page.locator("[name=dimensions][value=recognise]").check()
    page.locator("[name=dimensions][value=redistribute]").check()
    page.locator("[name=target_groups]").fill("Mujeres cuidadoras")
    page.locator("[name=beneficiaries_women]").fill("1200")
    page.locator("[name=beneficiaries_men]").fill("300")
    page.locator("[name=start_date]").fill(earliest.isoformat())
    page.locator("[name=duration_months]").fill("18")
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Coordinadoras")
    page.locator("[name='budget-0-requested']").fill("60.000,00")
    page.locator("[name='budget-0-cofunding']").fill("10.000")
    page.locator("[name='budget-1-category']").select_option("equipment")
    page.locator("[name='budget-1-description']").fill("Mobiliario")
    page.locator("[name='budget-1-requested']").fill("40.000")
    page.locator("[name='budget-1-cofunding']").fill("5.000")
    assert "100.000,00" in page.locator("#total-requested").inner_text().replace("\xa0", " ")
    with page.expect_navigation(url=edit_url):  # the same page, saved
        page.locator("button[name=next][value=edit]").click()

    for requirement, name in [
        ("Letter of support from the mayor or city government", "carta.pdf"),
        ("Detailed budget", "presupuesto.pdf"),
    ]:
        page.locator("#documents select[name=requirement]").select_option(requirement)
        page.locator("#documents input[type=file]").set_input_files(pdf_file(name))
        with page.expect_navigation():
            page.locator("#documents button[type=submit]").last.click()
    expect(page.locator("#documents li")).to_have_count(2)

    page.locator("button[name=next][value=check]").click()
    page.wait_for_url("**/check")
    page.locator("form[action$='/submit'] button").click()
    page.wait_for_url("**/applications/*?v=1")
    expect(page.locator(".reference strong")).to_have_text("IFM-LCS-2025-001")
