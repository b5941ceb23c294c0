"""The member directory as a PDF (the shared letterhead, every name in its own spelling)."""

from flask_babel import gettext as _

from ..core import pdf
from ..core.i18n import country_name


def directory_pdf(members, language="en"):
    story = [
        pdf.para(_("Metropolis members"), "title"),
        pdf.para(_("%(n)d members", n=len(members)), "small"),
        pdf.table(
            [[_("Name"), _("Country"), _("Region"), _("Membership"), _("Dues paid through")]]
            + [
                [
                    m.name,
                    country_name(m.country),
                    str(m.region_label),
                    str(m.membership_label),
                    str(m.dues_paid_through or "—"),
                ]
                for m in members
            ],
            col_widths=[130, 90, 120, 80, 60],
        ),
    ]
    return pdf.render(
        story,
        title=_("Metropolis members"),
        language=language,
        page_label=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
    )
