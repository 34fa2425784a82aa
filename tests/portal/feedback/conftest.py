import pytest

from portal.feedback import services
from portal.feedback.models import Tag


@pytest.fixture
def alice(make_user):
    return make_user(display_name="alice")


@pytest.fixture
def bob(make_user):
    return make_user(display_name="bob")


@pytest.fixture
def staff(make_user):
    return make_user(display_name="staffer", staff=True)


@pytest.fixture
def moderator(make_user):
    return make_user(display_name="moderator", groups=["moderators"])


@pytest.fixture
def tag(db):
    return Tag.objects.create(slug="lending", name="Lending")


@pytest.fixture
def idea(alice):
    return services.post_create(author=alice, kind="idea", title="Add a USDC lending market", body="Stablecoin please")


@pytest.fixture
def question(alice):
    return services.post_create(author=alice, kind="question", title="How do I repay a loan?", body="I am stuck")
