/**
 * A small, fixed sample of faults planted into a copy of the built-in
 * registrar, policies, element and user, each of which the conformance suite
 * must catch with the case named. `planted_test.ts` runs them in CI: a quick
 * guard of the suite's power between full mutation runs
 * (`deno task conformance:mutants`, hours). Each fault breaks one RFC
 * procedure, chosen among those a suite missed before its cases were made to
 * isolate their mechanism (issue: "mechanisms masked by other mechanisms").
 *
 * @module
 */

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";

/** One planted fault: a unique piece of source replaced, and the case that must fail. */
export interface PlantedFault {
  /** What the fault breaks, in the RFC's words. */
  readonly name: string;
  /** The source file, relative to the project root. */
  readonly file: string;
  /** The exact code replaced; it must occur exactly once in the file. */
  readonly find: string;
  /** What replaces it. */
  readonly replace: string;
  /** The conformance case that must not pass with the fault. */
  readonly case: string;
}

/** The sample. */
export const PLANTED_FAULTS: readonly PlantedFault[] = [
  {
    name: "a registrar ignores ENRP Handle Update DEL_PE",
    file: "lib/registrar/enrp.ts",
    find: `      removeElement(s, node, "handle-update");`,
    replace: `      void node;`,
    case: "enrp/registrar/handle-update/accept-del",
  },
  {
    name: "a registrar never answers a reply-required Presence",
    file: "lib/registrar/enrp.ts",
    find: `if (m.replyRequired) s.send(connection.id, presence(s, peer.id, false));`,
    replace: `void presence;`,
    case: "enrp/registrar/presence/reply-required",
  },
  {
    name: "a takeover contest won by the higher identifier",
    file: "lib/registrar/takeover.ts",
    find: `if (from.id < s.id) {`,
    replace: `if (from.id > s.id) {`,
    case: "enrp/registrar/takeover/contest-lower",
  },
  {
    name: "MAX-BAD-PE-REPORT honoured at 1 instead of 3",
    file: "lib/registrar/asap.ts",
    find: `node.unreachableReports >= (s.options.maxBadPoolElementReports ?? 3)`,
    replace: `node.unreachableReports >= 1`,
    case: "asap/registrar/unreachable/max-bad-pe-report",
  },
  {
    name: "a Keep-Alive Ack that does not stop the removal timer",
    file: "lib/registrar/asap.ts",
    find: `  s.keepAliveDeadlines.cancel(node);\n  node.lastKeepAlive = s.now;`,
    replace: `  node.lastKeepAlive = s.now;`,
    case: "asap/registrar/keepalive/answered-element-stays",
  },
  {
    name: "Least Used choosing the most loaded element",
    file: "lib/policy/policies.ts",
    find: `ordered("LeastUsed", (e) => e.load),`,
    replace: `ordered("LeastUsed", (e) => 0xffffffff - e.load),`,
    case: "asap/registrar/policy/least-used/lowest",
  },
  {
    name: "a pool element answering a keep-alive of another pool",
    file: "lib/element/element.ts",
    find: `if (!samePoolHandle(m.poolHandle, this.poolHandle)) return;`,
    replace: `void samePoolHandle;`,
    case: "asap/element/keepalive/other-pool-discarded",
  },
  {
    name: "a pool user that never reports an unreachable element",
    file: "lib/user/user.ts",
    find:
      `    if (this.home.up) {\n      this.send(this.home.connection!, {\n        type: "EndpointUnreachable",`,
    replace:
      `    if (this.home.up && identifier !== identifier) {\n      this.send(this.home.connection!, {\n        type: "EndpointUnreachable",`,
    case: "asap/user/unreachable/report",
  },
];

/** What copying the project for a planted run leaves out. */
function wanted(root: string, path: string): boolean {
  const rel = relative(root, path).split(sep).join("/");
  return !/(^|\/)(node_modules|\.stryker-tmp|reports|interop|testdata|\.instrumented)(\/|$)/
    .test(rel);
}

/** A copy of the project's `lib/`, `conformance/` and `deno.json`, to plant faults in. */
export class PlantedCopy {
  /** The copy's root directory. */
  readonly root: string;

  /** Copies the project at `projectRoot` into a temporary directory. */
  constructor(projectRoot: string) {
    this.root = mkdtempSync(join(tmpdir(), "planted-"));
    for (const part of ["lib", "conformance", "deno.json", "deno.lock"]) {
      cpSync(join(projectRoot, part), join(this.root, part), {
        recursive: true,
        filter: (source) => wanted(projectRoot, source),
      });
    }
  }

  /**
   * Plants `fault` and returns a function that takes it out again. Throws
   * when its code no longer occurs exactly once (update the sample).
   */
  plant(fault: PlantedFault): () => void {
    const path = join(this.root, fault.file);
    const original = readFileSync(path, "utf8");
    const at = original.indexOf(fault.find);
    if (at < 0 || original.indexOf(fault.find, at + 1) >= 0) {
      throw new Error(
        `planted fault "${fault.name}": its code ${
          at < 0 ? "no longer occurs" : "occurs more than once"
        } in ${fault.file}; update conformance/mutants/planted.ts`,
      );
    }
    writeFileSync(
      path,
      original.slice(0, at) + fault.replace +
        original.slice(at + fault.find.length),
    );
    return () => writeFileSync(path, original);
  }

  /**
   * Runs conformance cases against the built-in targets of the copy and
   * returns each case's verdict.
   */
  async verdicts(cases: readonly string[]): Promise<Map<string, string>> {
    const json = join(this.root, "report.json");
    rmSync(json, { force: true });
    const args = [
      "run",
      "--allow-all",
      "--no-lock",
      "lib/cli/bin.ts",
      "conformance",
    ];
    for (const c of cases) args.push("--cases", c);
    args.push("--json", json);
    const { stderr, stdout } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: this.root,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    let report: { cases?: { id: string; verdict: string }[] };
    try {
      report = JSON.parse(readFileSync(json, "utf8"));
    } catch {
      const text = new TextDecoder().decode(stdout) +
        new TextDecoder().decode(stderr);
      throw new Error(
        `the conformance run wrote no report:\n${text.slice(-2000)}`,
      );
    }
    return new Map((report.cases ?? []).map((c) => [c.id, c.verdict]));
  }

  /** Removes the copy. */
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
