"""Demo content for `seed_demo`: the components and checks of the real platform (idempotent), plus a little
history (a status log and two past incidents) so the uptime bars and the incident history have something to show."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.conf import portal_settings

from .models import (
    Check,
    CheckKind,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    Direction,
    Incident,
    IncidentUpdate,
)

ORACLE_HEARTBEAT_SECONDS = 3600

GROUPS = [
    ("Blockchain", "The chain the loyalty token and the lending pool live on.", 1),
    ("Portal", "This website and its live updates.", 2),
]

# (group, slug, name, description, [checks]); a check: slug, name, kind, unit, config, thresholds, direction, interval
COMPONENTS = [
    ("Blockchain", "ethereum-rpc", "Ethereum RPC", "The node the portal reads votes, balances and metrics from.", [
        ("latency", "RPC latency", CheckKind.RPC_LATENCY, "ms", {}, (500, 2000, 8000), Direction.HIGHER_IS_WORSE, 15),
        ("head-age", "Head block age", CheckKind.RPC_HEAD_AGE, "s", {}, (None, None, None), Direction.HIGHER_IS_WORSE, 15),
    ]),
    ("Blockchain", "lending-pool", "Lending pool", "Deposits and loans of the demo pool.", [
        ("tvl", "Total supplied (TVL)", CheckKind.CONTRACT_VIEW, "DUSD",
         {"contract": "LendingPool", "signature": "totalSupplied()(uint256)", "decimals": 18}, (None, None, None),
         Direction.LOWER_IS_WORSE, 30),
        ("borrowed", "Total borrowed", CheckKind.CONTRACT_VIEW, "DUSD",
         {"contract": "LendingPool", "signature": "totalBorrowed()(uint256)", "decimals": 18}, (None, None, None),
         Direction.HIGHER_IS_WORSE, 30),
        ("utilization", "Utilisation", CheckKind.CONTRACT_VIEW, "%",
         {"contract": "LendingPool", "signature": "utilization()(uint256)", "decimals": 16}, (90, 97, 99.5),
         Direction.HIGHER_IS_WORSE, 30),
    ]),
    ("Blockchain", "price-oracle", "Price oracle", "ETH / USD price feed; expected to update at least hourly.", [
        ("freshness", "Price age", CheckKind.CONTRACT_VIEW, "s",
         {"contract": "DemoPriceOracle", "signature": "latestRoundData()(uint80,int256,uint256,uint256,uint80)",
          "result_index": 3, "transform": "age"},
         (ORACLE_HEARTBEAT_SECONDS, ORACLE_HEARTBEAT_SECONDS * 3, ORACLE_HEARTBEAT_SECONDS * 12),
         Direction.HIGHER_IS_WORSE, 30),
    ]),
    ("Blockchain", "lending-risk", "Lending risk",
     "Loans near liquidation (health factor under 1.1), liquidations, bad debt and price-feed deviation.", [
        ("positions-at-risk", "Positions at risk", CheckKind.LENDING_RISK, "positions", {"metric": "positions_at_risk"},
         (1, 5, 20), Direction.HIGHER_IS_WORSE, 30),
        ("debt-at-risk", "Debt at risk", CheckKind.LENDING_RISK, "USD", {"metric": "debt_at_risk"},
         (None, None, None), Direction.HIGHER_IS_WORSE, 30),
        ("liquidations", "Liquidations (24 h)", CheckKind.LENDING_RISK, "liquidations", {"metric": "liquidations_24h"},
         (1, 10, 50), Direction.HIGHER_IS_WORSE, 60),
        ("bad-debt", "Bad debt", CheckKind.LENDING_RISK, "USD", {"metric": "bad_debt"}, (0.01, 1_000, 10_000),
         Direction.HIGHER_IS_WORSE, 60),
        ("oracle-deviation", "Price deviation from the reference feed", CheckKind.LENDING_RISK, "%",
         {"metric": "oracle_deviation"}, (1, 3, 10), Direction.HIGHER_IS_WORSE, 30),
    ]),
    ("Blockchain", "loyalty-token", "Loyalty token", "The LOYAL token that carries voting weight.", [
        ("supply", "Total supply", CheckKind.CONTRACT_VIEW, "LOYAL",
         {"contract": "LoyaltyToken", "signature": "totalSupply()(uint256)", "decimals": 18}, (None, None, None),
         Direction.LOWER_IS_WORSE, 60),
    ]),
    ("Portal", "database", "Database", "Where proposals, votes and discussions are stored.", [
        ("round-trip", "Query round trip", CheckKind.DATABASE, "ms", {}, (250, 1000, 5000), Direction.HIGHER_IS_WORSE, 15),
    ]),
    ("Portal", "realtime", "Live updates", "Websockets that push votes, comments and this page.", [
        ("round-trip", "Channel layer round trip", CheckKind.CHANNEL_LAYER, "ms", {}, (250, 1000, 5000),
         Direction.HIGHER_IS_WORSE, 15),
    ]),
]


@transaction.atomic
def seed_components() -> list[Component]:
    """Create what is missing; what an operator changed in the admin stays as they left it."""
    groups = {}
    for name, description, position in GROUPS:
        groups[name], _ = ComponentGroup.objects.get_or_create(
            name=name, defaults={"description": description, "position": position})
    components = []
    for position, (group, slug, name, description, checks) in enumerate(COMPONENTS, start=1):
        component, _ = Component.objects.get_or_create(
            slug=slug, defaults={"group": groups[group], "name": name, "description": description, "position": position})
        if slug == "ethereum-rpc" and portal_settings().health_reference_rpc_url:
            checks = [*checks, ("head-lag", "Head lag behind the reference node", CheckKind.RPC_HEAD_LAG, "blocks", {},
                                (3, 10, 50), Direction.HIGHER_IS_WORSE, 15)]
        for check_position, (check_slug, check_name, kind, unit, config, limits, direction, interval) in enumerate(checks):
            Check.objects.get_or_create(
                component=component, slug=check_slug,
                defaults={"name": check_name, "kind": kind, "unit": unit, "config": config, "direction": direction,
                          "degraded_at": limits[0], "partial_at": limits[1], "major_at": limits[2],
                          "interval_seconds": interval, "position": check_position},
            )
        components.append(component)
    return components


def seed_history(components: list[Component]) -> None:
    """90 days of status log and two past incidents, written once (a second run adds nothing)."""
    if ComponentStatusChange.objects.exists() or Incident.objects.exists():
        return
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(days=89, hours=now.hour)
    by_slug = {c.slug: c for c in components}
    for component in components:
        ComponentStatusChange.objects.create(component=component, status="operational", at=start)
    episodes = [  # component, days ago, hours into the day, minutes, status
        ("ethereum-rpc", 61, 14, 38, "major_outage"),
        ("ethereum-rpc", 23, 3, 95, "degraded_performance"),
        ("price-oracle", 9, 8, 140, "degraded_performance"),
        ("database", 44, 22, 12, "partial_outage"),
    ]
    for slug, days_ago, hour, minutes, status in episodes:
        component = by_slug[slug]
        at = (now - timedelta(days=days_ago)).replace(hour=hour, minute=5)
        ComponentStatusChange.objects.create(component=component, status=status, at=at)
        ComponentStatusChange.objects.create(component=component, status="operational", at=at + timedelta(minutes=minutes))
    for component in components:  # the live status picks up from the sampler
        ComponentStatusChange.objects.create(component=component, status=component.status, at=now - timedelta(minutes=1))
    _past_incident(
        "Ethereum RPC unreachable", [by_slug["ethereum-rpc"]], "critical", now - timedelta(days=61),
        [("investigating", 0, "The portal cannot reach its Ethereum node; votes and balances cannot be read."),
         ("identified", 15, "The node's host ran out of disk space. We are moving it to a bigger volume."),
         ("monitoring", 32, "The node is back and catching up. Votes are accepted again."),
         ("resolved", 38, "Everything works normally. No votes were lost: signed votes were refused, not dropped.")],
        hour=14,
    )
    _past_incident(
        "Stale ETH / USD price", [by_slug["price-oracle"]], "minor", now - timedelta(days=9),
        [("investigating", 0, "The price oracle has not updated for more than an hour."),
         ("resolved", 140, "The keeper was restarted and the price updates again.")],
        hour=8,
    )


def _past_incident(name, components, impact, day, updates, *, hour):
    started = day.replace(hour=hour, minute=5)
    incident = Incident.objects.create(name=name, impact=impact, status=updates[-1][0], created_at=started,
                                       started_at=started, updated_at=started + timedelta(minutes=updates[-1][1]),
                                       resolved_at=started + timedelta(minutes=updates[-1][1]))
    incident.components.set(components)
    for status, minutes, body in updates:
        at = started + timedelta(minutes=minutes)
        if status == "monitoring":
            incident.monitoring_at = at
        IncidentUpdate.objects.create(incident=incident, status=status, body=body, created_at=at, display_at=at)
    incident.save()


def seed(*, stdout) -> None:
    components = seed_components()
    seed_history(components)
    stdout.write(f"Status page: {len(components)} components with their checks.")
