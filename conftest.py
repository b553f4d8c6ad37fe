"""Shared fixtures: the personas, and a JSON API client per persona (bearer token).

Personas (STYLE §4), created per test in a handful of INSERTs (MD5 hashing in tests):
  admin      superuser, role admin
  inside     inside sales, team North, department Sales
  rep        salesperson, team North
  outsider   salesperson, team South (the other team)
  director   sales director
  marketer   marketing
  colleague  any colleague (after-sales, projects…): may only register

Django's test runner setup (run by pytest-django) appends 'testserver' to
ALLOWED_HOSTS, so the base settings' 127.0.0.1/localhost need no override.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from leadflow.accounts.models import Department, Role, Team, User
from leadflow.accounts.tokens import issue_token

PASSWORD = "Correct-horse-battery-9"

# name: (role, team name, department name, superuser)
PERSONAS: dict[str, tuple[str, str | None, str | None, bool]] = {
    "admin": (Role.ADMIN, None, None, True),
    "inside": (Role.INSIDE_SALES, "North", "Sales", False),
    "rep": (Role.SALES, "North", "Sales", False),
    "outsider": (Role.SALES, "South", "Sales", False),
    "director": (Role.SALES_DIRECTOR, None, "Sales", False),
    "marketer": (Role.MARKETING, None, "Marketing", False),
    "colleague": (Role.COLLEAGUE, None, "Service", False),
}


# The rows data migrations write (a transactional test's flush removes them).
REFERENCE_DATA = [
    ("leadflow.intake.migrations.0003_default_channels", "add"),
    ("leadflow.opportunities.migrations.0002_default_stages", "add"),
    ("leadflow.opportunities.migrations.0006_workflow_fields", "default_stale_limits"),
    (
        "leadflow.opportunities.migrations.0007_forecast_categories",
        "default_categories",
    ),
    (
        "leadflow.qualification.migrations.0002_default_settings_and_buying_phases",
        "add",
    ),
    ("leadflow.analytics.migrations.0003_benchmarks", "add"),
]


def seed_reference_data() -> None:
    import importlib

    from django.apps import apps as django_apps

    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(django_apps, None)


@pytest.fixture(autouse=True, scope="session")
def _reference_data_survives_flushes():
    """A transactional test ends with a flush of every table, which removes the
    migrations' reference rows; Django sends post_migrate after that flush (as it does
    to recreate content types), and this puts the rows back for the tests after it."""
    from django.db.models.signals import post_migrate

    def reseed(sender, **kwargs):
        if sender.name == "leadflow.intake":  # once per flush (the tables all exist)
            seed_reference_data()

    post_migrate.connect(reseed, dispatch_uid="leadflow-test-reference-data")
    yield
    post_migrate.disconnect(dispatch_uid="leadflow-test-reference-data")


@pytest.fixture(autouse=True)
def _fresh_working_calendar():
    """The working calendar is cached per process; every test starts from its own."""
    from leadflow.core.worktime import forget_calendar

    forget_calendar()
    yield
    forget_calendar()


@pytest.fixture(autouse=True)
def _empty_django_cache():
    """Django's per-process cache (the analytics filter choices, calibration counts)
    must not carry one test's data into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_configure(config):
    # WhiteNoise warns once per test client when collectstatic has not run; the
    # tests use plain StaticFilesStorage and never need STATIC_ROOT.
    config.addinivalue_line(
        "filterwarnings", "ignore:No directory at:UserWarning:django.core.handlers.base"
    )


@pytest.fixture
def teams(db) -> dict[str, Team]:
    return {name: Team.objects.create(name=name) for name in ("North", "South")}


@pytest.fixture
def departments(db) -> dict[str, Department]:
    return {
        name: Department.objects.create(name=name)
        for name in ("Sales", "Marketing", "Service")
    }


@pytest.fixture
def department(departments) -> Department:
    """The department inside sales and the reps belong to."""
    return departments["Sales"]


@pytest.fixture
def personas(teams, departments) -> dict[str, User]:
    hashed = make_password(PASSWORD)
    users = {}
    for name, (role, team, dept, superuser) in PERSONAS.items():
        users[name] = User.objects.create(
            username=name,
            first_name=name.capitalize(),
            last_name="Persona",
            email=f"{name}@leadflow.test",
            password=hashed,
            role=role,
            team=teams[team] if team else None,
            department=departments[dept] if dept else None,
            is_superuser=superuser,
            is_staff=superuser,
        )
    return users


@pytest.fixture
def admin(personas) -> User:
    return personas["admin"]


@pytest.fixture
def inside(personas) -> User:
    return personas["inside"]


@pytest.fixture
def rep(personas) -> User:
    return personas["rep"]


@pytest.fixture
def outsider(personas) -> User:
    return personas["outsider"]


@pytest.fixture
def director(personas) -> User:
    return personas["director"]


@pytest.fixture
def marketer(personas) -> User:
    return personas["marketer"]


@pytest.fixture
def colleague(personas) -> User:
    return personas["colleague"]


class ApiClient:
    """A django.test.Client that speaks JSON and sends a bearer token (if any)."""

    def __init__(self, token: str | None = None):
        # A server error comes back as a 500 response (asserted on), not an exception.
        self.client = Client(raise_request_exception=False)
        self.token = token

    def _auth(self) -> dict[str, str]:
        if self.token is None:
            return {}
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def _send(self, method: str, path: str, body: Any, raw: str | bytes | None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return getattr(self.client, method)(
            path, data, content_type="application/json", **self._auth()
        )

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, **self._auth())

    def post(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("post", path, body, raw)

    def patch(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("patch", path, body, raw)

    def put(self, path: str, body: Any = None, *, raw: str | bytes | None = None):
        return self._send("put", path, body, raw)


@pytest.fixture
def api_as(personas) -> Callable[[str], ApiClient]:
    """``api_as("inside").post("/api/inquiries", {...})``: one token per persona."""
    clients: dict[str, ApiClient] = {}

    def client_for(name: str) -> ApiClient:
        if name not in clients:
            _token, key = issue_token(personas[name], actor=None, name="tests")
            clients[name] = ApiClient(key)
        return clients[name]

    return client_for


@pytest.fixture
def anonymous_api() -> ApiClient:
    return ApiClient(None)
