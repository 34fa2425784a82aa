"""`verify_proposal --from-file` with a file that is not a recount file, or one whose parts have the wrong shape: a
sentence naming the part, never a traceback (the command reads files from anyone)."""

from __future__ import annotations

import copy
import io
import json
from http import HTTPStatus

import pytest
from django.core.management import CommandError, call_command

pytestmark = [pytest.mark.django_db, pytest.mark.chain]


@pytest.fixture
def exported(make_proposal, ballot, post_vote, dev_accounts, get_export):
    proposal = make_proposal("basic", ["For", "Against", "Abstain"], quorum="1")
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1)).status_code == HTTPStatus.CREATED
    return proposal.number, json.loads(get_export(proposal.number)[1])


def _mutated(export: dict, path: str, value):
    changed = copy.deepcopy(export)
    *parents, last = path.split(".")
    node = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "sentence"),
    [
        ("proposal", [], "“proposal” must be an object."),
        ("votes", "x", "“votes” must be a list."),
        ("votes", [1, 2], "every entry of “votes” must be an object."),
        ("eip712", None, "“eip712” must be an object."),
        ("result", 3, "“result” must be an object."),
        ("proposal.choices", None, "“proposal.choices” is missing or not valid."),
        ("proposal.snapshot_block", "abc", "“proposal.snapshot_block” is missing or not valid."),
        ("proposal.quorum", "lots", "“proposal.quorum” is missing or not valid."),
        ("proposal.strategies", [{"kind": "nope"}], "“proposal.strategies” is missing or not valid."),
        ("proposal.voting_type", "zzz", "malformed at “proposal.voting_type”: Unknown voting type 'zzz'"),
        ("proposal.snapshot_time", "yesterday", "“proposal.snapshot_time” is missing or not valid."),
        ("eip712.domain", "x", "“eip712.domain” is missing or not valid."),
    ],
)
def test_a_malformed_recount_file_is_refused_with_a_sentence_naming_its_part(exported, tmp_path, path, value, sentence):
    number, export = exported
    file = tmp_path / "recount.json"
    file.write_text(json.dumps(_mutated(export, path, value)))
    with pytest.raises(CommandError) as refused:
        call_command("verify_proposal", str(number), "--from-file", str(file), stdout=io.StringIO())
    assert str(refused.value).startswith(f"{file}: The recount file is malformed")
    assert sentence in str(refused.value)
    assert ".." not in str(refused.value)


@pytest.mark.parametrize("content", ["[1, 2]", "null", '"a string"', "42"])
def test_a_file_that_is_not_a_json_object_is_not_a_recount_file(exported, tmp_path, content):
    number, _ = exported
    file = tmp_path / "recount.json"
    file.write_text(content)
    with pytest.raises(CommandError, match="This is not a recount file of format dao-portal-recount/1."):
        call_command("verify_proposal", str(number), "--from-file", str(file), stdout=io.StringIO())
