// snapshot.js as an oracle for the portal's tallies (tests/oracles/snapshot.py runs it).
// stdin:  {"cases": [{"type", "choices": [names], "votes": [{"choice", "balance"}], "describe": [choice, ...]}]}
// stdout: {"version", "results": [{"scores": [...], "total", "words": [...]}]} — getScores(), getScoresTotal() and
// getChoiceString() of snapshot.js's own voting classes, in its own floating point.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import snapshot from '@snapshot-labs/snapshot.js';

const require = createRequire(import.meta.url);
const { version } = require('@snapshot-labs/snapshot.js/package.json');
const strategies = [{ name: 'portal', network: '1', params: {} }];

const input = JSON.parse(readFileSync(0, 'utf8'));
const results = input.cases.map(({ type, choices, votes, describe = [] }) => {
  const Voting = snapshot.utils.voting[type];
  if (!Voting) throw new Error(`snapshot.js has no voting type ${type}`);
  const proposal = { choices };
  const cast = votes.map(({ choice, balance }) => ({ choice, balance, scores: [balance] }));
  const tally = new Voting(proposal, cast, strategies, null);
  return {
    scores: tally.getScores(),
    total: tally.getScoresTotal(),
    words: describe.map((choice) => new Voting(proposal, [], strategies, choice).getChoiceString()),
  };
});
process.stdout.write(JSON.stringify({ version, results }));
