/**
 * `deno task bench:handlespace [--json] [--filter TEXT] [--rounds N] [--round-ms MS]`
 *
 * Runs every handlespace case of `handlespace_cases.ts`: several timed
 * rounds of at least `--round-ms` (500) milliseconds each, and reports the
 * median operations per second as a table, or with `--json` as a JSON
 * array of `{ "name", "opsPerSecond" }`. Progress goes to stderr.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import {
  type BenchCase,
  OPERATIONS,
  POLICIES,
  prepare,
  prepareBaseline,
  SIZES,
} from "./handlespace_cases.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    json: { type: "boolean", default: false },
    filter: { type: "string" },
    rounds: { type: "string", default: "5" },
    "round-ms": { type: "string", default: "500" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: deno task bench:handlespace [--json] [--filter TEXT] [--rounds N] [--round-ms MS]",
  );
  process.exit(0);
}
const rounds = Number(values.rounds);
const roundMs = Number(values["round-ms"]);
if (!(rounds >= 1) || !(roundMs > 0)) {
  console.error("--rounds must be at least 1 and --round-ms positive");
  process.exit(2);
}

function measure(c: BenchCase): number {
  c.batch(); // warm up
  c.batch();
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let operations = 0;
    let milliseconds = 0;
    while (milliseconds < roundMs) {
      const b = c.batch();
      operations += b.operations;
      milliseconds += b.milliseconds;
    }
    rates.push(operations / milliseconds * 1000);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

const plan: { name: string; make: () => BenchCase }[] = [];
for (const [pools, perPool] of SIZES) {
  plan.push({
    name: `baseline Map.get ${pools}x${perPool}`,
    make: () => prepareBaseline(pools, perPool),
  });
  for (const operation of OPERATIONS) {
    for (const policy of POLICIES) {
      plan.push({
        name: `${operation} ${policy} ${pools}x${perPool}`,
        make: () => prepare(operation, policy, pools, perPool),
      });
    }
  }
}
const selected = plan.filter((p) => values.filter === undefined || p.name.includes(values.filter));

const results: { name: string; opsPerSecond: number }[] = [];
for (const [i, p] of selected.entries()) {
  process.stderr.write(`[${i + 1}/${selected.length}] ${p.name} ... `);
  const opsPerSecond = Math.round(measure(p.make()));
  process.stderr.write(`${opsPerSecond.toLocaleString("en")}/s\n`);
  results.push({ name: p.name, opsPerSecond });
}

if (values.json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const width = Math.max(...results.map((r) => r.name.length));
  console.log(`${"case".padEnd(width)}  ${"ops/s".padStart(13)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(width)}  ${r.opsPerSecond.toLocaleString("en").padStart(13)}`);
  }
}
