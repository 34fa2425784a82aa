"""`manage.py verify_proposal NUMBER [--from-file FILE] [--rpc URL]`: recount a proposal independently.

From the recount file (the portal's own export when no file is given) and any RPC endpoint: re-verify every
signature, re-read every weight through the batched reader, recompute the tally, and say whether it matches.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.chain import ChainUnavailable
from governance.models import Proposal
from governance.exports import export_file
from governance.recount import RecountFile, RecountFileError, recount
from governance.voting import amount_text


class Command(BaseCommand):
    help = "Re-verify the signatures and weights of a proposal's votes and recompute its tally."

    def add_arguments(self, parser):
        parser.add_argument("number", type=int, help="The proposal number (12 for LIP-12).")
        parser.add_argument("--from-file", dest="from_file", help="A recount file (GET /api/v1/proposals/N/export).")
        parser.add_argument("--rpc", help="JSON-RPC endpoint to read signatures' wallets and weights from.")

    def handle(self, *args, number: int, from_file: str | None, rpc: str | None, **options):
        export = self._load(number, from_file)
        proposal = export.get("proposal", {})
        self.stdout.write(
            f"LIP-{number}: {proposal.get('title', '')} — {len(export.get('votes', []))} signed votes, "
            f"{proposal.get('voting_type')} voting, snapshot block {proposal.get('snapshot_block')}."
        )
        try:
            report = recount(export, rpc_url=rpc, progress=self._progress)
        except RecountFileError as exc:
            raise CommandError(exc.message) from None
        except ChainUnavailable as exc:
            raise CommandError(f"{exc} (RPC: {rpc or 'the portal’s node'})") from None
        self._end_progress()
        for i, name in enumerate(proposal.get("choices", [])):
            self.stdout.write(f"  {i + 1}. {name}: {amount_text(report.scores[i])}")
        self.stdout.write(f"  total weight {amount_text(report.total)}, outcome {report.outcome}")
        if report.matches:
            self.stdout.write(self.style.SUCCESS(f"MATCH: the recount of LIP-{number} agrees with the published result."))
            return
        self.stdout.write(self.style.ERROR(f"MISMATCH: {len(report.differences)} difference(s):"))
        for line in report.differences:
            self.stdout.write(f"  - {line}")
        raise CommandError(f"The recount of LIP-{number} does not match the published result.")

    def _load(self, number: int, from_file: str | None) -> dict:
        if from_file:
            try:
                export = json.loads(Path(from_file).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the recount file {from_file}: {exc}") from None
            try:
                file = RecountFile.read(export)
            except RecountFileError as exc:
                raise CommandError(f"{from_file}: {exc.message}") from None
            if file.number != number:
                raise CommandError(f"The file is the recount file of LIP-{file.number}, not LIP-{number}.")
            return export
        proposal = Proposal.objects.filter(number=number).first()
        if proposal is None:
            raise CommandError(f"There is no proposal LIP-{number} in this portal's database; pass --from-file.")
        return json.loads(export_file(proposal=proposal))  # the very bytes the API serves

    _last_stage = None

    def _progress(self, stage: str, done: int, total: int) -> None:
        if total <= 0:
            return
        if stage != self._last_stage:
            self._end_progress()
            self._last_stage = stage
        width = 30
        filled = int(width * done / total)
        line = f"\r  {stage:<10} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if done == total or done % 50 == 0:
            self.stdout.write(line, ending="")
            self.stdout.flush()

    def _end_progress(self) -> None:
        if self._last_stage is not None:
            self.stdout.write("")
            self._last_stage = None
