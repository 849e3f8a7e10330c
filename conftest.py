"""Shared test fixtures: the staff personas and small registry builders."""

import os
from pathlib import Path

# Tests run tasks where they are enqueued, so a match or an import finishes inside the test.
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


def make_staff(username: str, role: str | None):
    from django.contrib.auth.models import Group, User

    from recalldesk.staff.roles import ensure_roles

    ensure_roles()
    user = User.objects.create_user(username, f"{username}@example.com", "correct-horse-9")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


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
