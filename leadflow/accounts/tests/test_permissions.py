"""The role capability table: who may register, triage, own leads, manage marketing."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from leadflow.accounts.models import Role
from leadflow.accounts.permissions import capabilities_of, has_capability, require

pytestmark = pytest.mark.django_db

EXPECTED = {
    # capability: personas that have it
    "inquiry.register": {
        "admin",
        "inside",
        "rep",
        "outsider",
        "director",
        "marketer",
        "colleague",
    },
    "inquiry.triage": {"admin", "inside", "director"},
    "inquiry.view_all": {"admin", "inside", "director", "marketer"},
    "order.book": {"admin", "inside", "rep", "outsider", "director"},
    "contact.edit": {"admin", "inside", "rep", "outsider", "director", "marketer"},
    "opportunity.view_all": {"admin", "inside", "director"},
    "opportunity.own": {"inside", "rep", "outsider", "director"},
    "marketing.manage": {"admin", "marketer"},
    "config.manage": {"admin"},
}


@pytest.mark.parametrize("capability", sorted(EXPECTED))
def test_each_role_has_exactly_its_capabilities(personas, capability):
    have = {name for name, user in personas.items() if has_capability(user, capability)}
    assert have == EXPECTED[capability]


def test_a_superuser_acts_as_administrator_whatever_the_stored_role(personas):
    boss = personas["colleague"]
    boss.is_superuser = True
    assert boss.effective_role == Role.ADMIN
    assert has_capability(boss, "config.manage")


def test_inactive_and_anonymous_users_have_no_capabilities(personas):
    inside = personas["inside"]
    inside.is_active = False
    assert not has_capability(inside, "inquiry.register")
    assert not has_capability(AnonymousUser(), "inquiry.register")


def test_require_raises_permission_denied_naming_the_capability(personas):
    with pytest.raises(PermissionDenied, match="inquiry.triage"):
        require(personas["rep"], "inquiry.triage")
    require(personas["inside"], "inquiry.triage")


def test_capabilities_of_gives_template_friendly_names(personas):
    caps = capabilities_of(personas["marketer"])
    assert caps["marketing_manage"] is True
    assert caps["inquiry_triage"] is False
