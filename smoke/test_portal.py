"""The Management Portal loads, fully, in a real browser: the vendor's first post-upgrade question ("does the
Management Portal load correctly?") and its known failure, a Certificate Search page that loads only partly."""

from __future__ import annotations

import pytest

from smoke.portal.pages import failures, home_page_problem

AREA = "Portal"  # the report's suite and feature
pytestmark = pytest.mark.portal


def test_the_portal_home_page_loads_completely_after_authentication(portal):
    load = portal.home()
    problem = home_page_problem(load, portal.title_expected(load))
    assert problem is None, problem


def test_certificate_search_shows_its_results_grid(portal, smoke_settings):
    minimum = smoke_settings.portal.min_search_rows
    result = portal.certificate_search(minimum)
    load = result.load
    problem = portal.not_loaded("Certificate Search", load, "certificate_search")
    assert problem is None, problem
    assert result.rows >= minimum, (f"Certificate Search shows {result.rows} of the {minimum} result rows expected: "
                                    f"{why_rows_are_missing(portal, load)}")


def why_rows_are_missing(portal, load) -> str:
    causes = failures(load)
    if causes:
        return f"{causes} — the portal loads only partly: check Command_Portal_Log.txt and that the API answers"
    return ("no request failed and no script error occurred: if the screenshot shows result rows, the grid's markup "
            f"differs — set [portal] selectors.search_rows (now {portal.pages.selector('search_rows')!r})")
