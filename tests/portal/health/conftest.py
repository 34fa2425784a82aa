import pytest

from portal.health.models import Check, CheckKind, Component, ComponentGroup, Direction


@pytest.fixture
def staff(make_user):
    return make_user(staff=True)


@pytest.fixture
def member(make_user):
    return make_user()


@pytest.fixture
def group(db):
    return ComponentGroup.objects.create(name="Blockchain", position=1)


@pytest.fixture
def rpc_component(group):
    component = Component.objects.create(slug="ethereum-rpc", name="Ethereum RPC", group=group, position=1)
    Check.objects.create(component=component, slug="latency", name="RPC latency", kind=CheckKind.RPC_LATENCY, unit="ms",
                         degraded_at=2000, major_at=8000, interval_seconds=5)
    return component


@pytest.fixture
def db_component(db):
    component = Component.objects.create(slug="database", name="Database", position=2)
    Check.objects.create(component=component, slug="round-trip", name="Round trip", kind=CheckKind.DATABASE, unit="ms",
                         degraded_at=250, partial_at=1000, major_at=5000, direction=Direction.HIGHER_IS_WORSE)
    return component
