"""The Management Portal loads, fully, in a real browser: the vendor's first post-upgrade question ("does the
Management Portal load correctly?") and its known failure, a Certificate Search page that loads only partly."""

from __future__ import annotations

import pytest

from smoke.portal.pages import PORTAL_LOG, describe_answers, failures, not_loaded

AREA = "Portal"  # the report's suite and feature
pytestmark = pytest.mark.portal


def test_the_portal_home_page_loads_completely_after_authentication(portal):
    load = portal.home()
    problem = not_loaded("the portal home page", load)
    assert problem is None, problem
    problems = []
    if load.server_errors:
        problems.append(f"{len(load.server_errors)} request(s) answered ≥ 500 while it loaded: "
                        f"{describe_answers(load, load.server_errors)} — check {PORTAL_LOG}")
    if load.page_errors:
        problems.append(f"uncaught script error(s): {load.short('; '.join(load.page_errors[:3]))} — a stale or "
                        "mixed script bundle after the upgrade: recycle the KeyfactorPortal application pool, clear "
                        f"the browser cache and check {PORTAL_LOG}")
    expected = portal.title_expected(load)
    if expected:
        problems.append(f"its title is {load.title!r}, not one containing {expected} — something other than the "
                        "portal answers there (the IIS default site?): check [command] portal_path, or set "
                        "[portal] texts.home_title")
    assert not problems, f"the portal home page {load.url} loaded with problems: " + "; ".join(problems)


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
