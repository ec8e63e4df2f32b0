"""The shared pager: a paged list links to its neighbours and keeps the page's route and filters."""
from __future__ import annotations

import re
from html import unescape

from flask import render_template_string

from tests.factories import make_employee, make_hr
from tests.privacy.conftest import mark_departed
from tests.web.test_home import text_of
from touchpoints.privacy.views import PER_PAGE

PAGER = '{% from "_pager.html" import pager with context %}'


def _links(html: str) -> dict[str, str]:
    return {rel: unescape(href) for href, rel in re.findall(r'href="([^"]+)" rel="(prev|next)"', html)}


def test_a_middle_page_links_both_ways_keeping_the_route_and_the_filters(app):
    with app.test_request_context("/policies/7/dry-run?team=Sales&page=2"):
        html = render_template_string(PAGER + "{{ pager(2, 3) }}")
    assert "Page 2 of 3" in html
    assert _links(html) == {
        "prev": "/policies/7/dry-run?team=Sales&page=1",
        "next": "/policies/7/dry-run?team=Sales&page=3",
    }


def test_the_ends_offer_only_the_way_back_in_and_one_page_needs_no_pager(app):
    with app.test_request_context("/privacy/people?comments_page=3"):
        last = render_template_string(
            PAGER + "{{ pager(3, 3, param='comments_page', label='Comment pages', fragment='#c') }}"
        )
        single = render_template_string(PAGER + "{{ pager(1, 1) }}")
    assert _links(last) == {"prev": "/privacy/people?comments_page=2#c"}
    assert 'aria-label="Comment pages"' in last
    assert single.strip() == ""


def test_hr_pages_through_departed_people_without_losing_the_search(client, login):
    for i in range(PER_PAGE + 1):
        mark_departed(make_employee(f"Leaver {i:03d}", password=None))
    login(make_hr())
    first = client.get("/privacy/people?q=leaver")
    assert "Page 1 of 2" in text_of(first)
    second = client.get(_links(first.get_data(as_text=True))["next"])
    assert "Page 2 of 2" in text_of(second) and "Leaver" in text_of(second)
    assert _links(second.get_data(as_text=True)) == {"prev": "/privacy/people?q=leaver&page=1"}
