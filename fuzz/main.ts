/**
 * `deno task fuzz`: fuzzes the parsers, replays findings, or fuzzes a
 * running target over the network. Run with `--help`.
 *
 * @module
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startRegistrar } from "../lib/runtime/registrar.ts";
import { parseEndpoint } from "../lib/runtime/endpoint.ts";
import { parseHex, toHex } from "../lib/wire/hex.ts";
import { installAllocationGuard } from "./allocation.ts";
import type { Failure, FuzzStats } from "./engine.ts";
import { runOnce } from "./engine.ts";
import { networkFuzz } from "./network.ts";
import { TARGETS } from "./targets.ts";
import { SHARED_HEADER, type WorkerStart } from "./worker.ts";
import {
  automaticDictionary,
  type Dictionary,
  DictionaryError,
  parseDictionary,
} from "./dictionary.ts";
import { fnv, instrumentedTree } from "./instrumented_tree.ts";
import { minimizeCorpus } from "./minimize.ts";
import { coverageReport } from "./coverage.ts";

const FUZZ = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(FUZZ);
const CRASHES = join(FUZZ, "crashes");
const CORPUS = join(FUZZ, "corpus");

const HELP = `Usage: deno task fuzz [options]

Fuzzes the parsers of network and user input: every input either decodes
(and re-encodes to the same value, byte for byte when strictly decoded) or
is refused with the parser's typed error; nothing else is thrown, no input
hangs, no allocation is sized by an unchecked length field. Failing inputs
are shrunk and written to fuzz/crashes/ with the command that replays them.

Options:
  --target NAME     fuzz only this target (repeatable; default: all)
  --time SECONDS    per target (default 60)
  --runs N          per target: stop after N inputs
  --seed N          seed of every random choice (default: random, printed)
  --jobs N          targets fuzzed in parallel (default 1)
  --dict FILE       extra dictionary in AFL / libFuzzer format (repeatable)
  --no-feedback     blind fuzzing: no coverage or comparison feedback, no
                    automatic dictionary (the engine as it was before both)
  --no-save         do not add inputs that reached new coverage to
                    fuzz/corpus/TARGET/ (they are saved as cov-HASH.hex)
  --minimize        shrink fuzz/corpus/TARGET/ to the smallest inputs with the
                    same coverage (removes cov-*.hex files only), then exit
  --coverage        line and branch coverage of the parsers reached by the
                    seeds and the corpus, per target; writes LCOV files to
                    fuzz/coverage/ (TARGET.lcov), then exit
  --hang-ms MS      an input running longer is a hang (default 5000)
  --json FILE       write a report: per target execs, execs/s, failures
  --list            list the targets
  --replay FILE     run one input (a .hex file) through --target and report
  --network URL     fuzz a running implementation over TCP instead: mutated
                    messages, and after each burst a Handle Resolution it must
                    answer (tcp://host:port of its ASAP endpoint; "builtin"
                    starts our registrar)
  --enrp URL        with --network: send mutated ENRP messages here instead
  -h, --help        this help

Examples:
  deno task fuzz --target asap-message --time 3600
  deno task fuzz --replay fuzz/crashes/asap-message-1a2b3c4d.hex --target asap-message
  deno task fuzz --network tcp://127.0.0.1:3863 --time 60
`;

interface TargetReport {
  target: string;
  seed: number;
  execs: number;
  /** Edges of the instrumented parsers reached (0 without feedback). */
  edges: number;
  /** Inputs added to the corpus because they reached new coverage. */
  newInputs: number;
  seconds: number;
  execsPerSecond: number;
  failures: { kind: string; signature: string; file: string }[];
}

function corpusOf(target: string): string[] {
  const dir = join(CORPUS, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".hex")).sort()
    .map((f) => toHex(parseHex(readFileSync(join(dir, f), "utf8"))));
}

/** A short stable name for a text. */
function fnvHex(text: string): string {
  return fnv(text).toString(16).padStart(8, "0");
}

function saveFailure(target: string, f: Omit<Failure, "input"> & { input: string }): string {
  mkdirSync(CRASHES, { recursive: true });
  const name = `${target}-${fnvHex(f.signature)}`;
  const hexFile = join(CRASHES, `${name}.hex`);
  writeFileSync(hexFile, f.input + "\n");
  const replay = `deno task fuzz --target ${target} --replay ${relative(ROOT, hexFile)}`;
  writeFileSync(
    join(CRASHES, `${name}.txt`),
    `target:    ${target}\nkind:      ${f.kind}\nsignature: ${f.signature}\n` +
      `input:     ${f.input.length / 2} bytes (${relative(ROOT, hexFile)})\n` +
      `replay:    ${replay}\n\n${f.message}\n\n${f.stack ?? ""}\n`,
  );
  return relative(ROOT, hexFile);
}

function rate(stats: FuzzStats): number {
  return stats.elapsedMs > 0 ? Math.round(stats.execs / (stats.elapsedMs / 1000)) : 0;
}

/** How a target is fuzzed. */
interface Guidance {
  /** The worker module (of the instrumented tree, with feedback). */
  readonly worker: URL;
  /** Edge identifiers of the instrumented tree; 0 without feedback. */
  readonly edges: number;
  /** Constants of the instrumented code. */
  readonly constants: (number | string)[];
  /** The user's dictionary. */
  readonly dictionary: Dictionary;
  /** Add inputs that reached new coverage to the corpus. */
  readonly save: boolean;
}

function saveCoverageInput(target: string, hex: string): void {
  const dir = join(CORPUS, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cov-${fnvHex(hex)}.hex`);
  if (!existsSync(file)) writeFileSync(file, hex + "\n");
}

/** Fuzzes one target in a worker, restarting it after a hang. */
async function fuzzTarget(
  target: string,
  seed: number,
  timeMs: number | undefined,
  runs: number | undefined,
  hangMs: number,
  guidance: Guidance,
  log: (line: string) => void,
): Promise<TargetReport> {
  const report: TargetReport = {
    target,
    seed,
    edges: 0,
    newInputs: 0,
    execs: 0,
    seconds: 0,
    execsPerSecond: 0,
    failures: [],
  };
  const started = Date.now();
  let attempt = 0;
  let carried = 0;
  for (;;) {
    const remaining = timeMs === undefined ? undefined : timeMs - (Date.now() - started);
    if (remaining !== undefined && remaining <= 0) break;
    const shared = new SharedArrayBuffer(SHARED_HEADER + (4 << 20));
    const flags = new Int32Array(shared, 0, 2);
    const startedAt = new Float64Array(shared, 8, 1);
    const input = new Uint8Array(shared, SHARED_HEADER);
    const worker = new Worker(guidance.worker, { type: "module" });
    let lastPrint = 0;
    const outcome = await new Promise<"done" | "hang" | "error">((resolve) => {
      const watchdog = setInterval(() => {
        if (Atomics.load(flags, 0) === 1 && Date.now() - startedAt[0] > hangMs) {
          clearInterval(watchdog);
          worker.terminate();
          const bytes = input.slice(0, Atomics.load(flags, 1));
          const signature = `${target} hang`;
          if (!report.failures.some((f) => f.signature === signature)) {
            const file = saveFailure(target, {
              kind: "hang",
              signature,
              input: toHex(bytes),
              message: `an input ran longer than ${hangMs} ms`,
            });
            report.failures.push({ kind: "hang", signature, file });
            log(`${target}: HANG (${bytes.length} bytes) -> ${file}`);
          }
          resolve("hang");
        }
      }, 100);
      worker.onmessage = (e: MessageEvent) => {
        const m = e.data;
        if (m.type === "coverage") {
          report.newInputs++;
          if (guidance.save) saveCoverageInput(target, m.input);
        } else if (m.type === "progress" || m.type === "done") {
          report.execs = carried + m.stats.execs;
          report.edges = Math.max(report.edges, m.stats.edges);
          const now = Date.now();
          if (m.type === "done" || now - lastPrint >= 5000) {
            lastPrint = now;
            const seconds = (now - started) / 1000;
            log(
              `${target.padEnd(34)} ${seconds.toFixed(0).padStart(4)} s ${
                report.execs.toLocaleString("en").padStart(12)
              } execs ${
                rate(m.stats).toLocaleString("en").padStart(9)
              }/s  failures ${report.failures.length}${
                guidance.edges > 0 ? `  edges ${report.edges}  corpus +${report.newInputs}` : ""
              }`,
            );
          }
          if (m.type === "done") {
            clearInterval(watchdog);
            worker.terminate();
            resolve("done");
          }
        } else if (m.type === "failure") {
          const f = m.failure;
          // A worker restarted after a hang finds the earlier failures again.
          if (report.failures.some((known) => known.signature === f.signature)) return;
          const file = saveFailure(target, f);
          report.failures.push({ kind: f.kind, signature: f.signature, file });
          log(`${target}: ${f.kind.toUpperCase()} ${f.signature}\n  -> ${file}`);
        }
      };
      worker.onerror = (e) => {
        e.preventDefault();
        clearInterval(watchdog);
        log(`${target}: worker error: ${e.message}`);
        worker.terminate();
        resolve("error");
      };
      worker.postMessage(
        {
          target,
          seed: seed + 1000 * attempt,
          timeMs: remaining,
          runs: runs === undefined ? undefined : runs - carried,
          corpus: corpusOf(target),
          shared,
          edges: guidance.edges,
          constants: guidance.constants,
          dictionary: guidance.dictionary.map(toHex),
          autoDictionary: guidance.edges > 0,
        } satisfies WorkerStart,
      );
    });
    carried = report.execs;
    if (outcome !== "hang") break;
    attempt++;
  }
  report.seconds = (Date.now() - started) / 1000;
  report.execsPerSecond = Math.round(report.execs / Math.max(report.seconds, 0.001));
  return report;
}

async function replay(target: string, file: string): Promise<number> {
  installAllocationGuard();
  const t = TARGETS.get(target)!;
  const input = parseHex(readFileSync(file, "utf8"));
  const outcome = await runOnce(t, input);
  if (outcome === undefined) {
    console.log(`${target}: ${input.length} bytes: every property holds`);
    return 0;
  }
  console.log(`${target}: ${outcome.kind}: ${outcome.message}\n${outcome.stack ?? ""}`);
  return 1;
}

async function network(
  url: string,
  enrp: string | undefined,
  seed: number,
  timeMs: number,
  userDictionary: Dictionary,
): Promise<number> {
  let stop: (() => Promise<void>) | undefined;
  let asap: { address: string; port: number };
  let enrpTarget: { address: string; port: number } | undefined;
  const parse = (u: string) => parseEndpoint(u.replace(/^tcp:\/\//, ""), { host: "127.0.0.1" });
  if (url === "builtin") {
    const pr = await startRegistrar({ asap: "127.0.0.1:0", enrp: "127.0.0.1:0" });
    asap = pr.asap;
    enrpTarget = enrp === undefined ? undefined : pr.enrp;
    stop = () => pr.stop();
  } else {
    if (!url.startsWith("tcp://")) {
      console.error(`--network: only tcp:// targets are supported (got ${url})`);
      return 2;
    }
    asap = parse(url);
    enrpTarget = enrp === undefined ? undefined : parse(enrp);
  }
  console.log(
    `network fuzzing ${url === "builtin" ? "the built-in registrar" : url}, seed ${seed}`,
  );
  let last = 0;
  // The same corpus and dictionary as the message targets: what reached new code in the
  // parsers is a good start against another implementation's parsers too.
  const protocol = enrpTarget === undefined ? "asap" : "enrp";
  const corpus = corpusOf(`${protocol}-message`).map((hex) => parseHex(hex));
  const dictionary = [...userDictionary, ...automaticDictionary([], corpus)];
  console.log(
    `network fuzzing with ${corpus.length} corpus inputs and ${dictionary.length} dictionary tokens`,
  );
  const stats = await networkFuzz({
    asap,
    send: enrpTarget,
    protocol,
    seed,
    timeMs,
    corpus,
    dictionary,
    progress(s) {
      if (Date.now() - last > 5000 || s.unhealthy) {
        last = Date.now();
        console.log(
          `bursts ${s.bursts}, messages ${s.messages}, closed by target ${s.closedByTarget}, healthy ${s.healthy}`,
        );
      }
    },
  });
  await stop?.();
  if (stats.unhealthy !== undefined) {
    console.log(
      `FAILED: after burst ${stats.unhealthy.burst} the target stopped serving: ${stats.unhealthy.reason}\n` +
        `last inputs:\n  ${stats.unhealthy.lastInputs.join("\n  ")}`,
    );
    return 1;
  }
  console.log(`ok: ${stats.messages} mutated messages in ${stats.bursts} bursts; still serving`);
  return 0;
}

async function mainCli(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: "string", multiple: true },
      time: { type: "string" },
      runs: { type: "string" },
      seed: { type: "string" },
      jobs: { type: "string" },
      "hang-ms": { type: "string" },
      json: { type: "string" },
      list: { type: "boolean" },
      replay: { type: "string" },
      network: { type: "string" },
      enrp: { type: "string" },
      dict: { type: "string", multiple: true },
      "no-feedback": { type: "boolean" },
      "no-save": { type: "boolean" },
      minimize: { type: "boolean" },
      coverage: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    for (const t of TARGETS.values()) console.log(`${t.name.padEnd(34)} ${t.description}`);
    return 0;
  }
  const number = (name: string, v: string | undefined, fallback: number | undefined) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`--${name}: expected a non-negative integer, got "${v}"`);
    return Number(v);
  };
  const seed = number("seed", values.seed, Math.floor(Math.random() * 0x7fffffff))!;
  const timeSeconds = number("time", values.time, 60)!;
  const runs = number("runs", values.runs, undefined);
  const jobs = Math.max(1, number("jobs", values.jobs, 1)!);
  const hangMs = number("hang-ms", values["hang-ms"], 5000)!;
  const names = values.target ?? [...TARGETS.keys()];
  for (const n of names) {
    if (!TARGETS.has(n)) throw new Error(`--target: unknown target "${n}" (see --list)`);
  }
  const dictionary: Dictionary = [];
  for (const file of values.dict ?? []) {
    try {
      dictionary.push(...parseDictionary(readFileSync(file, "utf8")));
    } catch (e) {
      if (e instanceof DictionaryError) throw new Error(`--dict ${file}: ${e.message}`);
      throw new Error(`--dict ${file}: ${(e as Error).message}`);
    }
  }
  if (values.coverage) return await coverageReport(names, (line) => console.log(line));
  if (values.minimize) return await minimizeCorpus(names, (line) => console.log(line));
  if (values.network !== undefined) {
    return await network(values.network, values.enrp, seed, timeSeconds * 1000, dictionary);
  }
  if (values.replay !== undefined) {
    if (names.length !== 1) throw new Error("--replay needs exactly one --target");
    return await replay(names[0], values.replay);
  }
  const feedback = !values["no-feedback"];
  const tree = feedback ? instrumentedTree((line) => console.log(line)) : undefined;
  const guidance: Guidance = {
    worker: tree === undefined
      ? new URL("./worker.ts", import.meta.url)
      : new URL(`file://${tree.root}/fuzz/worker.ts`),
    edges: tree?.edges ?? 0,
    constants: tree?.constants ?? [],
    dictionary,
    save: feedback && !values["no-save"],
  };
  console.log(
    `fuzzing ${names.length} target(s), ${
      values.runs ? `${runs} runs` : `${timeSeconds} s`
    } each, seed ${seed}, ${jobs} job(s)`,
  );
  const reports: TargetReport[] = [];
  const queue = [...names];
  await Promise.all([...Array(Math.min(jobs, queue.length))].map(async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      reports.push(
        await fuzzTarget(
          name,
          seed,
          values.runs ? undefined : timeSeconds * 1000,
          runs,
          hangMs,
          guidance,
          (line) => console.log(line),
        ),
      );
    }
  }));
  reports.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target));
  console.log(
    "\ntarget                               execs     execs/s  failures   edges  new inputs",
  );
  for (const r of reports) {
    console.log(
      `${r.target.padEnd(34)} ${r.execs.toLocaleString("en").padStart(10)} ${
        r.execsPerSecond.toLocaleString("en").padStart(10)
      }  ${String(r.failures.length).padStart(8)} ${String(r.edges).padStart(7)}  ${
        String(r.newInputs).padStart(10)
      }`,
    );
  }
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ seed, reports }, null, 2) + "\n");
  }
  const failures = reports.reduce((n, r) => n + r.failures.length, 0);
  console.log(
    failures === 0
      ? `\nno failures (seed ${seed})`
      : `\n${failures} failure(s): see fuzz/crashes/ (seed ${seed})`,
  );
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = await mainCli(process.argv.slice(2));
} catch (e) {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exitCode = 2;
}
