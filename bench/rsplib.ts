/**
 * `deno task bench:rsplib [--filter TEXT]... [--rounds N] [--round-ms MS] [--json FILE] [--quick]`
 *
 * Times this project against RSPLIB 3.4.4, the RSerPool reference
 * implementation, on the same inputs and with the same method. It builds the
 * C harness `rsplib/harness.c` against Debian's RSPLIB shared libraries
 * (packages librsplib3, librsplib-dev, libsctp-dev: installed with apt-get
 * when missing and running as root), then runs every case on both sides, one
 * case after the other, the rounds of the two sides in alternation.
 *
 * Cases:
 * - codec: a Registration (68 bytes), a Handle Resolution Response with 3
 *   and a Handle Table Response with 128 pool elements (`codec_cases.ts`),
 *   and the "mix" of every distinct message of the RSPLIB captures. One
 *   operation is one pass over the case's messages. Ours: `decode strict`
 *   (`decodeMessage(ppid, bytes)`), `decode lenient` (with a fresh
 *   `{ lenient: true }` per call), `encode` (`encodeAsap`/`encodeEnrp` of
 *   the decoded message, fresh bytes), `encodeInto` (into a buffer the caller
 *   owns); RSPLIB: `parse` (rserpoolPacket2Message and rserpoolMessageDelete),
 *   `create` (rserpoolMessage2Packet of the parsed message into the message's
 *   own buffer). Both decodes compare with parse, both encodes with create.
 *   The copy columns time copying the same bytes (memcpy; `Uint8Array.set`).
 * - handlespace: every case of `handlespace_cases.ts` (register, deregister,
 *   resolve1, resolve3 × policy × size) and `checksum <size>`, RSPLIB's
 *   handlespace management (SimpleRedBlackTree) built the same way.
 *
 * Method on both sides: monotonic clock (CLOCK_MONOTONIC, performance.now()),
 * rounds of at least `--round-ms` (500) ms of timed work after an untimed
 * warm-up round. Each case runs `--rounds` (5) blocks of one RSPLIB round (a
 * harness process: its warm-up, one round) and one round of ours (after a
 * short untimed warm-up of its own): timed in alternation, a machine whose
 * speed drifts slows both sides alike. Ratio =
 * ours / RSPLIB (> 1: we are faster), the median of the blocks' ratios; the
 * operations per second shown are the medians of the rounds. Progress goes
 * to stderr, one table to stdout; `--json FILE` writes the results with
 * machine details.
 *
 * Exit status: 0; 1 when an ABI check of the harness failed (the RSPLIB
 * internals it declares do not match the installed library) or the two
 * sides disagree; 2 on usage errors; 3 when RSPLIB cannot be built or run
 * here (no compiler, missing packages, build failure).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { decodeMessage, encodeAsap, encodeEnrp, encodeInto } from "../lib/protocol/codec.ts";
import { Ppid } from "../lib/protocol/constants.ts";
import type { AsapMessage, EnrpMessage, RSerPoolMessage } from "../lib/protocol/types.ts";
import { toHex } from "../lib/wire/hex.ts";
import {
  captureMix,
  type CodecInput,
  registrationBytes,
  resolutionResponseBytes,
  tableResponseBytes,
} from "./codec_cases.ts";
import {
  type BenchCase,
  OPERATIONS,
  POLICIES,
  prepare,
  prepareChecksum,
  SIZES,
} from "./handlespace_cases.ts";

const HELP = `Usage: deno task bench:rsplib [options]

Times this project against RSPLIB 3.4.4 (Debian's librsplib3) on the same
codec inputs and handlespace cases; prints one table (ratio = ours / RSPLIB).

Options:
  --filter TEXT    only cases whose name contains TEXT (repeatable: any; a trailing
                   space ends a name: "1x10 " is 1x10 without 1x100)
  --rounds N       blocks per case, each one RSPLIB round and one of ours (default 5; --quick: 1)
  --round-ms MS    minimum timed milliseconds per round (default 500; --quick: 20)
  --json FILE      also write the results and machine details to FILE
  --quick          short rounds, 1 round, sizes up to 1000 elements (for tests)
  -h, --help       this help

Exit status: 0; 1 ABI check failed; 2 usage error; 3 RSPLIB unavailable here.`;

/** RSPLIB's Debian packages the harness needs. */
const PACKAGES = ["librsplib3", "librsplib-dev", "libsctp-dev"] as const;

/** Thrown when RSPLIB cannot be built or run here: exit status 3. */
class Unavailable extends Error {}
/** Thrown when an ABI check failed or the sides disagree: exit status 1. */
class CheckFailed extends Error {}

// ---- Command line -------------------------------------------------------

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    options: {
      filter: { type: "string", multiple: true },
      rounds: { type: "string" },
      "round-ms": { type: "string" },
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
} catch (e) {
  console.error(`${(e as Error).message}\n\n${HELP}`);
  process.exit(2);
}
const values = parsed.values;
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const quick: boolean = values.quick;
const rounds: number = Number(values.rounds ?? (quick ? "1" : "5"));
const roundMs: number = Number(values["round-ms"] ?? (quick ? "20" : "500"));
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100 || !(roundMs > 0)) {
  console.error("--rounds must be an integer 1-100 and --round-ms positive");
  process.exit(2);
}
const filters: string[] = values.filter ?? [];
/** Filters match anywhere in a case's name followed by a space: "1x10 " picks 1x10 alone. */
const selected = (name: string): boolean =>
  filters.length === 0 || filters.some((f) => `${name} `.includes(f));

function progress(text: string): void {
  process.stderr.write(text);
}

// ---- Running commands ---------------------------------------------------

interface Ran {
  readonly code: number;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(command: string, args: string[]): Promise<Ran | undefined> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Runs apt-get, its output going to our stderr. */
async function aptGet(args: string[]): Promise<boolean> {
  progress(`$ apt-get ${args.join(" ")}\n`);
  try {
    const status = await new Deno.Command("apt-get", {
      args,
      stdout: "inherit",
      stderr: "inherit",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    return status.success;
  } catch {
    return false;
  }
}

// ---- Building the harness -----------------------------------------------

const HARNESS_SOURCE = new URL("./rsplib/harness.c", import.meta.url);

function filePath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

async function findCompiler(): Promise<{ command: string; version: string }> {
  const find = async () => {
    for (const command of ["cc", "gcc"]) {
      const ran = await run(command, ["--version"]);
      if (ran !== undefined && ran.code === 0) {
        return { command, version: ran.stdout.split("\n")[0].trim() };
      }
    }
    return undefined;
  };
  const found = await find();
  if (found !== undefined) return found;
  // Install one where we can (root with apt-get), as for the RSPLIB packages.
  if (Deno.uid() === 0 && (await run("apt-get", ["--version"]))?.code === 0) {
    const install = ["install", "-y", "--no-install-recommends", "gcc", "libc6-dev"];
    if (!await aptGet(install)) {
      await aptGet(["update"]);
      await aptGet(install);
    }
    const installed = await find();
    if (installed !== undefined) return installed;
  }
  throw new Unavailable("no C compiler: neither cc nor gcc is on PATH (install gcc)");
}

/** Installs missing RSPLIB packages where it can; returns the installed RSPLIB version. */
async function ensurePackages(): Promise<string | undefined> {
  const query = async () => {
    const ran = await run("dpkg-query", [
      "-W",
      "-f=${Package} ${Status} ${Version}\n",
      ...PACKAGES,
    ]);
    if (ran === undefined) return undefined; // not a dpkg system: the build will tell
    const installed = new Map<string, string>();
    for (const line of ran.stdout.split("\n")) {
      const [name, , , state, version] = line.split(" ");
      if (state === "installed") installed.set(name.replace(/:.*$/, ""), version ?? "");
    }
    return installed;
  };
  let installed = await query();
  if (installed === undefined) return undefined;
  let missing = PACKAGES.filter((p) => !installed!.has(p));
  if (missing.length > 0) {
    const root = Deno.uid() === 0;
    const apt = (await run("apt-get", ["--version"]))?.code === 0;
    if (!root || !apt) {
      throw new Unavailable(
        `RSPLIB packages missing: ${missing.join(", ")}; ` +
          (apt ? "not root, so not installing them" : "no apt-get to install them") +
          ` (install with: sudo apt-get install ${missing.join(" ")})`,
      );
    }
    const install = ["install", "-y", "--no-install-recommends", ...missing];
    if (!await aptGet(install)) {
      await aptGet(["update"]);
      await aptGet(install);
    }
    installed = (await query())!;
    missing = PACKAGES.filter((p) => !installed!.has(p));
    if (missing.length > 0) {
      throw new Unavailable(`apt-get could not install ${missing.join(", ")}`);
    }
  }
  return installed.get("librsplib3");
}

interface Harness {
  readonly path: string;
  readonly compiler: string;
  readonly rsplibVersion: string | undefined;
  readonly sizes: Record<string, number>;
  /** CPU model from /proc/cpuinfo, read by the harness (Deno needs --allow-all for /proc). */
  readonly cpu: string;
}

async function buildHarness(directory: string): Promise<Harness> {
  const compiler = await findCompiler();
  const rsplibVersion = await ensurePackages();
  const path = `${directory}/rsplib-harness`;
  const source = filePath(HARNESS_SOURCE);
  const args = [
    "-O2",
    "-std=gnu11",
    "-Wall",
    "-o",
    path,
    source,
    "-I",
    filePath(new URL("./rsplib/", import.meta.url)),
    "-lrspmessaging",
    "-lrsphsmgt",
    "-ltdloglevel",
  ];
  progress(`building the RSPLIB harness: ${compiler.command} ${args.join(" ")}\n`);
  const built = await run(compiler.command, args);
  if (built === undefined || built.code !== 0) {
    throw new Unavailable(`the RSPLIB harness does not build:\n${built?.stderr ?? ""}`);
  }
  const self = await run(path, ["selftest"]);
  if (self === undefined || (self.code !== 0 && self.code !== 1)) {
    throw new Unavailable(
      `the RSPLIB harness does not run (${self?.signal ?? `exit ${self?.code}`}):\n` +
        (self?.stderr ?? ""),
    );
  }
  const result = harnessResult(self) as {
    sizes: Record<string, number>;
    cpu: string;
    checks: number;
  };
  abiChecks += result.checks;
  return { path, compiler: compiler.version, rsplibVersion, sizes: result.sizes, cpu: result.cpu };
}

let abiChecks = 0;

/** The harness's JSON answer; its ABI failures become {@link CheckFailed}. */
function harnessResult(ran: Ran): unknown {
  if (ran.code === 1) throw new CheckFailed(ran.stderr.trim());
  if (ran.code !== 0) {
    throw new CheckFailed(
      `the RSPLIB harness failed (${ran.signal ?? `exit ${ran.code}`}), which after a ` +
        `successful self test points to an ABI mismatch:\n${ran.stderr.trim()}`,
    );
  }
  if (ran.stderr.trim() !== "") progress(ran.stderr);
  return JSON.parse(ran.stdout);
}

async function harness(h: Harness, args: string[]): Promise<unknown> {
  const ran = await run(h.path, args);
  if (ran === undefined) throw new Unavailable("the RSPLIB harness disappeared");
  const result = harnessResult(ran) as { checks: number };
  abiChecks += result.checks;
  return result;
}

// ---- Timing (same method as harness.c) ----------------------------------

interface Measurement {
  /** Median operations per second. */
  readonly median: number;
  /** Operations per second of each round. */
  readonly rounds: number[];
}

interface Batch {
  operations: number;
  milliseconds: number;
}

function runRound(batch: () => Batch): number {
  let operations = 0;
  let milliseconds = 0;
  while (milliseconds < roundMs) {
    const b = batch();
    operations += b.operations;
    milliseconds += b.milliseconds;
  }
  return operations / milliseconds * 1000;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measurement(rates: number[]): Measurement {
  return { median: median(rates), rounds: rates };
}

/** A pass (one pass over a case's messages) in batches doubled until a batch takes 1 ms. */
function passBatch(pass: () => void): () => Batch {
  let iterations = 1;
  const batch = (): Batch => {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) pass();
    return { operations: iterations, milliseconds: performance.now() - start };
  };
  while (batch().milliseconds < 1 && iterations < 2 ** 30) iterations *= 2;
  return batch;
}

/**
 * Runs `rounds` blocks, each one RSPLIB round (`theirs`, a harness process
 * timing one round after its own warm-up) and then one round of each of
 * `ours`: the two sides are timed in alternation, so that a machine whose
 * speed drifts during a case (virtual machines here do, by up to ±30 %)
 * slows both alike. Ratios are taken per block, then their median.
 */
async function alternate<T>(
  theirs: (block: number) => Promise<T>,
  ours: (() => Batch)[],
): Promise<{ theirs: T[]; ours: number[][] }> {
  const results: T[] = [];
  const rates: number[][] = ours.map(() => []);
  for (let block = 0; block < rounds; block++) {
    results.push(await theirs(block));
    // Each RSPLIB round is a process with its own warm-up; ours gets one too, a short untimed
    // pass of every batch: while this process waited, V8 may have collected or reduced memory,
    // and the first pass timed after the wait would otherwise carry it.
    for (const batch of ours) {
      const until = performance.now() + Math.min(100, roundMs / 5);
      while (performance.now() < until) batch();
    }
    ours.forEach((batch, i) => rates[i].push(runRound(batch)));
  }
  return { theirs: results, ours: rates };
}

/** The median of the per-block ratios ours / theirs. */
function pairedRatio(ours: readonly number[], theirs: readonly number[]): number {
  return median(ours.map((rate, i) => rate / theirs[i]));
}

// ---- Results --------------------------------------------------------------

interface Side {
  /** What was timed. */
  readonly operation: string;
  /** Median operations per second. */
  readonly opsPerSecond: number;
  /** Operations per second of each round. */
  readonly rounds: number[];
}

interface Row {
  readonly case: string;
  readonly kind: "codec" | "handlespace";
  readonly ours: Side;
  readonly rsplib: Side;
  /** ours / RSPLIB: the median of the ratios of the rounds timed in alternation. */
  readonly ratio: number;
  /** Copying the case's bytes: bytes per second (first row of a codec case). */
  readonly copy?: { ours: number; rsplib: number; ratio: number };
}

const rows: Row[] = [];
const notes: string[] = [];
const exclusions: { case: string; message: string; from: string; reason: string }[] = [];
const checksums: {
  case: string;
  ours: number;
  rsplib: number;
  rsplibOnWire: number;
  match: boolean;
}[] = [];

function hex16(value: number): string {
  return value.toString(16).padStart(4, "0");
}

function side(operation: string, m: Measurement): Side {
  return { operation, opsPerSecond: m.median, rounds: m.rounds };
}

function addRow(row: Omit<Row, "ratio">): void {
  rows.push({ ...row, ratio: pairedRatio(row.ours.rounds, row.rsplib.rounds) });
}

// ---- Codec cases ------------------------------------------------------------

interface HarnessCodec {
  messages: number;
  parsed: number;
  parsedBytes: number;
  created: number;
  createdBytes: number;
  unparsable: { index: number; reason: string }[];
  uncreatable: { index: number; reason: string }[];
  parse: Measurement;
  create: Measurement;
  copy: Measurement;
}

function encode(ppid: number, message: RSerPoolMessage): Uint8Array {
  return ppid === Ppid.Asap
    ? encodeAsap(message as AsapMessage)
    : encodeEnrp(message as EnrpMessage);
}

let sink = 0;

async function codecCase(
  h: Harness,
  directory: string,
  name: string,
  inputs: CodecInput[],
  strict: boolean,
): Promise<void> {
  const file = `${directory}/codec.txt`;
  const strictFile = `${directory}/codec-strict.txt`;
  await Deno.writeTextFile(file, inputs.map((m) => `${m.ppid} ${toHex(m.bytes)}\n`).join(""));
  progress(`${name}: `);
  const rsplibRound = async (path: string, failOnDeviation: boolean) =>
    await harness(h, [
      "codec",
      path,
      String(roundMs),
      "1",
      failOnDeviation ? "1" : "0",
    ]) as HarnessCodec;
  // The first RSPLIB round also says what it parses and re-creates.
  const c = await rsplibRound(file, strict);

  const left = new Set(c.unparsable.map((u) => u.index));
  const uncreatable = new Set(c.uncreatable.map((u) => u.index));
  for (const [kind, list] of [["all", c.unparsable], ["encode/create", c.uncreatable]] as const) {
    for (const u of list) {
      exclusions.push({
        case: name,
        message: inputs[u.index].origin,
        from: kind,
        reason: u.reason,
      });
    }
  }
  const parsedInputs = inputs.filter((_, i) => !left.has(i));
  const createdInputs = inputs.filter((_, i) => !left.has(i) && !uncreatable.has(i));

  // Decode once: what strict decoding refuses (RSPLIB's deviations) and what to encode.
  const refusedInputs = new Set<CodecInput>();
  const decoded = new Map<CodecInput, RSerPoolMessage>();
  for (const m of parsedInputs) {
    try {
      decodeMessage(m.ppid, m.bytes);
    } catch {
      refusedInputs.add(m);
    }
    const message = decodeMessage(m.ppid, m.bytes, { lenient: true });
    decoded.set(m, message);
    if (toHex(encode(m.ppid, message)) !== toHex(m.bytes)) {
      throw new CheckFailed(`${name}: our encoder does not reproduce ${m.origin}`);
    }
  }
  if (parsedInputs.length === 0) throw new CheckFailed(`${name}: RSPLIB parses none of it`);
  const refused = refusedInputs.size;
  const ppids = parsedInputs.map((m) => m.ppid);
  const bytes = parsedInputs.map((m) => m.bytes);
  const n = parsedInputs.length;

  // Strict decoding is timed over what it accepts, and so is RSPLIB's parser for that row.
  const strictInputs = parsedInputs.filter((m) => !refusedInputs.has(m));
  if (strictInputs.length === 0) throw new CheckFailed(`${name}: strict decoding refuses all`);
  let strictBytes = c.parsedBytes;
  if (refused > 0) {
    await Deno.writeTextFile(
      strictFile,
      strictInputs.map((m) => `${m.ppid} ${toHex(m.bytes)}\n`).join(""),
    );
    strictBytes = strictInputs.reduce((sum, m) => sum + m.bytes.length, 0);
  }
  const strictPpids = strictInputs.map((m) => m.ppid);
  const strictMessages = strictInputs.map((m) => m.bytes);
  const s = strictInputs.length;
  const strictPass = () => {
    for (let i = 0; i < s; i++) {
      sink ^= decodeMessage(strictPpids[i], strictMessages[i]).type.length;
    }
  };
  const lenientPass = () => {
    for (let i = 0; i < n; i++) {
      sink ^= decodeMessage(ppids[i], bytes[i], { lenient: true }).type.length;
    }
  };
  const toEncode = createdInputs.map((m) => decoded.get(m)!);
  const encodePpids = createdInputs.map((m) => m.ppid);
  const e = toEncode.length;
  const encodePass = () => {
    for (let i = 0; i < e; i++) {
      sink ^= (encodePpids[i] === Ppid.Asap
        ? encodeAsap(toEncode[i] as AsapMessage)
        : encodeEnrp(toEncode[i] as EnrpMessage)).length;
    }
  };
  const target = new Uint8Array(Math.max(1, ...bytes.map((b) => b.length)));
  const intoPass = () => {
    for (let i = 0; i < e; i++) sink ^= encodeInto(toEncode[i], target, 0);
  };
  const copyPass = () => {
    for (let i = 0; i < n; i++) target.set(bytes[i]);
  };

  // Warm up every pass before timing any: the JIT then sees the strict, the lenient and
  // the encoding paths together, as a process that does all of them does (timed one after
  // the other without this, the later ones start with code deoptimised by the earlier).
  const passes = e > 0
    ? [strictPass, lenientPass, encodePass, intoPass, copyPass]
    : [strictPass, lenientPass, copyPass];
  const warmUntil = performance.now() + roundMs;
  while (performance.now() < warmUntil) {
    for (const pass of passes) {
      for (let k = 0; k < 16; k++) pass();
    }
  }
  const batches = passes.map(passBatch);
  const timed = await alternate(async (block) => {
    progress(`${block === 0 ? "" : ", "}round ${block + 1}`);
    const all = block === 0 ? c : await rsplibRound(file, false);
    // RSPLIB parsed all of the strict inputs already; some it cannot re-create.
    const strictParse = refused > 0 ? (await rsplibRound(strictFile, false)).parse : all.parse;
    return {
      parse: all.parse.median,
      create: all.create.median,
      copy: all.copy.median,
      strictParse: strictParse.median,
    };
  }, batches);
  sink ^= target[0];
  const theirs = (key: "parse" | "create" | "copy" | "strictParse") =>
    measurement(timed.theirs.map((t) => t[key]));
  const [decodeStrict, decodeLenient, ...rest] = timed.ours.map(measurement);
  const copied = rest[rest.length - 1];
  const [encoded, encodedInto] = e > 0 ? rest : [undefined, undefined];
  progress(
    `: parse ${fmt(theirs("parse").median)}/s, create ${fmt(theirs("create").median)}/s; ` +
      `decode ${fmt(decodeStrict.median)}/s, lenient ${fmt(decodeLenient.median)}/s, ` +
      `encode ${encoded === undefined ? "-" : fmt(encoded.median)}/s, ` +
      `encodeInto ${encodedInto === undefined ? "-" : fmt(encodedInto.median)}/s\n`,
  );

  const passNote = (count: number, total: number) =>
    inputs.length === 1 ? "" : ` (pass over ${count} messages, ${total} bytes)`;
  const parsedBytes = c.parsedBytes;
  if (inputs.length > 1) {
    notes.push(
      `${name}: ${inputs.length} distinct messages; decode/parse/copy over the ${n} RSPLIB ` +
        `parses (${parsedBytes} bytes), encode/create over the ${e} it also re-creates ` +
        `identically (${c.createdBytes} bytes)` +
        (refused > 0
          ? `; strict decoding refuses ${refused} of them (RSPLIB's deviations): ` +
            `decode strict and its parse are timed over the ${s} others (${strictBytes} bytes)`
          : ""),
    );
  }
  const rsplibCopy = theirs("copy");
  const copy = {
    ours: copied.median * parsedBytes,
    rsplib: rsplibCopy.median * parsedBytes,
    ratio: pairedRatio(copied.rounds, rsplibCopy.rounds),
  };
  addRow({
    case: `${name}: decode strict / parse`,
    kind: "codec",
    ours: side(`decode strict${passNote(s, strictBytes)}`, decodeStrict),
    rsplib: side(`parse${passNote(s, strictBytes)}`, theirs("strictParse")),
    copy,
  });
  addRow({
    case: `${name}: decode lenient / parse`,
    kind: "codec",
    ours: side(`decode lenient${passNote(n, parsedBytes)}`, decodeLenient),
    rsplib: side(`parse${passNote(n, parsedBytes)}`, theirs("parse")),
  });
  if (encoded !== undefined && encodedInto !== undefined) {
    addRow({
      case: `${name}: encode / create`,
      kind: "codec",
      ours: side(`encode${passNote(e, c.createdBytes)}`, encoded),
      rsplib: side(`create${passNote(e, c.createdBytes)}`, theirs("create")),
    });
    addRow({
      case: `${name}: encodeInto / create`,
      kind: "codec",
      ours: side(`encodeInto${passNote(e, c.createdBytes)}`, encodedInto),
      rsplib: side(`create${passNote(e, c.createdBytes)}`, theirs("create")),
    });
  }
}

// ---- Handlespace cases -----------------------------------------------------

interface HarnessHandlespace {
  elements: number;
  checksum: number;
  prepareMs: number;
  rate: Measurement;
}

async function handlespaceCase(
  h: Harness,
  name: string,
  operation: string,
  policy: string,
  pools: number,
  perPool: number,
): Promise<void> {
  progress(`${name}: `);
  const rsplibRound = async () =>
    await harness(h, [
      "handlespace",
      operation,
      policy,
      String(pools),
      String(perPool),
      String(roundMs),
      "1",
    ]) as HarnessHandlespace;
  const c = await rsplibRound();
  let bench: BenchCase;
  if (operation === "checksum") {
    const k = prepareChecksum(pools, perPool);
    // RSPLIB keeps its checksum in host order (little-endian here) and sends those two bytes
    // unswapped; ours (rsplib16) is the value as read from the wire, so it is the byte swap.
    const wire = ((c.checksum & 0xff) << 8) | (c.checksum >>> 8);
    const match = k.rsplibChecksum === wire;
    checksums.push({
      case: name,
      ours: k.rsplibChecksum,
      rsplib: c.checksum,
      rsplibOnWire: wire,
      match,
    });
    if (!match) {
      throw new CheckFailed(
        `${name}: the sides disagree: our rsplib16 checksum 0x${hex16(k.rsplibChecksum)} ` +
          `differs from RSPLIB's as sent, 0x${hex16(wire)} (0x${hex16(c.checksum)} in host ` +
          "order), for what should be the same elements",
      );
    }
    bench = k;
  } else {
    bench = prepare(
      operation as typeof OPERATIONS[number],
      policy as typeof POLICIES[number],
      pools,
      perPool,
    );
  }
  const batch = () => bench.batch();
  runRound(batch); // warm-up round, discarded
  const timed = await alternate(async (block) => {
    progress(`${block === 0 ? "" : ", "}round ${block + 1}`);
    return block === 0 ? c.rate.median : (await rsplibRound()).rate.median;
  }, [batch]);
  const ours = measurement(timed.ours[0]);
  const rsplib = measurement(timed.theirs);
  progress(`: RSPLIB ${fmt(rsplib.median)}/s, ours ${fmt(ours.median)}/s\n`);
  addRow({
    case: name,
    kind: "handlespace",
    ours: side(operation, ours),
    rsplib: side(operation, rsplib),
  });
}

// ---- Output -----------------------------------------------------------------

function fmt(rate: number): string {
  return Math.round(rate).toLocaleString("en");
}

function megabytes(bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toLocaleString("en", { maximumFractionDigits: 0 })} MB/s`;
}

function printTable(): void {
  const header = ["case", "ours ops/s", "RSPLIB ops/s", "ratio", "copy ours", "copy C", "ratio"];
  const table = rows.map((r) => [
    r.case,
    fmt(r.ours.opsPerSecond),
    fmt(r.rsplib.opsPerSecond),
    r.ratio.toFixed(2),
    r.copy ? megabytes(r.copy.ours) : "",
    r.copy ? megabytes(r.copy.rsplib) : "",
    r.copy ? r.copy.ratio.toFixed(2) : "",
  ]);
  if (!rows.some((r) => r.copy !== undefined)) {
    header.splice(4);
    for (const t of table) t.splice(4);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ")
      .trimEnd();
  console.log(line(header));
  for (const t of table) console.log(line(t));
  console.log(
    `\nratio = ours / RSPLIB (ops/s; > 1: we are faster): the median over ${rounds} block(s) of ` +
      `the ratio of one RSPLIB round and one round of ours, timed in alternation; ` +
      `rounds of >= ${roundMs} ms after a warm-up round; ops/s: the medians of the rounds.`,
  );
  for (const n of notes) console.log(n);
  if (exclusions.length > 0) {
    console.log(`left out (see --json for each): ${summarize()}`);
  }
  if (checksums.length > 0) {
    console.log(
      `checksum: ours (rsplib16) equals RSPLIB's (as sent) in all ${checksums.length} ` +
        "checksum case(s)",
    );
  }
  console.log(`ABI checks passed: ${abiChecks.toLocaleString("en")}`);
}

function summarize(): string {
  const counts = new Map<string, number>();
  for (const x of exclusions) {
    const key = `${x.from === "all" ? "from everything" : "from encode/create"}: ` +
      x.reason.replace(/\d+ bytes instead of \d+, first difference at byte \d+/, "…");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join("; ");
}

function machine(h: Harness): Record<string, unknown> {
  return {
    cpu: h.cpu,
    logicalCpus: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    compiler: h.compiler,
    rsplib: h.rsplibVersion,
    date: new Date().toISOString(),
  };
}

// ---- Main -------------------------------------------------------------------

async function main(): Promise<number> {
  const directory = await Deno.makeTempDir({ prefix: "rserpool-bench-rsplib-" });
  let h: Harness | undefined;
  try {
    h = await buildHarness(directory);
    const sizes = SIZES.filter(([p, n]) => !quick || p * n <= 1000);
    const plan: { name: string; run: () => Promise<void> }[] = [];
    const codec: [string, () => CodecInput[], boolean][] = [
      ["codec Registration", () => [{ ppid: 11, bytes: registrationBytes, origin: "input" }], true],
      [
        "codec HandleResolutionResponse (3 PEs)",
        () => [{ ppid: 11, bytes: resolutionResponseBytes, origin: "input" }],
        true,
      ],
      [
        "codec HandleTableResponse (128 PEs)",
        () => [{ ppid: 12, bytes: tableResponseBytes, origin: "input" }],
        true,
      ],
      ["codec mix", () => captureMix(), false],
    ];
    for (const [name, inputs, strict] of codec) {
      plan.push({ name, run: () => codecCase(h!, directory, name, inputs(), strict) });
    }
    for (const [pools, perPool] of sizes) {
      for (const operation of OPERATIONS) {
        for (const policy of POLICIES) {
          const name = `${operation} ${policy} ${pools}x${perPool}`;
          plan.push({
            name,
            run: () => handlespaceCase(h!, name, operation, policy, pools, perPool),
          });
        }
      }
      const name = `checksum ${pools}x${perPool}`;
      plan.push({
        name,
        run: () => handlespaceCase(h!, name, "checksum", "RoundRobin", pools, perPool),
      });
    }
    const chosen = plan.filter((p) => selected(p.name));
    if (chosen.length === 0) {
      console.error(`no case matches ${filters.map((f) => JSON.stringify(f)).join(" or ")}`);
      return 2;
    }
    for (const [i, p] of chosen.entries()) {
      progress(`[${i + 1}/${chosen.length}] `);
      await p.run();
    }
    printTable();
    if (values.json !== undefined) {
      const report = {
        machine: machine(h),
        settings: { rounds, roundMs, quick, filters },
        abi: { passed: true, checks: abiChecks, declaredSizes: h.sizes },
        order: "per case: RSPLIB (C harness) first, then ours",
        rows,
        notes,
        excluded: exclusions,
        checksums,
      };
      await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
      progress(`wrote ${values.json}\n`);
    }
    if (sink === 0.5) console.log(sink);
    return 0;
  } catch (e) {
    if (e instanceof Unavailable) {
      console.error(`\nbench:rsplib: cannot build or run RSPLIB here: ${e.message}`);
      return 3;
    }
    if (e instanceof CheckFailed) {
      console.error(`\nbench:rsplib: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

process.exit(await main());
