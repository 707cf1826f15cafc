/**
 * `deno task fuzz:planted`: fuzzes each test-only copy with a planted bug
 * (`planted.ts`) and reports the time to find it. Exit status 1 when a bug
 * was not found within the time limit (with feedback; `--blind` only
 * reports). Run with `--help`.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { instrumentedTree } from "./instrumented_tree.ts";
import { PLANTED, type PlantedBug } from "./planted.ts";
import { SHARED_HEADER, type WorkerStart } from "./worker.ts";

const HELP = `Usage: deno task fuzz:planted [options]

Plants one bug at a time in a test-only copy of the decoders (fuzz/planted.ts:
exact 8/16/32/64-bit values, 8- and 16-byte strings, a relation between two
fields, a value deep in nested parameters), fuzzes the copy's target on one
core and reports how long it took to find the bug.

Options:
  --time SECONDS   limit per bug (default 60)
  --seed N         seed (default 1)
  --bug NAME       only this bug (repeatable; see --list)
  --blind          fuzz without coverage and comparison feedback (for comparison)
  --json FILE      write the results as JSON
  --list           list the planted bugs
  -h, --help       this help
`;

/** How one planted bug fared. */
export interface PlantedResult {
  readonly bug: string;
  readonly kind: string;
  readonly target: string;
  readonly found: boolean;
  readonly seconds: number;
  readonly execs: number;
}

/** Fuzzes one planted copy until the bug is found or the time is up. */
export async function huntPlanted(
  bug: PlantedBug,
  options: { timeMs: number; seed: number; feedback: boolean },
): Promise<PlantedResult> {
  const tree = instrumentedTree(() => {}, {
    patches: [bug.patch],
    instrument: options.feedback,
  });
  const shared = new SharedArrayBuffer(SHARED_HEADER + (4 << 20));
  const worker = new Worker(new URL(`file://${tree.root}/fuzz/worker.ts`), { type: "module" });
  const started = performance.now();
  let execs = 0;
  const found = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.timeMs + 5000);
    worker.onmessage = (e: MessageEvent) => {
      const m = e.data;
      if (m.type === "progress") execs = m.stats.execs;
      if (m.type === "failure" && String(m.failure.message).includes(`planted: ${bug.name}`)) {
        clearTimeout(timer);
        resolve(true);
      }
      if (m.type === "done") {
        execs = m.stats.execs;
        clearTimeout(timer);
        resolve(false);
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      clearTimeout(timer);
      resolve(false);
    };
    worker.postMessage(
      {
        target: bug.target,
        seed: options.seed,
        timeMs: options.timeMs,
        corpus: [],
        shared,
        edges: options.feedback ? tree.edges : 0,
        constants: options.feedback ? tree.constants : [],
        dictionary: [],
        autoDictionary: options.feedback,
      } satisfies WorkerStart,
    );
  });
  const seconds = (performance.now() - started) / 1000;
  worker.terminate();
  return { bug: bug.name, kind: bug.kind, target: bug.target, found, seconds, execs };
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      time: { type: "string", default: "60" },
      seed: { type: "string", default: "1" },
      bug: { type: "string", multiple: true },
      blind: { type: "boolean" },
      json: { type: "string" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    for (const b of PLANTED) console.log(`${b.name.padEnd(24)} ${b.target.padEnd(22)} ${b.kind}`);
    return 0;
  }
  for (const [name, v] of [["time", values.time], ["seed", values.seed]] as const) {
    if (!/^\d+$/.test(v!)) {
      throw new Error(`--${name}: expected a non-negative integer, got "${v}"`);
    }
  }
  const bugs = values.bug === undefined ? PLANTED : values.bug.map((name) => {
    const b = PLANTED.find((p) => p.name === name);
    if (b === undefined) throw new Error(`--bug: unknown bug "${name}" (see --list)`);
    return b;
  });
  const feedback = !values.blind;
  console.log(
    `hunting ${bugs.length} planted bug(s), ${values.time} s each, seed ${values.seed}, ${
      feedback ? "with coverage and comparison feedback" : "blind (no feedback)"
    }`,
  );
  const results: PlantedResult[] = [];
  for (const bug of bugs) {
    const r = await huntPlanted(bug, {
      timeMs: Number(values.time) * 1000,
      seed: Number(values.seed),
      feedback,
    });
    results.push(r);
    console.log(
      `${r.bug.padEnd(24)} ${r.target.padEnd(22)} ${
        r.found ? `found in ${r.seconds.toFixed(1).padStart(5)} s` : "NOT FOUND        "
      }  ${r.execs.toLocaleString("en").padStart(11)} execs  (${r.kind})`,
    );
  }
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ feedback, results }, null, 2) + "\n");
  }
  const missed = results.filter((r) => !r.found).length;
  console.log(
    missed === 0
      ? `\nevery planted bug found`
      : `\n${missed} of ${results.length} planted bug(s) not found`,
  );
  return missed === 0 || !feedback ? 0 : 1;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz:planted: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
