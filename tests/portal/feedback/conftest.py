import pytest
from django.contrib.auth.models import Group

from portal.accounts.models import User
from portal.feedback import services
from portal.feedback.models import Tag


@pytest.fixture
def make_user(db):
    def make(name: str, **extra) -> User:
        return User.objects.create(username=name, **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


@pytest.fixture
def moderator(make_user):
    user = make_user("moderator")
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


@pytest.fixture
def tag(db):
    return Tag.objects.create(slug="lending", name="Lending")


@pytest.fixture
def idea(alice):
    return services.post_create(author=alice, kind="idea", title="Add a USDC lending market", body="Stablecoin please")


@pytest.fixture
def question(alice):
    return services.post_create(author=alice, kind="question", title="How do I repay a loan?", body="I am stuck")
