"""Credentials stay home: the browser sends the Basic credentials, and Chromium a Kerberos ticket, only to the
configured origin over https. A portal that redirects to plain http or to another host is a failure naming where it
went; the servers it pointed at record every request they received, and none of them carries an Authorization
header. Real Chromium, real TLS (a throwaway CA) on loopback; 127.0.0.2 is another host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import kdc
from tests.hostile_servers import LoopbackServer, Received, Reply, ThrowawayCA
from tests.suite_runs import run_suite

HOME_CHECK = "smoke/test_portal.py::test_the_portal_home_page_loads_completely_after_authentication"
SEARCH_CHECK = "smoke/test_portal.py::test_certificate_search_shows_its_results_grid"
HOME = "/KeyfactorPortal/"
SEARCH = "/KeyfactorPortal/CertificateCollection/Edit"
PASSWORD = "Stay-home-9f3c"  # noqa: S105 — a throwaway test password
SIGN_IN = "<html><head><title>Sign in</title></head><body><form>Sign in to continue</form></body></html>"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("ca"))


def environment(tmp_path: Path, url: str, ca: ThrowawayCA, auth: dict[str, str]) -> str:
    lines = ["[command]", f'url = "{url}"', "timeout_s = 10", f"ca_bundle = {json.dumps(str(ca.bundle))}", "[auth]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in auth.items()]
    lines += ["[portal]", 'browser = "chromium"']
    path = tmp_path / "env.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


BASIC = {"method": "basic", "username": "CORP\\svc-smoke", "password_env": "KF_TEST_PASSWORD"}


def page(title: str, body: str = "") -> Reply:
    return Reply.html(f"<html><head><title>{title}</title></head><body>{body}</body></html>")


@pytest.mark.parametrize("where", ["plain http", "another host"])
def test_basic_credentials_never_follow_a_redirect_of_the_portal_and_the_check_names_it(tmp_path, ca, where):
    other_host = LoopbackServer(lambda r: Reply.html(SIGN_IN), host="127.0.0.2", tls=ca.server_context(["127.0.0.2"]))
    plain = LoopbackServer(lambda r: Reply.html(SIGN_IN))  # http://127.0.0.1
    with other_host, plain:
        target = f"{plain.origin}/login" if where == "plain http" else f"{other_host.origin}/adfs/ls/?wa=wsignin1.0"

        def portal_answer(received: Received) -> Reply:
            return Reply.redirect(target) if received.path.startswith(HOME) else page("Not found")

        with LoopbackServer(portal_answer, tls=ca.server_context(["localhost"]), name="localhost") as portal:
            run = run_suite(tmp_path, "--env", environment(tmp_path, portal.origin, ca, BASIC), "-m", "portal",
                            env={"KF_TEST_PASSWORD": PASSWORD})
    assert run.returncode == 1, run.output
    message = run.messages[HOME_CHECK]
    assert message.startswith(f"{portal.origin}{HOME} was redirected (302) to {target}"), message
    assert "a sign-in page or proxy is in the way" in message and "\n" not in message
    assert run.outcomes[SEARCH_CHECK] == "skipped" and target in run.messages[SEARCH_CHECK]
    assert portal.authorizations() and all(a.startswith("Basic ") for a in portal.authorizations())
    assert other_host.received == [] and plain.received == []  # not a request, so not a header, went there
    assert PASSWORD not in run.output and "Traceback" not in run.output


def test_sub_resources_on_other_origins_get_no_credentials_and_same_origin_redirects_still_sign_in(tmp_path, ca):
    with LoopbackServer(lambda r: Reply(200, b"GIF89a", [("Content-Type", "image/gif")]), host="127.0.0.2",
                        tls=ca.server_context(["127.0.0.2"])) as other_host:
        content = (f'<img src="{other_host.origin}/pixel.gif"><img src="/KeyfactorPortal/moved.gif">'
                   "Welcome to Keyfactor Command")

        def portal_answer(received: Received) -> Reply:
            if received.path == HOME:
                return Reply.redirect("/KeyfactorPortal/Home")  # same origin: followed, and signed
            if received.path == "/KeyfactorPortal/Home":
                return page("Home - Keyfactor Command", content)
            if received.path == "/KeyfactorPortal/moved.gif":
                return Reply.redirect(f"{other_host.origin}/moved.gif")
            return page("Not found")

        with LoopbackServer(portal_answer, tls=ca.server_context(["localhost"]), name="localhost") as portal:
            run = run_suite(tmp_path, "--env", environment(tmp_path, portal.origin, ca, BASIC), "-m", "portal",
                            "-k", "home_page", env={"KF_TEST_PASSWORD": PASSWORD})
    assert run.returncode == 0, run.output
    signed = {r.path for r in portal.received if (r.authorization or "").startswith("Basic ")}
    assert {HOME, "/KeyfactorPortal/Home", "/KeyfactorPortal/moved.gif"} <= signed, portal.received
    assert [r.path for r in other_host.received] == ["/pixel.gif"]  # it answers; the redirected image never came
    assert other_host.authorizations() == []


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    """A KDC that would hand out tickets for the server, for another host and for another port of the server:
    only the browser's allow-list stands between a redirect and a ticket."""
    if not kdc.available():
        pytest.fail("this test needs MIT Kerberos (krb5-kdc, krb5-admin-server, krb5-user): run ./setup.sh")
    running = kdc.start(tmp_path_factory.mktemp("kdc"), ["localhost", "127.0.0.2"], "Kdc-pw-4711")
    yield running
    kdc.stop(running)


def negotiate(received: Received, content: Reply) -> Reply:
    """IIS with Windows authentication: a challenge until a Negotiate token comes (it is recorded, not checked)."""
    if (received.authorization or "").startswith("Negotiate "):
        return content
    return Reply(401, b"401 - Unauthorized", [("WWW-Authenticate", "Negotiate"), ("Content-Type", "text/html")])


def test_kerberos_tickets_go_to_the_server_only_never_to_another_host_or_port_or_where_it_redirects(
        tmp_path, ca, realm):
    def challenge(received: Received) -> Reply:
        return negotiate(received, page("would have signed in"))

    other_host = LoopbackServer(challenge, host="127.0.0.2", tls=ca.server_context(["127.0.0.2"]))
    other_port = LoopbackServer(challenge, tls=ca.server_context(["localhost"]), name="localhost")
    with other_host, other_port:
        content = (f'<img src="{other_host.origin}/pixel.gif"><img src="{other_port.origin}/pixel.gif">'
                   "Welcome to Keyfactor Command")

        def portal_answer(received: Received) -> Reply:
            if received.path.startswith(SEARCH):
                return Reply.redirect(f"{other_host.origin}/adfs/ls/")
            return negotiate(received, page("Home - Keyfactor Command", content))

        with LoopbackServer(portal_answer, tls=ca.server_context(["localhost"]), name="localhost") as portal:
            auth = {"method": "kerberos", "ccache": realm.environ["KRB5CCNAME"],
                    "krb5_config": str(realm.krb5_config), "principal": realm.user_principal}
            run = run_suite(tmp_path, "--env", environment(tmp_path, portal.origin, ca, auth), "-m", "portal")
    assert run.outcomes[HOME_CHECK] == "passed", run.output
    assert any(a.startswith("Negotiate ") for a in portal.authorizations())  # the server itself gets a ticket
    message = run.messages[SEARCH_CHECK]
    assert f"was redirected (302) to {other_host.origin}/adfs/ls/" in message, message
    assert {r.path for r in other_host.received} == {"/pixel.gif"} and other_port.received, other_host.received
    assert other_host.authorizations() == [] and other_port.authorizations() == []


def test_a_new_window_is_signed_in_only_once_the_guard_watches_it(tmp_path, ca):
    """A report opened in a new window: its first request comes before the guard can watch the window, so it goes
    without credentials and is loaded again, signed, once watched; a redirect away in it is stopped all the same."""
    from smoke.portal.browser import BrowserOptions, BrowserSession

    with LoopbackServer(lambda r: Reply.html(SIGN_IN), host="127.0.0.2",
                        tls=ca.server_context(["127.0.0.2"])) as other_host:
        def portal_answer(received: Received) -> Reply:
            if received.path == HOME:
                return page("Keyfactor Command", "<a id=report href='/KeyfactorPortal/report' target=_blank>r</a>"
                                                 "<a id=away href='/KeyfactorPortal/away' target=_blank>a</a>")
            if received.path == "/KeyfactorPortal/report":
                return page("Report output")
            return Reply.redirect(f"{other_host.origin}/login")

        with LoopbackServer(portal_answer, tls=ca.server_context(["localhost"]), name="localhost") as portal:
            session = BrowserSession(BrowserOptions("chromium", True, 10, portal.origin, "basic", "CORP\\svc-smoke",
                                                    PASSWORD, ca.bundle))
            try:
                with session.visit("home") as visit:
                    visit.goto(portal.origin + HOME)
                    with visit.page.expect_popup() as report:
                        visit.page.click("#report")
                    report.value.wait_for_load_state()
                    titles = [report.value.title()]
                    with visit.page.expect_popup():
                        visit.page.click("#away")
                    for _ in range(100):  # until the away window's second, watched load was stopped
                        if visit.load.failed_requests:
                            break
                        visit.page.wait_for_timeout(100)
                    failed = list(visit.load.failed_requests)
            finally:
                session.close()
    assert titles == ["Report output"]
    signed = [r.path for r in portal.received if r.authorization]
    assert "/KeyfactorPortal/report" in signed and "/KeyfactorPortal/away" in signed, portal.received
    assert any("/KeyfactorPortal/away was redirected (302) to" in f and "not followed" in f for f in failed), failed
    assert other_host.authorizations() == []  # the window's unwatched first request carried none either
