/**
 * Tests of ignorers.mjs against the real sources: Stryker's own instrumenter
 * (no test run) generates the mutants of every file the mutation run mutates,
 * with the ignorer, and the tests check which nodes each rule matches, that
 * the mutants they should keep stay, and that the timers the option-defaults
 * rule assumes given are the ones conformance/builtin.ts gives.
 *
 * Stryker's packages (conformance/mutants/node_modules) resolve only with
 * Node's module resolution, so the test runs this module as a child
 * (`deno run --node-modules-dir=manual`), which prints what it found as JSON.
 * Skipped when Stryker is not installed (`deno task conformance:mutants`
 * installs it). When a source changes what a rule matches, update MATCHES.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RFC_ELEMENT_TIMERS } from "../../lib/element/element.ts";
import { RFC_REGISTRAR_TIMERS } from "../../lib/registrar/options.ts";
import { RFC_USER_TIMERS } from "../../lib/user/user.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const NODE_MODULES = join(HERE, "node_modules");
const INSTRUMENTER = join(
  NODE_MODULES,
  "@stryker-mutator/instrumenter/dist/src/index.js",
);
const INSTALLED = existsSync(INSTRUMENTER);

/** The directories the mutation run mutates (stryker.config.mjs MUTATE), without tests and mod.ts. */
const DIRS = [
  "lib/registrar",
  "lib/handlespace",
  "lib/policy",
  "lib/element",
  "lib/user",
];

/** A node a rule matched (outermost: Stryker asks no more inside it). */
interface Match {
  readonly file: string;
  readonly rule: string;
  /** The node's first line of source, trimmed. */
  readonly head: string;
}

/** A mutant as Stryker generates it. */
interface MutantInfo {
  readonly file: string;
  readonly line: number;
  /** Offsets of the mutated code in the file. */
  readonly start: number;
  readonly end: number;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  /** The rule that ignores it, if any. */
  readonly rule?: string;
}

interface Found {
  readonly matches: Match[];
  readonly mutants: MutantInfo[];
  /** For each `timers: {…}` object literal of conformance/builtin.ts: its keys. */
  readonly builtinTimers: string[][];
  /** TIMERS_GIVEN of ignorers.mjs. */
  readonly timersGiven: Record<string, readonly string[] | true>;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  for (const dir of DIRS) {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      if (
        name.endsWith(".ts") && !name.endsWith("_test.ts") && name !== "mod.ts"
      ) {
        out.push(`${dir}/${name}`);
      }
    }
  }
  return out;
}

function offsetOf(text: string, line0: number, column: number): number {
  let offset = 0;
  for (let i = 0; i < line0; i++) offset = text.indexOf("\n", offset) + 1;
  return offset + column;
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** The child: instruments every source file with the ignorer and reports. */
async function find(): Promise<Found> {
  const load = (p: string): Promise<Any> => import(new URL(p, import.meta.url).href);
  const { Instrumenter } = await load(
    "./node_modules/@stryker-mutator/instrumenter/dist/src/index.js",
  );
  const { WireIgnorer, TIMERS_GIVEN } = await load("./ignorers.mjs");
  const ignorer = new WireIgnorer();
  const quiet = () => {};
  const logger = {
    debug: quiet,
    info: quiet,
    warn: quiet,
    error: quiet,
    trace: quiet,
    fatal: quiet,
    isDebugEnabled: () => false,
    isTraceEnabled: () => false,
    isInfoEnabled: () => false,
  };
  const matches: Match[] = [];
  const mutants: MutantInfo[] = [];
  for (const file of sourceFiles()) {
    const content = readFileSync(join(ROOT, file), "utf8");
    const recorder = {
      shouldIgnore(path: Any) {
        const reason = ignorer.shouldIgnore(path);
        if (reason !== undefined) {
          const text: string = content.slice(path.node.start, path.node.end);
          matches.push({
            file,
            rule: reason.split(":")[0],
            head: text.split("\n")[0].trim(),
          });
        }
        return reason;
      },
    };
    // A name relative to the working directory, as fileOf() makes it, whatever that is.
    const name = relative(Deno.cwd(), join(ROOT, file));
    const result = await new Instrumenter(logger).instrument(
      [{ name, mutate: true, content }],
      {
        ignorers: [recorder],
        excludedMutations: [],
        plugins: null,
        noHeader: true,
      },
    );
    for (const m of result.mutants) {
      const from = offsetOf(
        content,
        m.location.start.line,
        m.location.start.column,
      );
      const to = offsetOf(content, m.location.end.line, m.location.end.column);
      mutants.push({
        file,
        line: m.location.start.line + 1,
        start: from,
        end: to,
        mutator: m.mutatorName,
        original: content.slice(from, to),
        replacement: m.replacement,
        ...(m.statusReason === undefined ? {} : { rule: m.statusReason.split(":")[0] }),
      });
    }
  }
  const { parse } = await load("./node_modules/@babel/parser/lib/index.js");
  const ast = parse(
    readFileSync(join(ROOT, "conformance/builtin.ts"), "utf8"),
    {
      sourceType: "module",
      plugins: ["typescript"],
    },
  );
  const builtinTimers: string[][] = [];
  const walk = (node: Any): void => {
    if (node === null || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    if (
      node.type === "ObjectProperty" && node.key?.name === "timers" &&
      node.value.type === "ObjectExpression"
    ) {
      builtinTimers.push(node.value.properties.map((p: Any) => p.key.name));
    }
    for (const [key, value] of Object.entries(node)) {
      if (
        key !== "loc" && key !== "leadingComments" && key !== "trailingComments"
      ) walk(value);
    }
  };
  walk(ast.program);
  return { matches, mutants, builtinTimers, timersGiven: TIMERS_GIVEN };
}

let found: Promise<Found> | undefined;

/** Runs the child once for all tests. */
function results(): Promise<Found> {
  found ??= (async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-lock",
        "--node-modules-dir=manual",
        fileURLToPath(import.meta.url),
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `the instrumenting child failed: ${err}`);
    return JSON.parse(new TextDecoder().decode(stdout)) as Found;
  })();
  return found;
}

/**
 * What each rule matches: file and first line of every outermost node. Rules
 * must match by shape and names, so only edits of the matched code itself (or
 * new code of the same kind) change this.
 */
const MATCHES: Record<string, readonly string[]> = {
  "operator-api": [
    "lib/handlespace/handlespace.ts: get size(): number {",
    "lib/handlespace/handlespace.ts: get poolCount(): number {",
    "lib/handlespace/handlespace.ts: allPools(): IterableIterator<Pool> {",
    "lib/handlespace/handlespace.ts: owners(): IterableIterator<Identifier> {",
    "lib/handlespace/handlespace.ts: policies(): Map<PolicyName, number> {",
    "lib/registrar/registrar.ts: get id(): Identifier {",
    "lib/registrar/registrar.ts: get timers(): RegistrarTimers {",
    "lib/registrar/registrar.ts: get handlespace(): Handlespace {",
    "lib/registrar/registrar.ts: evict(poolHandle: Uint8Array, identifier: Identifier, now: number): boolean {",
    "lib/registrar/registrar.ts: status(): RegistrarStatus {",
  ],
  "http-api": [
    "lib/registrar/asap.ts: function registerOnBehalf(",
    "lib/registrar/asap.ts: function deregisterOnBehalf(",
    "lib/registrar/registrar.ts: registerOnBehalf(",
    "lib/registrar/registrar.ts: deregisterOnBehalf(poolHandle: Uint8Array, identifier: Identifier, now: number): boolean {",
    "lib/registrar/registrar.ts: resolve(poolHandle: Uint8Array, items: number, now: number): PoolElementParameter[] | undefined {",
  ],
  "distance-measurement": [
    'lib/registrar/asap.ts: if (node.keepAliveSentAt !== undefined && typeof node.connection === "string") {',
    "lib/registrar/asap.ts: node.keepAliveSentAt = s.now;",
    "lib/registrar/asap.ts: node.keepAliveSentAt = undefined;",
    "lib/registrar/distance.ts: function distanceOver(s: RegistrarState, connection: Connection | undefined): number {",
    "lib/registrar/distance.ts: function rttSample(connection: Connection | undefined, sample: number): void {",
    "lib/registrar/distance.ts: function withDistance(",
    "lib/registrar/enrp.ts: if (!m.replyRequired && peer.presenceSentAt !== undefined) {",
    "lib/registrar/enrp.ts: if (measuring) peer.presenceSentAt = s.now;",
  ],
  "authorization-hook": [
    "lib/registrar/asap.ts: if (authorize !== undefined) {",
  ],
  "rate-limits": [
    "lib/registrar/asap.ts: if (rate !== undefined) {",
    "lib/registrar/asap.ts: if (rate !== undefined) {",
    "lib/registrar/state.ts: class RateLimit {",
  ],
  "takeover-suggestion-sender": [
    // announceUpdate: `if (only !== undefined && peer.id !== only.peer) continue;`
    "lib/registrar/asap.ts: peer.id !== only.peer",
    "lib/registrar/asap.ts: continue;",
    "lib/registrar/asap.ts: if (suggest !== undefined) {",
  ],
  "unique-connection": [
    // `if (this.uniqueConnection && <1> && <2> && <3>) { throw … }`
    "lib/handlespace/handlespace.ts: existing.connection !== undefined",
    "lib/handlespace/handlespace.ts: connection !== undefined",
    "lib/handlespace/handlespace.ts: existing.connection !== connection",
    "lib/handlespace/handlespace.ts: {",
  ],
  "nextgen-profile": [
    "lib/element/element.ts: return ((BigInt(word()) << 32n) | BigInt(word())) || 1n;",
    "lib/element/element.ts: 0n",
    // setChecksumTerms: `if (typeof id === "bigint") {`, then the rfc side's Internet-32 term
    "lib/handlespace/handlespace.ts: {",
    "lib/handlespace/handlespace.ts: node.checksumTerm32 = sums.sum32 + id;",
    "lib/handlespace/handlespace.ts: this.internet32.add(node.checksumTerm32);",
    "lib/handlespace/handlespace.ts: this.internet32.add(node.checksumTerm32);", // OwnerChecksums.track
    "lib/handlespace/handlespace.ts: this.internet32.subtract(node.checksumTerm32);",
    "lib/handlespace/pool.ts: for (let i = 0; i < h.length; i += 4) {",
    "lib/registrar/registrar.ts: BigInt(target)",
    // randomId: `if (this.nextgen) {`
    "lib/registrar/state.ts: {",
    "lib/registrar/state.ts: 0n",
    'lib/registrar/state.ts: "internet32"',
  ],
  "rsplib-checksum": [
    "lib/handlespace/handlespace.ts: function swap16(w: number): number {",
    "lib/handlespace/handlespace.ts: node.rsplibTerm = sums.sumLE + swap16(high) + swap16(low);",
    "lib/handlespace/pool.ts: sumLE += a | (b << 8);",
    "lib/handlespace/handlespace.ts: this.rsplib16.add(node.rsplibTerm);",
    "lib/handlespace/handlespace.ts: this.rsplib16.add(node.rsplibTerm);", // OwnerChecksums.track
    "lib/handlespace/handlespace.ts: this.rsplib16.subtract(node.rsplibTerm);",
  ],
  "protocol-error-text": [
    'lib/handlespace/handlespace.ts: "PE identifier 0"',
    'lib/handlespace/handlespace.ts: "Transport Use differs from the pool\'s"',
    'lib/handlespace/handlespace.ts: "bad-pool-handle"',
    'lib/handlespace/handlespace.ts: "bad-transport"',
    'lib/handlespace/handlespace.ts: "control-channel-mismatch"',
    'lib/handlespace/handlespace.ts: "handlespace full"',
    'lib/handlespace/handlespace.ts: "policy-mismatch"',
    'lib/handlespace/handlespace.ts: "pool full"',
    'lib/handlespace/handlespace.ts: "pool-full"',
    'lib/handlespace/handlespace.ts: "too many elements registered over this connection"',
    'lib/handlespace/handlespace.ts: "too many pools"',
    'lib/handlespace/handlespace.ts: "too-many-elements"',
    'lib/handlespace/handlespace.ts: "too-many-for-connection"',
    'lib/handlespace/handlespace.ts: "too-many-pools"',
    'lib/handlespace/handlespace.ts: "transport-mismatch"',
    'lib/handlespace/handlespace.ts: "unknown pool member selection policy"',
    'lib/handlespace/handlespace.ts: "unsupported-policy"',
    'lib/handlespace/handlespace.ts: "user transport with port 0"',
    'lib/handlespace/handlespace.ts: "zero-identifier"',
    "lib/handlespace/handlespace.ts: `pool handle of ${poolHandle.length} bytes (1 to ${this.limits.maxPoolHandleLength} allowed)`",
    "lib/handlespace/handlespace.ts: `pool uses ${pool.policyName}, registration ${policy.type}`",
    "lib/handlespace/handlespace.ts: `pool uses ${pool.transportType}, registration ${transport.type}`",
  ],
  "option-defaults": [
    "lib/element/element.ts: registrationTimeout: 30_000",
    "lib/element/element.ts: connectTimeout: 7500",
    "lib/element/element.ts: huntRetry: 1000",
    // RFC_REGISTRAR_TIMERS, RSPLIB_REGISTRAR_TIMERS
    "lib/registrar/options.ts: {",
    "lib/registrar/options.ts: {",
    "lib/user/user.ts: requestTimeout: 15_000",
    "lib/user/user.ts: staleCache: 30_000",
    "lib/user/user.ts: connectTimeout: 7500",
    "lib/user/user.ts: huntRetry: 1000",
  ],
  "seeded-random": [
    "lib/policy/random.ts: class SeededRandom implements RandomSource {",
    "lib/policy/random.ts: function rotl(x: number, k: number): number {",
  ],
};

const sorted = (list: readonly string[]) => [...list].sort();

Deno.test({
  name: "ignorers: each rule matches exactly the expected nodes",
  ignore: !INSTALLED,
  async fn() {
    const { matches } = await results();
    const byRule: Record<string, string[]> = {};
    for (const m of matches) {
      (byRule[m.rule] ??= []).push(`${m.file}: ${m.head}`);
    }
    for (
      const rule of new Set([...Object.keys(MATCHES), ...Object.keys(byRule)])
    ) {
      if (rule === "registrar-event") continue; // every emit call of lib/registrar
      assert.deepEqual(
        sorted(byRule[rule] ?? []),
        sorted(MATCHES[rule] ?? []),
        `rule ${rule}`,
      );
    }
    assert.ok(
      (byRule["registrar-event"] ?? []).every((m) => /^lib\/registrar\/.*\.emit\(/.test(m)),
    );
  },
});

/**
 * Mutants that change the built-in run's behaviour: no rule may ignore them.
 * `original` is how the mutated code starts; `within`, code around it.
 */
const KEPT: readonly {
  readonly file: string;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  readonly within?: string;
}[] = [
  // The nextgen tests themselves (forced, the rfc profile changes) and the rfc sides.
  {
    file: "lib/registrar/state.ts",
    mutator: "ConditionalExpression",
    original: "this.nextgen",
    replacement: "true",
  },
  {
    file: "lib/registrar/state.ts",
    mutator: "StringLiteral",
    original: '"internet16"',
    replacement: '""',
  },
  {
    file: "lib/registrar/state.ts",
    mutator: "LogicalOperator",
    original: "word() || 1",
    replacement: "word() && 1",
  },
  {
    file: "lib/element/element.ts",
    mutator: "ConditionalExpression",
    original: "this.nextgen",
    replacement: "true",
  },
  {
    file: "lib/element/element.ts",
    mutator: "LogicalOperator",
    original: "word() || 1",
    replacement: "word() && 1",
  },
  {
    file: "lib/handlespace/handlespace.ts",
    mutator: "ConditionalExpression",
    original: 'typeof id === "bigint"',
    replacement: "true",
  },
  {
    file: "lib/handlespace/handlespace.ts",
    mutator: "ArithmeticOperator",
    original: "sums.sum16 + high + low",
    replacement: "sums.sum16 + high - low",
  },
  // uniqueConnection's condition: forced, re-registrations are refused.
  {
    file: "lib/handlespace/handlespace.ts",
    mutator: "ConditionalExpression",
    original:
      "this.uniqueConnection && existing.connection !== undefined && connection !== undefined &&\n        existing.connection !== connection",
    replacement: "true",
  },
  {
    file: "lib/handlespace/handlespace.ts",
    mutator: "LogicalOperator",
    original: "this.uniqueConnection && existing.connection !== undefined",
    replacement: "this.uniqueConnection || existing.connection !== undefined",
  },
  // announceUpdate without a suggestion: `only` forced, no Handle Update; the T flag.
  {
    file: "lib/registrar/asap.ts",
    mutator: "ConditionalExpression",
    original: "only !== undefined && peer.id !== only.peer",
    replacement: "true",
  },
  {
    file: "lib/registrar/asap.ts",
    mutator: "BooleanLiteral",
    original: "false",
    replacement: "true",
    within: "only?.takeoverSuggested ?? false",
  },
  {
    file: "lib/registrar/asap.ts",
    mutator: "OptionalChaining",
    original: "only?.takeoverSuggested",
    replacement: "only.takeoverSuggested",
  },
  // Defaults the built-in run uses: the element's deregistrationTimeout and announceTimeout, the user's announceTimeout.
  {
    file: "lib/element/element.ts",
    mutator: "ObjectLiteral",
    original: "{\n  registrationTimeout: 30_000,",
    replacement: "{}",
  },
  {
    file: "lib/user/user.ts",
    mutator: "ObjectLiteral",
    original: "{\n  requestTimeout: 15_000,",
    replacement: "{}",
  },
  // The internet16 terms and sums next to the ignored ones.
  {
    file: "lib/handlespace/pool.ts",
    mutator: "AssignmentOperator",
    original: "sum16 += (a << 8) | b",
    replacement: "sum16 -= a << 8 | b",
  },
  // randomBelow and systemRandom, next to SeededRandom.
  {
    file: "lib/policy/random.ts",
    mutator: "ConditionalExpression",
    original: "v < bound",
    replacement: "true",
  },
];

Deno.test({
  name: "ignorers: mutants that change the built-in run stay",
  ignore: !INSTALLED,
  async fn() {
    const { mutants } = await results();
    const sources = new Map<string, string>();
    const source = (file: string) =>
      sources.get(file) ??
        sources.set(file, readFileSync(join(ROOT, file), "utf8")).get(file)!;
    const inside = (m: MutantInfo, within: string) => {
      const text = source(m.file);
      for (
        let at = text.indexOf(within);
        at >= 0;
        at = text.indexOf(within, at + 1)
      ) {
        if (at <= m.start && m.end <= at + within.length) return true;
      }
      return false;
    };
    for (const k of KEPT) {
      const candidates = mutants.filter((m) =>
        m.file === k.file && m.mutator === k.mutator &&
        m.replacement === k.replacement &&
        m.original.startsWith(k.original) &&
        (k.within === undefined || inside(m, k.within))
      );
      assert.ok(candidates.length > 0, `no such mutant: ${JSON.stringify(k)}`);
      for (const m of candidates) {
        assert.equal(
          m.rule,
          undefined,
          `${k.file}:${m.line} ${m.original} → ${k.replacement}`,
        );
      }
    }
  },
});

Deno.test({
  name: "ignorers: every rule ignores mutants (counts)",
  ignore: !INSTALLED,
  async fn() {
    const { mutants } = await results();
    const counts: Record<string, number> = {};
    for (const m of mutants) {
      if (m.rule !== undefined) counts[m.rule] = (counts[m.rule] ?? 0) + 1;
    }
    console.log(
      `ignored mutants by rule (of ${mutants.length}): ${JSON.stringify(counts)}`,
    );
    for (const rule of Object.keys(MATCHES)) {
      assert.ok((counts[rule] ?? 0) > 0, `rule ${rule} ignores no mutant`);
    }
  },
});

Deno.test({
  name: "ignorers: the option-defaults timers are those conformance/builtin.ts gives",
  ignore: !INSTALLED,
  async fn() {
    const { builtinTimers, timersGiven } = await results();
    const given = (field: string) => builtinTimers.find((keys) => keys.includes(field)) ?? [];
    assert.deepEqual(
      sorted(timersGiven.RFC_REGISTRAR_TIMERS as string[]),
      sorted(given("serverAnnounceCycle")),
    );
    assert.deepEqual(
      sorted(timersGiven.RFC_ELEMENT_TIMERS as string[]),
      sorted(given("registrationTimeout")),
    );
    assert.deepEqual(
      sorted(timersGiven.RFC_USER_TIMERS as string[]),
      sorted(given("requestTimeout")),
    );
    // Every registrar timer: the whole default object is overridden.
    assert.deepEqual(
      sorted(timersGiven.RFC_REGISTRAR_TIMERS as string[]),
      sorted(Object.keys(RFC_REGISTRAR_TIMERS)),
    );
    // Not every element and user timer: those objects stay mutated.
    for (
      const [name, defaults] of Object.entries({
        RFC_ELEMENT_TIMERS,
        RFC_USER_TIMERS,
      })
    ) {
      const listed = timersGiven[name] as string[];
      assert.ok(listed.every((f) => f in defaults), name);
      assert.ok(listed.length < Object.keys(defaults).length, name);
    }
  },
});

if (import.meta.main) console.log(JSON.stringify(await find()));
