"""snapshot.js (the pinned npm devDependency) as the oracle for tallies: `snapshot_scores(cases)` runs
tests/oracles/snapshot_scores.mjs once for a whole batch, because loading snapshot.js takes seconds."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from governance.voting import Outcome, VotingMethod, VotingType

SCRIPT = Path(__file__).with_name("snapshot_scores.mjs")
ROOT = SCRIPT.parents[2]
PACKAGE = ROOT / "node_modules" / "@snapshot-labs" / "snapshot.js" / "package.json"


def pinned_version() -> str:
    """The version package.json pins (what docs/recount-format.md names)."""
    return json.loads((ROOT / "package.json").read_text())["devDependencies"]["@snapshot-labs/snapshot.js"]


def snapshot_case(voting_type: str, choices: list[str], votes, describe=()) -> dict:
    """One tally for the oracle: `votes` are (parsed ballot, Decimal weight); weights go over as doubles, which is
    what snapshot.js receives from a score API."""
    return {
        "type": voting_type,
        "choices": list(choices),
        "votes": [{"choice": _js_choice(ballot), "balance": float(weight)} for ballot, weight in votes],
        "describe": [_js_choice(ballot) for ballot in describe],
    }


def _js_choice(ballot):
    # A weighted/quadratic ballot is a JS object keyed by option number, as the signed JSON is.
    return {str(k): v for k, v in ballot.items()} if isinstance(ballot, dict) else ballot


def snapshot_scores(cases: list[dict]) -> tuple[str, list[dict]]:
    """(snapshot.js version, one `{"scores", "total", "words"}` per case)."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the snapshot.js oracle (make bootstrap checks for it)."
    assert PACKAGE.exists(), "snapshot.js is not installed: run `make bootstrap` (npm ci) first."
    run = subprocess.run(
        [node, str(SCRIPT)], input=json.dumps({"cases": cases}), capture_output=True, text=True, cwd=ROOT,
        timeout=300, check=False,
    )
    assert run.returncode == 0, f"the snapshot.js oracle failed: {run.stderr[-2000:]}"
    answer = json.loads(run.stdout)
    return answer["version"], answer["results"]


def tolerance(total) -> Decimal:
    """How close a portal score must be to snapshot.js's: 1e-9 of the weight cast, plus the one wei the portal rounds
    to (snapshot.js computes in doubles, the portal in exact decimals rounded to 18 places)."""
    return Decimal("1e-9") * abs(Decimal(str(total))) + Decimal("1e-18")


def assert_matches_snapshot(
    method: VotingMethod, scores: list[Decimal], total: Decimal, js: dict, *, quorum: Decimal = Decimal(0),
    exact_tie: bool = False,
) -> None:
    """The portal's scores and total are snapshot.js's to `tolerance`, and the portal decides the outcome snapshot.js's
    scores give: the same winner where snapshot.js has a clear leader; where its leaders are closer than doubles can
    tell, the portal's are as close and its exact count decides."""
    tol = tolerance(js["total"])
    assert abs(total - Decimal(str(js["total"]))) <= tol
    theirs = [Decimal(repr(float(s))) for s in js["scores"]]
    assert len(scores) == len(theirs)
    assert all(abs(mine - other) <= tol for mine, other in zip(scores, theirs, strict=True)), (scores, theirs)
    outcome, winner = method.decide(scores, total, quorum)
    if quorum > total:
        assert outcome == Outcome.QUORUM_NOT_MET
        return
    if exact_tie and method.voting_type != VotingType.RANKED_CHOICE:
        # Exact for the portal; snapshot.js may sum the same roots in another order. (Instant run-off strikes the
        # lowest-numbered of tied choices, so a mirrored election need not end in a tie; the scores still agree.)
        assert scores[0] == scores[1] and abs(theirs[0] - theirs[1]) <= tol
    lead, rival = _lead(method, theirs)
    if lead is None:  # nobody voted
        assert (outcome, winner) == (Outcome.REJECTED, None)
    elif lead - rival > tol:
        assert (outcome, winner) == (Outcome.PASSED, _leader(method, theirs))
    else:
        mine_lead, mine_rival = _lead(method, scores)
        assert mine_lead - mine_rival <= 2 * tol
        assert outcome == (Outcome.PASSED if winner else Outcome.REJECTED)


def _lead(method: VotingMethod, scores: list[Decimal]) -> tuple[Decimal | None, Decimal | None]:
    """(the leader's score, the score it must beat): For against Against for basic, else the top two."""
    if sum(scores) <= 0:
        return None, None
    if method.voting_type == VotingType.BASIC:
        return scores[0], scores[1]
    ordered = sorted(scores, reverse=True)
    return ordered[0], ordered[1]


def _leader(method: VotingMethod, scores: list[Decimal]) -> int:
    return 1 if method.voting_type == VotingType.BASIC else scores.index(max(scores)) + 1
