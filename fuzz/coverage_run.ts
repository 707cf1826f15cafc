/**
 * Replays the seeds and the corpus of one target through the target, once
 * each, in a process `fuzz/coverage.ts` starts with `deno run --coverage`.
 * Usage: `deno run --allow-read fuzz/coverage_run.ts TARGET`.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseHex } from "../lib/wire/hex.ts";
import { TARGETS } from "./targets.ts";

const name = Deno.args[0];
const target = TARGETS.get(name);
if (target === undefined) {
  console.error(`unknown target ${name}`);
  Deno.exit(2);
}
const dir = join(fileURLToPath(new URL("./corpus/", import.meta.url)), name);
const corpus = existsSync(dir)
  ? readdirSync(dir).filter((f) => f.endsWith(".hex"))
    .map((f) => parseHex(readFileSync(join(dir, f), "utf8")))
  : [];
let runs = 0;
for (const input of [...target.seeds(), ...corpus]) {
  try {
    await target.run(input);
  } catch {
    // A failing input counts for coverage as much as a passing one.
  }
  runs++;
}
console.log(JSON.stringify({ target: name, seeds: runs - corpus.length, corpus: corpus.length }));
