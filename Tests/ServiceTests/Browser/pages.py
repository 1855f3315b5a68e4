"""The pages in a real headless Chromium (Selenium): sign-in, the start page
of a coordinator and of a unit manager, a case page, another's case refused,
a wrong token, sign-out. Run by PageTests.swift against a running service:

    python3 pages.py URL SHOTS COORDINATOR_TOKEN 'case-1 case-2' UNIT_MANAGER_TOKEN OTHER_CASE

Exits 0 when every check holds; prints each failed check and exits 1.
"""
import json
import sys
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, shots, coordinator, mine, manager, other = sys.argv[1:7]
mine = sorted(mine.split())
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAILED:", what, file=sys.stderr)


options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1024"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(120)
driver.set_script_timeout(120)


def sign_in(token):
    driver.delete_all_cookies()
    driver.get(url + "/login")
    field = driver.find_element(By.ID, "token")
    label = driver.find_element(By.CSS_SELECTOR, "label[for=token]")
    check(label.text == "Tilgangsnøkkel", "the token field has its label")
    field.send_keys(token)
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]"))


def submit(button):
    """Clicks and waits for the next page to replace this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()

    def gone(_):
        # Stale, or (Chromium, mid-navigation) "does not belong to the document": the page was replaced.
        try:
            page.is_enabled()
            return False
        except Exception:
            return True

    WebDriverWait(driver, 90).until(gone)


def accessible(page):
    """axe-core on the page: no serious or critical finding against WCAG 2 A and AA (the bundled axe predates its 2.1 tags)."""
    Axe(driver).inject()
    results = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
        ".then(function (r) { done(r.violations); }).catch(function (e) { done([{id: 'axe', impact: 'critical', help: String(e), nodes: []}]); });")
    found = [v for v in results if v.get("impact") in ("serious", "critical")]
    for v in found:
        print("axe:", page, v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3], file=sys.stderr)
    check(not found, "axe finds nothing serious on " + page)


def heading():
    return driver.find_element(By.TAG_NAME, "h1").text


try:
    # A wrong token: the error beside the field, in Norwegian.
    sign_in("iplog_wrong")
    check(heading() == "Logg inn", "a wrong token stays on the sign-in page")
    check(driver.find_element(By.ID, "token").get_attribute("aria-invalid") == "true", "the field is marked invalid")
    check("ugyldig" in driver.find_element(By.ID, "token-feil").text, "the error says why")
    driver.save_screenshot(shots + "/login-error.png")
    accessible("the sign-in page with an error")

    # The coordinator: Mine saker lists exactly their cases.
    sign_in(coordinator)
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nb", "lang=nb")
    check(heading() == "Mine saker", "the coordinator's start page is Mine saker, not " + heading())
    captions = [c.text for c in driver.find_elements(By.TAG_NAME, "caption")]
    listed = []
    for table in driver.find_elements(By.TAG_NAME, "table"):
        if table.find_element(By.TAG_NAME, "caption").text == "Sakene der du er koordinator":
            listed = sorted(a.text for a in table.find_elements(By.CSS_SELECTOR, "tbody a"))
    check(listed == mine, "Mine saker lists %s, expected %s (tables: %s)" % (listed, mine, captions))
    driver.save_screenshot(shots + "/mine-saker.png")
    accessible("Mine saker")

    # Their case: the status card, the timeline with the chain verified.
    driver.get(url + "/cases/" + mine[0])
    check(heading() == "Sak " + mine[0], "the case page's heading")
    check("Hashkjeden er kontrollert" in driver.page_source, "the chain is verified on the case page")
    check(len(driver.find_elements(By.CSS_SELECTOR, "ol.tidslinje li")) >= 6, "the timeline shows the case's events")
    driver.save_screenshot(shots + "/sak.png")
    accessible("the case page")

    # A form: schedule a meeting; it is in the history after.
    events = len(driver.find_elements(By.CSS_SELECTOR, "ol.tidslinje li"))
    driver.execute_script("arguments[0].value = '2026-12-20'", driver.find_element(By.ID, "scheduledFor"))
    submit(driver.find_element(By.CSS_SELECTOR, "form[action$='/meetings'] button"))
    check(len(driver.find_elements(By.CSS_SELECTOR, "ol.tidslinje li")) == events + 1, "the meeting is in the history")
    check("Møte berammet" in driver.find_element(By.CSS_SELECTOR, "ol.tidslinje").text, "the history names it in Norwegian")

    # A meeting held, with an action item: in the history, and the item among the open ones.
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(By.ID, "meetingId")).select_by_value("ny")
    driver.execute_script("arguments[0].value = '2026-12-01'", driver.find_element(By.ID, "heldOn"))
    driver.find_element(By.ID, "attendees").send_keys("koordinator\nfastlege")
    driver.find_element(By.ID, "minutesWritten").click()
    driver.find_element(By.ID, "item1Description").send_keys("Søke om hjelpemidler")
    driver.find_element(By.ID, "item1Responsible").send_keys("ergoterapeut")
    driver.execute_script("arguments[0].value = '2027-01-15'", driver.find_element(By.ID, "item1DueOn"))
    submit(driver.find_element(By.CSS_SELECTOR, "form[action$='/meetings/held'] button"))
    check("Møte holdt" in driver.find_element(By.CSS_SELECTOR, "ol.tidslinje").text, "the meeting held is in the history")
    check("i-1 fra møte" in driver.page_source, "its action item is open")
    events = len(driver.find_elements(By.CSS_SELECTOR, "ol.tidslinje li"))
    accessible("the case page with its forms")

    # A form with a field missing: the error beside it, what was typed kept, shown as text (never run).
    script = "<script>alert('xss')</script>"
    driver.find_element(By.ID, "category").send_keys(script)
    driver.execute_script("arguments[0].removeAttribute('required')", driver.find_element(By.ID, "description"))
    submit(driver.find_element(By.CSS_SELECTOR, "form[action$='/deviations'] button"))
    check(driver.find_element(By.ID, "category").get_attribute("value") == script, "what was typed is kept, as text")
    check(driver.find_element(By.ID, "description").get_attribute("aria-invalid") == "true", "the missing field is marked")
    check("Beskriv" in driver.find_element(By.ID, "description-feil").text, "the error is beside the field")
    check(len(driver.find_elements(By.CSS_SELECTOR, "ol.tidslinje li")) == events, "nothing written")
    try:
        driver.switch_to.alert
        check(False, "a script in free text ran")
    except Exception:
        pass
    driver.save_screenshot(shots + "/skjemafeil.png")
    accessible("a form with an error")
    driver.find_element(By.ID, "description").send_keys("Opplysninger sendt til feil mottaker.")
    submit(driver.find_element(By.CSS_SELECTOR, "form[action$='/deviations'] button"))
    check("Avvik meldt" in driver.find_element(By.CSS_SELECTOR, "ol.tidslinje").text, "the reported deviation is in the history")

    # Another coordinator's case: as if it did not exist.
    driver.get(url + "/cases/" + other)
    check(heading() == "Fant ikke saken", "another's case is not shown: " + heading())

    # Sign out: back to the sign-in page, and the start page needs a sign-in again.
    driver.get(url + "/")
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
    check(heading() == "Logg inn", "signed out")
    driver.get(url + "/")
    check(heading() == "Logg inn", "after sign-out the start page asks for a sign-in")

    # The unit manager: their unit's deadlines passed, the numbers of the report.
    sign_in(manager)
    check(heading() == "Enhetens fristbrudd", "the unit manager's start page: " + heading())
    total = 0
    for table in driver.find_elements(By.TAG_NAME, "table"):
        if table.find_element(By.TAG_NAME, "caption").text.startswith("Åpne fristbrudd etter regel"):
            total = sum(int(row.find_elements(By.TAG_NAME, "td")[-1].text) for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"))
    # The same numbers as the JSON report for the same user, now (the coordinator reported a deviation above).
    api = urllib.request.Request(url + "/v1/reports/deviations", headers={"Authorization": "Bearer " + manager})
    count = len(json.load(urllib.request.urlopen(api))["deviations"])
    check(total == count, "the unit manager's table adds up to %d, the report says %d" % (total, count))
    charts = driver.find_elements(By.CSS_SELECTOR, "svg[role=img]")
    check(len(charts) == 3, "three charts, each an image with a title: %d" % len(charts))
    check(all(c.find_element(By.TAG_NAME, "title").get_attribute("textContent") for c in charts), "each chart has its title")
    driver.save_screenshot(shots + "/dashbord.png")
    accessible("the unit manager's dashboard")
    driver.get(url + "/cases/" + mine[0])
    check(heading() == "Ingen tilgang", "a unit manager sees no case content: " + heading())
    driver.save_screenshot(shots + "/enhet.png")
    accessible("the unit manager's refusal")
    driver.get(url + "/")
    accessible("the unit manager's start page")
finally:
    driver.quit()

sys.exit(1 if failures else 0)
