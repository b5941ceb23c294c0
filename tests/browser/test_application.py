"""A city focal point drafts in the browser, reloads and finds the draft saved, and submits."""

import pytest
from playwright.sync_api import expect

from .pages import OUTSIDE, PHONE, pdf_file, sign_in

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


def _start_application(browser, live_server, **options):
    page = sign_in(browser, live_server, "city@fundapp.test", **options)
    page.goto(f"{live_server}/calls/LCS-2025")
    page.locator("#start-application").click()
    page.wait_for_url("**/applications/*/edit")
    return page


def test_text_typed_while_the_connection_is_down_is_offered_back_after_a_reload(open_call, live_server, browser):
    page = _start_application(browser, live_server, locale="fr-FR", timezone_id="Africa/Abidjan")
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        page.locator("[name=title]").fill("Maisons du soin à Abidjan")
    page.wait_for_function("!document.getElementById('save-status').textContent.includes('…')")

    # The connection drops: the autosave cannot reach the server, the text stays on the device.
    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))
    page.locator("[name=summary]").fill("Des services de soin de proximité, portés par les femmes du quartier.")
    expect(page.locator("#save-status.is-error")).to_be_visible(timeout=10000)
    page.unroute("**/autosave")

    # The page is reloaded (the phone's browser dropped it): the server has the title only.
    page.reload()
    assert page.locator("[name=title]").input_value() == "Maisons du soin à Abidjan"
    assert page.locator("[name=summary]").input_value() == ""
    offer = page.locator("#kept-copy")
    expect(offer).to_be_visible()
    # The demo city's focal point reads in Spanish (their profile's language).
    assert "Restaurar esta copia" in offer.inner_text()
    # Its time on the reader's clock as the page gives its own (hers, Bogotá's), not the device's.
    assert "(America/Bogota)" in offer.inner_text()

    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        offer.locator("[data-restore]").click()
    assert "portés par les femmes" in page.locator("[name=summary]").input_value()
    expect(offer).to_be_hidden()

    # Restored and saved: the next reload has it from the server and offers nothing.
    page.reload()
    assert "portés par les femmes" in page.locator("[name=summary]").input_value()
    expect(page.locator("#kept-copy")).to_be_hidden()
    page.context.close()


def test_a_draft_saved_with_its_button_is_not_offered_back_as_unsaved(open_call, live_server, browser):
    """Amounts typed "5 000" and "45 000,50" come back written the server's way ("5 000,00", a narrow
    space), and co-funding left empty as "0,00": the copy kept on the device holds the same
    figures, so nothing is offered back."""
    page = _start_application(browser, live_server, locale="fr-FR", timezone_id="Africa/Abidjan")
    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))  # only the button saves
    page.locator("[name=title]").fill("Maisons du soin à Abidjan")
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Coordinatrices de quartier")
    page.locator("[name='budget-0-requested']").fill("45 000,50")
    page.locator("[name='budget-0-cofunding']").fill("5 000")
    # A line added with the button after the empty ones, without co-funding: the server numbers it
    # again (budget-1) and writes "0,00" where the device keeps nothing.
    page.locator("[data-add-row=budget]").click()
    page.locator("[name='budget-3-category']").select_option("equipment")
    page.locator("[name='budget-3-description']").fill("Mobilier des maisons du soin")
    page.locator("[name='budget-3-requested']").fill("12 000")
    with page.expect_navigation():
        page.locator("button[name=next][value=edit]").click()
    assert page.locator("[name='budget-0-cofunding']").input_value() != "5 000"  # written the server's way
    expect(page.locator("#kept-copy")).to_be_hidden()

    # Text the server does not have is still offered back.
    page.locator("[name=summary]").fill("Des services de soin de proximité.")
    page.wait_for_timeout(300)
    page.reload()
    expect(page.locator("#kept-copy")).to_be_visible()
    page.context.close()


def test_text_refused_by_a_save_stays_on_the_device_until_the_server_has_it(open_call, live_server, browser):
    """The page that refuses a save shows what was typed; the server does not have it, so the
    copy kept on the device stays and is offered after a reload."""
    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota")
    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))  # only the button saves
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Coordinadoras de manzana")
    page.locator("[name='budget-0-requested']").fill("12.500,5x")
    page.locator("button[name=next][value=edit]").click()
    expect(page.locator("#budget-error")).to_contain_text("Presupuesto no guardado, por la línea 1")
    assert page.locator("[name='budget-0-requested']").input_value() == "12.500,5x"
    expect(page.locator("#kept-copy")).to_be_hidden()  # nothing to offer: the page shows it
    page.goto(page.url.split("#")[0])
    expect(page.locator("#kept-copy")).to_be_visible()
    page.locator("#kept-copy [data-restore]").click()
    assert page.locator("[name='budget-0-description']").input_value() == "Coordinadoras de manzana"
    page.context.close()


def test_a_kept_copy_can_be_discarded(open_call, live_server, browser):
    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota")
    page.route("**/autosave", lambda route: route.abort("internetdisconnected"))
    page.locator("[name=title]").fill("Texto que la ciudad decide no guardar")
    expect(page.locator("#save-status.is-error")).to_be_visible(timeout=10000)
    page.unroute("**/autosave")
    page.reload()
    expect(page.locator("#kept-copy")).to_be_visible()
    page.locator("#kept-copy [data-discard]").click()
    expect(page.locator("#kept-copy")).to_be_hidden()
    assert page.locator("[name=title]").input_value() == ""
    page.reload()
    expect(page.locator("#kept-copy")).to_be_hidden()
    page.context.close()


def test_attaching_a_document_saves_what_was_typed_first(open_call, live_server, browser):
    page = _start_application(browser, live_server, locale="en-GB")
    # Typed and attached at once, before the autosave's next round.
    page.locator("[name=title]").fill("Care blocks in Mexico City")
    page.locator("[name=problem]").fill("Unpaid care work falls on women, 40 hours a week.")
    page.locator("#documents select[name=requirement]").select_option("Detailed budget")
    page.locator("#documents input[type=file]").set_input_files(pdf_file("budget.pdf"))
    with page.expect_navigation():
        page.locator("#documents button[type=submit]").last.click()
    expect(page.locator("#documents li")).to_have_count(1)
    assert page.locator("[name=title]").input_value() == "Care blocks in Mexico City"
    assert page.locator("[name=problem]").input_value() == "Unpaid care work falls on women, 40 hours a week."
    expect(page.locator("#kept-copy")).to_be_hidden()
    page.context.close()


def test_a_budget_above_the_cap_is_saved_and_the_page_says_it_cannot_be_sent_so(open_call, live_server, browser):
    """The autosave keeps a budget above the cap: the status says it was saved (not "not saved"), a
    note beside the budget says why it cannot be sent, and it goes once the budget is trimmed."""
    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota")
    note = page.locator("#over-cap")
    expect(note).to_be_hidden()
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Cuidadoras comunitarias")
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        page.locator("[name='budget-0-requested']").fill("120.000")
    expect(note).to_be_visible(timeout=10000)
    assert "120.000,00" in note.inner_text().replace("\xa0", " ")
    expect(page.locator("#save-status")).not_to_have_class("is-error")
    expect(page.locator(".autosave-error")).to_have_count(0)

    # Saved on the server: a reload shows the amount and the note again.
    page.reload()
    assert page.locator("[name='budget-0-requested']").input_value().startswith("120")
    expect(page.locator("#over-cap")).to_be_visible()

    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        page.locator("[name='budget-0-requested']").fill("95.000")
    expect(page.locator("#over-cap")).to_be_hidden(timeout=10000)
    page.context.close()


def test_an_autosaved_amount_that_cannot_be_read_is_marked_beside_its_cell(open_call, live_server, browser):
    """ "doce mil" typed as co-funding: the autosave says so beside that cell (marked invalid) as well as
    under the budget; once corrected, the mark goes."""
    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota")
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Cuidadoras comunitarias")
    page.locator("[name='budget-0-requested']").fill("45.000")
    cell = page.locator("[name='budget-0-cofunding']")
    with page.expect_response(lambda r: r.url.endswith("/autosave")):
        cell.fill("doce mil")
    error = page.locator("[name='budget-0-cofunding'] + .autosave-error")
    expect(error).to_be_visible(timeout=10000)
    expect(cell).to_have_attribute("aria-invalid", "true")
    with page.expect_response(lambda r: r.url.endswith("/autosave") and r.status == 200):
        cell.fill("12.000")
    expect(error).to_have_count(0, timeout=10000)
    assert cell.get_attribute("aria-invalid") is None
    page.context.close()


def test_the_budget_lines_fit_a_390_px_phone_with_each_cell_named(open_call, live_server, browser):
    """On a phone each budget line is a block: every field (the co-funding too) and its error within
    the screen, each under its column's name; on a wide screen the budget stays a table."""
    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota", viewport=PHONE)
    page.route("**/autosave", lambda route: route.abort())  # the button's save alone
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Cuidadoras comunitarias de Ciudad Bolívar")
    page.locator("[name='budget-0-requested']").fill("45.000,50")
    page.locator("[name='budget-0-cofunding']").fill("12.500,00")
    page.locator("[name='budget-1-category']").select_option("equipment")
    page.locator("[name='budget-1-description']").fill("Lavanderías comunitarias")
    page.locator("[name='budget-1-requested']").fill("30.000,00")
    page.locator("[name='budget-1-cofunding']").fill("cinco mil")
    page.unroute("**/autosave")
    page.locator("button[name=next][value=edit]").click()
    refused = page.locator("[name='budget-1-cofunding'][aria-invalid=true]")
    expect(refused).to_be_visible()
    table = "#budget table input, #budget table select, #budget table .error"
    assert page.evaluate(OUTSIDE, table) == []
    assert page.locator("#budget tbody .error").count() == 1
    # The amounts are shown whole, not cut ("45.000,5…"), and the cell says what it is.
    requested = page.locator("[name='budget-0-requested']")
    assert requested.input_value() == "45.000,50"
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth", requested.element_handle())
    cell = page.locator("#budget tbody tr").nth(1).locator("td").nth(3)
    label = page.evaluate("(td) => getComputedStyle(td, '::before').content", cell.element_handle())
    assert "Cofinanciación (EUR)" in label
    # Its label is its own: the error beside the field, the field named for screen readers.
    assert refused.get_attribute("aria-label") == "Cofinanciación (EUR)"
    assert refused.get_attribute("aria-describedby") == "budget-1-cofunding-error"

    # A wide screen keeps the table: a line's four fields side by side.
    page.set_viewport_size({"width": 1280, "height": 900})
    row = page.locator("#budget tbody tr").first
    tops = {round(row.locator(f"td:nth-child({n}) :is(input, select)").bounding_box()["y"]) for n in (1, 2, 3, 4)}
    assert len(tops) == 1
    page.context.close()


def test_the_total_as_typed_reads_amounts_as_the_server_and_names_what_it_cannot_read(open_call, live_server, browser):
    """The live total reads "30.000,555" (three decimals) and "doce mil" as the server does, refused:
    it names the cell instead of showing 30 million or counting it as 0; the saved total is what the
    server accepted, after each autosave."""
    from fundapp.core.money import MoneyError, parse_eur

    page = _start_application(browser, live_server, locale="es-ES", timezone_id="America/Bogota")
    live, saved = page.locator("#total-requested"), page.locator("#saved-requested")
    expect(page.locator("[data-live-total]")).to_be_visible()
    page.locator("[name='budget-0-category']").select_option("personnel")
    page.locator("[name='budget-0-description']").fill("Cuidadoras de Ciudad Bolívar")
    page.locator("[name='budget-0-requested']").fill("30.000,555")
    expect(live).to_have_text("Importe no válido: 30.000,555")
    assert "30.000.555" not in live.inner_text()
    page.locator("[name='budget-0-requested']").fill("30.000,55")
    page.locator("[name='budget-1-category']").select_option("equipment")
    page.locator("[name='budget-1-description']").fill("Lavanderías comunitarias")
    page.locator("[name='budget-1-requested']").fill("doce mil")
    expect(live).to_have_text("Importe no válido: doce mil")
    page.locator("[name='budget-1-requested']").fill("12.000")
    expect(live).to_contain_text("42.000,55")
    page.locator("[name='budget-0-cofunding']").fill("4.500,5")
    expect(page.locator("#total-cofunding")).to_contain_text("4.500,50")  # written as the server writes it
    # The server saves the budget: "Total (saved)" says what it holds.
    expect(saved).to_contain_text("42.000,55", timeout=10000)
    assert "4.500,50" in page.locator("#saved-cofunding").inner_text()

    # The page reads every way of writing an amount exactly as the server does.
    samples = [
        "45.000,50",
        "45,000.50",
        "45 000,50 €",
        "45000.5",
        "30.000,555",
        "1.234",
        "1,234",
        "1,5",
        "0.001",
        "1.000.000",
        "1.000.00",
        "€ 1.234,56",
        "EUR 12",
        "-5",
        "12.34.567,00",
        "01.000",
        "1'000.50",
        ".5",
        "5.",
        "9999999999999",
        "99999999999999",
        "1,000,000.123",
        "doce mil",
    ]

    def server(text):
        try:
            return parse_eur(text)
        except MoneyError:
            return None

    assert page.evaluate("(samples) => samples.map(parseEur)", samples) == [server(s) for s in samples]
    page.context.close()
