"""What every browser test does the same way: sign in through the login page, attach a PDF."""

DEMO_PASSWORDS = {
    "admin@fundapp.test": "demo-admin-pass",
    "staff@fundapp.test": "demo-staff-pass",
    "city@fundapp.test": "demo-city-pass",
    "partner@fundapp.test": "demo-partner-pass",
    "reviewer@fundapp.test": "demo-reviewer-pass",
    "reviewer2@fundapp.test": "demo-reviewer2-pass",
    "donor@fundapp.test": "demo-donor-pass",
}


def sign_in(browser, live_server, email, password=None, *, locale="en-GB", timezone_id="Europe/Madrid", **options):
    """A fresh browser (its own cookies, language and clock) signed in as `email`, on the home page."""
    from ..helpers import PASSWORD

    context = browser.new_context(locale=locale, timezone_id=timezone_id, **options)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("main [name=email]").fill(email)
    page.locator("main [name=password]").fill(password or DEMO_PASSWORDS.get(email, PASSWORD))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    return page


def pdf_file(name, text=None):
    """A small real PDF, as Playwright hands it to a file input."""
    from fundapp.core import pdf

    return {
        "name": name,
        "mimeType": "application/pdf",
        "buffer": pdf.render([pdf.para(text or name)], title=name),
    }


def demo_user(email):
    from fundapp.accounts import operations as accounts

    user = accounts.find_user_by_email(email)
    assert user is not None, f"no demo account {email}"
    return user


def end_sessions(app, email):
    """An administrator signs `email` out everywhere (their session ends while they type)."""
    from fundapp.accounts import operations as accounts
    from fundapp.extensions import db

    with app.app_context():
        accounts.end_user_sessions(demo_user(email), actor=demo_user("admin@fundapp.test"))
        db.session.commit()


def send_and_sign_in_again(page, button, email, back_to):
    """Send a form (press `button`) after the session ended: told so, sign in again on the sign-in
    page, and land back on `back_to`, the page the form was on."""
    from playwright.sync_api import expect

    button.click()
    expect(page.get_by_text("Your session ended before this was sent")).to_be_visible()
    page.locator("main [name=email]").fill(email)
    page.locator("main [name=password]").fill(DEMO_PASSWORDS[email])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(back_to)


PHONE = {"width": 390, "height": 844}

# Every input, select and error message in `selector` whose box lies (even partly) outside the
# window's width: [] when all of them can be read and filled without scrolling sideways.
OUTSIDE = """(selector) => {
  const width = window.innerWidth;
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!box.width) continue;
    if (box.x < 0 || box.x + box.width > width + 0.5) out.push((el.name || el.id || el.textContent) + ' ' + Math.round(box.x) + '+' + Math.round(box.width));
  }
  return out;
}"""
