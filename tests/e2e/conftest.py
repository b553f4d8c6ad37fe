"""Browser journeys: Playwright (sync API) against pytest-django's live_server.

Every test in this folder is marked ``e2e`` and ``django_db(transaction=True)``: the
live server answers from another thread, so the data must be committed. The database
is flushed after each such test, which also removes the channels and stages the data
migrations created; the ``reference_data`` fixture below puts them back (it runs the
migrations' own functions, so the rows are exactly the shipped ones).

Run: ``pytest tests/e2e`` (Chromium from Debian at /usr/bin/chromium, headless).
"""

import os
import tempfile

# Sync Playwright runs an event loop in the test thread; Django's ORM would refuse
# to be called from it. Set before anything touches the database.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
if not os.environ.get("XDG_CONFIG_HOME"):
    # Chromium writes its config here: keep it out of the home folder.
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="leadflow-e2e-xdg-")

import importlib  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.apps import apps as django_apps  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

from leadflow.accounts.models import Department, Role, Team, User  # noqa: E402

PASSWORD = "Journey-through-the-funnel-7"
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 5_000

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(config, items):
    """Mark the tests of this folder (only) as browser journeys on committed data."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # English unless a test switches language; the server picks it from this header.
    return {**browser_context_args, "locale": "en-GB"}


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS * 2)
    return page


def _run_data_migration(module: str) -> None:
    importlib.import_module(module).add(django_apps, None)


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """The default channels and stages (flushed away by transactional tests)."""
    _run_data_migration("leadflow.intake.migrations.0003_default_channels")
    _run_data_migration("leadflow.opportunities.migrations.0002_default_stages")


def _user(username: str, first: str, last: str, role: str, **extra) -> User:
    return User.objects.create(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{username}@leadflow.test",
        password=make_password(PASSWORD),
        role=role,
        **extra,
    )


@pytest.fixture
def team(reference_data) -> Team:
    return Team.objects.create(name="North")


@pytest.fixture
def department(reference_data) -> Department:
    return Department.objects.create(name="Sales")


@pytest.fixture
def inside(team, department) -> User:
    """Inside sales: registers and assesses inquiries."""
    return _user(
        "ines", "Ines", "Inside", Role.INSIDE_SALES, team=team, department=department
    )


@pytest.fixture
def rep(team, department) -> User:
    """A salesperson in the same team: owns qualified leads."""
    return _user("rep", "Rik", "Rep", Role.SALES, team=team, department=department)


class Browser:
    """A few steps every journey repeats, bound to one page and the live server."""

    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str) -> Page:
        self.page.goto(self.url(path))
        return self.page

    def login(self, username: str, password: str = PASSWORD) -> Page:
        """Log in through the form (the header also has EN/NL submit buttons)."""
        page = self.page
        page.context.clear_cookies()
        page.goto(self.url("/login/"))
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main button.btn-primary")
        expect(page.locator("[data-testid=bell]")).to_be_visible()
        return page


@pytest.fixture
def browser_at(page: Page, live_server) -> Browser:
    return Browser(page, live_server.url)


@pytest.fixture
def qualification_data(reference_data):
    """The default quote gate (5 of 8) and the eight buying-clock phases, which the
    flush also removes; the qualified-lead journeys need them."""
    _run_data_migration(
        "leadflow.qualification.migrations.0002_default_settings_and_buying_phases"
    )
