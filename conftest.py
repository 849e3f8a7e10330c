"""Shared test fixtures: the staff personas and small registry builders."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def make_staff(username: str, role: str | None):
    from django.contrib.auth.models import Group, User

    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    user = User.objects.create_user(username, f"{username}@example.com", "correct-horse-9")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(autouse=True)
def run_tasks_at_once(settings):
    """Tasks run where they are enqueued, so a match or an import finishes inside the test."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: cached pages and rate-limit counters (every test
    client comes from 127.0.0.1) must not leak from one test into the next."""
    from django.core.cache import cache

    from recalldesk.public.pages import forget
    from recalldesk.public.views import forget_rendered

    cache.clear()
    forget()
    forget_rendered()
    yield
    cache.clear()
    forget()
    forget_rendered()


@pytest.fixture
def coordinator(db):
    return make_staff("cora", "coordinator")


@pytest.fixture
def agent(db):
    return make_staff("aggie", "agent")


@pytest.fixture
def approver(db):
    return make_staff("abe", "approver")


@pytest.fixture
def analyst(db):
    return make_staff("ana", "analyst")


@pytest.fixture
def admin_user(db):
    return make_staff("ada", "admin")


@pytest.fixture
def outsider(db):
    return make_staff("otto", None)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the shared data sets are not beside the project ({SHARED_DATA})")
    return SHARED_DATA
