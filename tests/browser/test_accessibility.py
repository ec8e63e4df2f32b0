"""Accessibility (WCAG 2.2 AA) of every page for every role, checked by axe-core in Chromium.

The pages come from the app's url_map with ids from the demo company (tests/web/pages.py), so a new
page is checked the day it lands. axe-core is the npm package (package.json; `make test` installs
it), read from node_modules and injected by Playwright into a context that bypasses our CSP, which
rightly forbids inline scripts. Any serious or critical violation fails, with a report naming the
page, the rule, the elements and what to fix. Each page is also held to one main landmark, one
h1, a skip link, and no layout shift while it loads.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import DESKTOP
from tests.web.pages import walk
from touchpoints.auth.models import Role, User, UserRole
from touchpoints.extensions import db
from touchpoints.people.demo import DEMO_LOGINS, DEMO_PASSWORD
from touchpoints.people.models import Employee

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
MAX_LAYOUT_SHIFT = 0.1
PHONE = {"width": 375, "height": 812}  # "good" cumulative layout shift (web.dev/cls)
ROLES = [role for role, _ in DEMO_LOGINS]
# Layout shifts while a page loads, from the browser's own record (buffered), ignoring those after input.
LAYOUT_SHIFT_JS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(total), 300);
})"""
AXE_RUN_JS = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, installed by `npm ci` (make test does it)."""
    if not AXE.exists():
        message = f"axe-core is not installed ({AXE}): run `npm ci` (make test does)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_company(live_app) -> None:
    """The demo company as `flask demo` makes it: journeys with history, surveys, policies (once)."""
    from touchpoints.api.services import issue_token
    from touchpoints.auth.models import User
    from touchpoints.coffee.demo import load_demo_coffee
    from touchpoints.journeys.demo import load_demo_journeys
    from touchpoints.journeys.enrolment import active_journey
    from touchpoints.people.models import ImportBatch
    from touchpoints.policies.demo import load_demo_policies
    from touchpoints.policies.services import any_policies
    from touchpoints.programmes.demo import load_demo_programmes
    from touchpoints.programmes.models import ProgrammeMatch
    from touchpoints.rituals.demo import load_demo_rituals
    from touchpoints.surveys.demo import load_demo_surveys

    with live_app.app_context():
        if active_journey("development") is None:
            load_demo_journeys()
        load_demo_surveys()  # leaves existing surveys as they are
        load_demo_rituals()  # team rituals with past occurrences logged (once): the /rituals pages
        if not any_policies():
            load_demo_policies()
        if not db.session.scalar(select(ProgrammeMatch.id).limit(1)):  # the programme pages, with pairs
            load_demo_programmes()
        load_demo_coffee()  # leaves existing coffee pairing as it is; fills /coffee, /connections and rounds
        # What HR pages list once HR has used them: an API token, an uploaded file waiting for review.
        hr_email = dict(DEMO_LOGINS)["HR partner"]
        hr = db.session.scalar(select(User).join(Employee).where(Employee.email == hr_email))
        if not db.session.scalar(select(ImportBatch.id).limit(1)):
            issue_token(hr, "HR system sync", created_by=hr)
            db.session.add(ImportBatch(uploaded_by_id=hr.id, filename="new-starters.csv",
                                       content="email,name,manager_email,team\n"
                                               "noor.haddad@example.com,Noor Haddad,,Engineering\n"))
            db.session.commit()
        db.session.remove()


@dataclass
class Finding:
    url: str
    problem: str


def axe_violations(page, axe_source: str) -> list[dict]:
    """axe's serious and critical violations on the page as it is now."""
    page.add_script_tag(content=axe_source)
    return [v for v in page.evaluate(AXE_RUN_JS, TAGS) if v["impact"] in FAILING_IMPACTS]


def describe(url: str, violations: list[dict]) -> list[Finding]:
    findings = []
    for v in violations:
        nodes = "; ".join(f"{n['target']} ({' '.join(n['summary'].split())[:200]})" for n in v["nodes"][:5])
        more = f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else ""
        problem = f"{v['impact']} {v['id']}: {v['help']} — {nodes}{more} [{v['helpUrl']}]"
        findings.append(Finding(url, problem))
    return findings


def structure_problems(page, url: str) -> list[Finding]:
    """Landmarks and headings every page shares: one main, one h1, a skip link that lands on main."""
    problems = []
    for selector, what in (("main", "main landmark"), ("h1", "h1")):
        count = page.locator(selector).count()
        if count != 1:
            problems.append(Finding(url, f"{count} {what}s (one expected)"))
    if page.locator("a.skip-link[href='#main']").count() != 1:
        problems.append(Finding(url, "no skip link to #main"))
    shift = page.evaluate(LAYOUT_SHIFT_JS)
    if shift > MAX_LAYOUT_SHIFT:
        problems.append(Finding(url, f"layout shifts while loading (cumulative {shift:.3f})"))
    return problems


def signed_in_context(browser, live_server: str, email: str | None):
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-GB",
                                  timezone_id="Europe/London", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    if email:
        page.goto("/login")
        page.get_by_label("Work email").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).not_to_have_url(re.compile(r"/login"))
    return context, page


def report(findings: list[Finding]) -> str:
    lines = [f"{len(findings)} accessibility problem(s):"]
    lines += [f"- {f.url}: {f.problem}" for f in findings]
    return "\n".join(lines)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_for_each_role(browser, live_app, live_server, demo_company, axe_source, role):
    email = dict(DEMO_LOGINS)[role]
    context, page = signed_in_context(browser, live_server, email)

    def probe(url: str) -> tuple[int, str]:
        response = context.request.get(url, max_redirects=0)
        return response.status, response.headers.get("content-type", "")

    with live_app.app_context():
        person_id = db.session.scalar(select(Employee.id).where(Employee.email == email))
        pages = walk(live_app, person_id, probe).pages
        db.session.remove()
    assert len(pages) >= 10, f"the {role} opened only {len(pages)} pages"
    findings: list[Finding] = []
    for target in pages:
        response = page.goto(target.url)
        assert response.status == 200, target.url
        findings += describe(target.url, axe_violations(page, axe_source))
        findings += structure_problems(page, target.url)
    context.close()
    assert not findings, report(findings)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_fits_a_phone_for_each_role(browser, live_app, live_server, demo_company, role):
    """375 pixels wide: no page scrolls sideways as a whole (wide tables scroll inside their box)."""
    email = dict(DEMO_LOGINS)[role]
    context, page = signed_in_context(browser, live_server, email)
    page.set_viewport_size(PHONE)

    def probe(url: str) -> tuple[int, str]:
        response = context.request.get(url, max_redirects=0)
        return response.status, response.headers.get("content-type", "")

    with live_app.app_context():
        person_id = db.session.scalar(select(Employee.id).where(Employee.email == email))
        pages = walk(live_app, person_id, probe).pages
        db.session.remove()
    too_wide = []
    for target in pages:
        page.goto(target.url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprit = page.evaluate("""w => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-wrap, .site-nav'))
                .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""",
                                    PHONE["width"])
            too_wide.append(f"- {target.url}: {width}px wide ({', '.join(culprit) or 'see the page'})")
    context.close()
    assert not too_wide, "Pages wider than a 375-pixel phone:\n" + "\n".join(too_wide)


def test_pages_for_people_signed_out_and_error_pages_pass_axe(browser, live_app, live_server, demo_company,
                                                              axe_source):
    findings: list[Finding] = []
    context, page = signed_in_context(browser, live_server, None)
    from touchpoints.auth.models import User
    from touchpoints.auth.services import issue_password_reset

    with live_app.app_context():  # a reset link for someone who is not walked, so no session ends
        users = db.session.scalars(select(User).join(Employee).order_by(Employee.id.desc()).limit(2)).all()
        link = issue_password_reset(users[0], issued_by=users[1])
        db.session.commit()
        db.session.remove()
    for url, status in (("/login", 200), ("/no-such-page", 404), ("/reset/not-a-real-link", 404),
                        (f"/reset/{link.token}", 200)):
        assert page.goto(url).status == status
        findings += describe(url, axe_violations(page, axe_source)) + structure_problems(page, url)
    context.close()
    context, page = signed_in_context(browser, live_server, dict(DEMO_LOGINS)["Employee"])
    for url, status in (("/people/", 403), ("/touchpoints/999999", 404)):
        assert page.goto(url).status == status
        findings += describe(url, axe_violations(page, axe_source)) + structure_problems(page, url)
    context.close()
    assert not findings, report(findings)


def test_forms_showing_their_errors_pass_axe(browser, live_server, axe_source):
    """A form sent with mistakes: the error summary, the fields marked invalid, what was typed kept."""
    context, page = signed_in_context(browser, live_server, dict(DEMO_LOGINS)["HR partner"])
    findings: list[Finding] = []
    page.goto("/people/new")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Work email", exact=True).fill("ada@")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Work email", exact=True)).to_have_value("ada@")
    expect(page.get_by_label("Full name")).to_have_value("Ada Lovelace")
    findings += describe("/people/new (with errors)", axe_violations(page, axe_source))
    page.goto("/people/teams/new")
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    expect(page.locator(".error-summary")).to_be_visible()
    findings += describe("/people/teams/new (with errors)", axe_violations(page, axe_source))
    context.close()
    assert not findings, report(findings)


# ---------------------------------------------------------------- keyboard only

FOCUS_JS = r"""() => new Promise(resolve => requestAnimationFrame(() => {
  // Read after a frame: a date input moves focus into its day/hour part just after the key press.
  const el = document.activeElement;
  if (!el || el === document.body) return resolve(null);
  const style = getComputedStyle(el);
  // A date input's focus sits in its day or hour part, so the input itself only matches :focus-within.
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
  resolve({text, tag: el.tagName, type: el.type || '', name: el.name || '',
           visible: style.outlineStyle !== 'none' && style.outlineWidth !== '0px'});
}))"""


def tab_to(page, matches, *, limit: int = 120, backwards: bool = False) -> dict:
    """Press Tab until the focused element matches; every element on the way must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUS_JS)
        if focused is None:
            continue
        assert focused["visible"], f"no visible focus on {focused}"
        if matches(focused):
            return focused
    raise AssertionError(f"Tab never reached the element after {limit} presses")


def test_a_manager_logs_a_touchpoint_with_the_keyboard_only(browser, live_app, live_server, demo_company):
    context, page = signed_in_context(browser, live_server, dict(DEMO_LOGINS)["Manager"])
    page.goto("/?view=manager")
    # The skip link comes first and lands on the main content.
    tab_to(page, lambda f: f["text"] == "Skip to main content", limit=3)
    page.keyboard.press("Enter")
    # "Log details" of the first touchpoint this week opens the full log form.
    focused = tab_to(page, lambda f: f["text"].startswith("Log details"))
    title = focused["text"].removeprefix("Log details of ").split(" with ")[0]
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log:")
    # Choose "Video call" with the arrow keys inside the mode group, then save.
    tab_to(page, lambda f: f["name"] == "actual_mode")
    for _ in range(6):
        if page.evaluate("document.activeElement.value") == "video":
            break
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.checked && document.activeElement.value") == "video"
    tab_to(page, lambda f: f["text"] == "Save")
    page.keyboard.press("Enter")
    expect(page.locator(".flash--success")).to_contain_text(f"Logged: {title}")
    # Back home, the one-click "Done" works from the keyboard too.
    page.goto("/?view=manager")
    done = tab_to(page, lambda f: re.match(r"Done\s*:", f["text"]) is not None)
    logged = done["text"].split(":", 1)[1].split(" with ")[0].strip()
    page.keyboard.press("Enter")
    expect(page.locator(".flash--success")).to_contain_text(f"Logged: {logged}")
    context.close()


def test_an_employee_answers_a_pulse_survey_with_the_keyboard_only(browser, live_app, live_server,
                                                                   demo_company):
    from touchpoints.surveys.services import open_invitations

    demo_emails = {email for _, email in DEMO_LOGINS}
    with live_app.app_context():  # someone with the open round still to answer (others' tests answer too)
        # An employee and nothing else: the manager and HR home pages list surveys differently.
        leads = select(User.employee_id).join(UserRole).where(
            UserRole.role.in_([Role.MANAGER.value, Role.HR_PARTNER.value]))
        people = db.session.scalars(select(Employee).where(
            Employee.deactivated_at.is_(None), Employee.id.not_in(leads)).order_by(Employee.id)).all()
        email = next(p.email for p in people if p.email not in demo_emails and open_invitations(p.id))
        db.session.remove()
    context, page = signed_in_context(browser, live_server, email)
    page.goto("/")
    tab_to(page, lambda f: f["text"].startswith("Answer"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Send my answers")).to_be_visible()
    groups = page.locator("fieldset.question").count()
    for _ in range(groups):
        # Tab enters the next question's radio group; Space picks the focused option, an arrow moves on.
        tab_to(page, lambda f: f["type"] == "radio")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
    tab_to(page, lambda f: f["text"] == "Send my answers")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    context.close()
