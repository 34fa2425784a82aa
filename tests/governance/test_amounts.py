"""Every amount the governance API and the recount file publish is a plain decimal string (CONTRACT: "0", "12.5",
never "0E-18" or "1E+3"), formatted by the one `amount_text`, so viem's parseUnits and ethers' FixedNumber read it."""

from __future__ import annotations

import io
import json
import re
import time
from http import HTTPStatus

import pytest
import time_machine
from django.core.management import call_command

from governance import services
from governance.api import router

pytestmark = [pytest.mark.django_db, pytest.mark.chain]

# Canonical: no sign, no leading zeros, no trailing fractional zeros, no exponent.
AMOUNT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
AMOUNT_KEYS = {"weight", "total_weight", "quorum", "quorum_weight", "multiplier"}


def published_amounts(value, path="$"):
    """(JSON path, value) of every amount field anywhere in an answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in AMOUNT_KEYS and not isinstance(item, (dict, list)):
                yield f"{path}.{key}", item
            else:
                yield from published_amounts(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from published_amounts(item, f"{path}[{i}]")


@pytest.fixture
def proposals(make_proposal, ballot, post_vote, dev_accounts):
    """A draft (nothing cast), a ranked-choice vote with an eliminated option, a Copeland vote whose last choice
    nobody ranks above another (zero points, zero support), and a percent quorum (computed to 18 decimals)."""
    draft = make_proposal("single-choice", ["A", "B"], activate=False)
    ranked = make_proposal("ranked-choice", ["A", "B", "C", "D"], quorum="1")
    for account, ranking in zip(dev_accounts[1:4], ([1, 2, 3, 4], [2, 1, 3, 4], [3, 2, 1, 4]), strict=True):
        assert post_vote(ranked.number, ballot(account, ranked, ranking)).status_code == HTTPStatus.CREATED
    copeland = make_proposal("copeland", ["A", "B", "C"], quorum="10", quorum_kind="percent", hours=1)
    for account, ranking in zip(dev_accounts[1:3], ([1, 2, 3], [2, 1, 3]), strict=True):
        assert post_vote(copeland.number, ballot(account, copeland, ranking)).status_code == HTTPStatus.CREATED
    return draft, ranked, copeland


def test_every_amount_of_every_governance_endpoint_and_the_export_is_a_plain_decimal(
    proposals, client, ballot, post_vote, dev_accounts, get_export,
):
    draft, ranked, copeland = proposals
    answers: dict[str, object] = {}
    with time_machine.travel(copeland.end.timestamp() + 60, tick=False):
        services.proposals_close_due()
        for proposal in proposals:
            n = proposal.number
            answers[f"/proposals/{n}"] = client.get(f"/api/v1/proposals/{n}").json()
            answers[f"/proposals/{n}/results"] = client.get(f"/api/v1/proposals/{n}/results").json()
            answers[f"/proposals/{n}/votes"] = client.get(f"/api/v1/proposals/{n}/votes").json()
            answers[f"/proposals/{n}/export"] = json.loads(get_export(n)[1])
        answers["/proposals"] = client.get("/api/v1/proposals").json()
        answers["/eip712"] = client.get("/api/v1/eip712").json()
    cast = post_vote(ranked.number, ballot(dev_accounts[1], ranked, [4, 3, 2, 1], timestamp=int(time.time()) + 1))
    assert cast.status_code == HTTPStatus.CREATED
    answers["POST /proposals/{number}/votes"] = cast.json()

    routes = {path.replace("{number}", "N") for path in router.path_operations}
    walked = {re.sub(r"/proposals/\d+", "/proposals/N", path) for path in answers if not path.startswith("POST")}
    assert walked == routes  # a new endpoint has to be walked here too

    found = [
        (endpoint, where, value) for endpoint, answer in answers.items() for where, value in published_amounts(answer)
    ]
    assert {where.rsplit(".", 1)[-1] for _, where, _ in found} == AMOUNT_KEYS
    assert [f for f in found if not (isinstance(f[2], str) and AMOUNT.fullmatch(f[2]))] == []
    # The zeros that used to be "0E-18": a draft's total, an eliminated option, a choice with no Copeland points.
    assert answers[f"/proposals/{draft.number}/results"]["total_weight"] == "0"
    assert answers[f"/proposals/{ranked.number}/results"]["choices"][3]["weight"] == "0"
    assert answers[f"/proposals/{copeland.number}/export"]["result"]["choices"][2]["weight"] == "0"


def test_verify_proposal_prints_plain_decimals(proposals):
    _, ranked, _ = proposals
    out = io.StringIO()
    call_command("verify_proposal", str(ranked.number), stdout=out)
    printed = re.findall(r"^  \d+\. .*: (\S+)$", out.getvalue(), flags=re.MULTILINE)
    total = re.search(r"total weight (\S+),", out.getvalue()).group(1)
    assert len(printed) == 4 and printed[3] == "0"
    assert all(AMOUNT.fullmatch(amount) for amount in [*printed, total]), out.getvalue()
