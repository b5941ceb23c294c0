"""The Atom feed of published calls and the iCalendar file of a call's deadline."""

from datetime import timedelta

from feedgen.feed import FeedGenerator
from flask_babel import gettext as _
from icalendar import Calendar, Event

from ..core.urls import external_url


def atom_feed(calls, language):
    feed = FeedGenerator()
    feed.id(external_url("calls.public_index"))
    feed.title(_("Calls for proposals · International Fund for Metropolises"))
    feed.link(href=external_url("calls.feed"), rel="self")
    feed.link(href=external_url("calls.public_index"), rel="alternate")
    feed.language(language)
    feed.author({"name": "Metropolis"})
    for call in reversed(calls):  # feedgen lists entries newest first when added oldest first
        url = external_url("calls.public_detail", code=call.code)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(call.title_in(language))
        entry.link(href=url)
        entry.summary(call.text("summary", language)[0])
        entry.published(call.published_at)
        entry.updated(call.updated_at)
    if calls:
        feed.updated(max(c.updated_at for c in calls))
    return feed.atom_str(pretty=True)


def deadline_ics(call, language, url):
    calendar = Calendar()
    calendar.add("prodid", "-//Metropolis//fundapp//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"deadline-{call.code.lower()}@fundapp")
    event.add("summary", _("Deadline: %(title)s", title=call.title_in(language)))
    event.add("dtstart", call.closes_at)
    event.add("dtend", call.closes_at + timedelta(minutes=30))
    event.add("dtstamp", call.updated_at)
    event.add("url", url)
    event.add("description", _("Applications close at this time. %(url)s", url=url))
    calendar.add_component(event)
    return calendar.to_ical()
