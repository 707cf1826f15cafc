/**
 * `deno task fuzz --coverage`: line and branch coverage of the parsers
 * (`lib/protocol`, `lib/wire`, `lib/capture`, `lib/transport`) reached by
 * each target's seeds and corpus, measured by V8 (`deno run --coverage`,
 * then `deno coverage --lcov`) on the code that ships, not on the
 * instrumented copy. A file counts as reached when one of its functions
 * ran (loading a module runs its top level only). Prints a table per target and writes
 * `fuzz/coverage/TARGET.lcov` for genhtml or an editor.
 *
 * @module
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { INSTRUMENTED_DIRS } from "./instrumented_tree.ts";

const FUZZ = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(FUZZ);

/** Coverage of one file, from LCOV. */
export interface FileCoverage {
  /** The file, relative to the repository. */
  readonly file: string;
  /** Lines found and hit. */
  readonly lines: number;
  readonly linesHit: number;
  /** Branches found and taken. */
  readonly branches: number;
  readonly branchesHit: number;
  /** Functions found and called. */
  readonly functions: number;
  readonly functionsHit: number;
}

/** Reads the per-file totals of an LCOV trace. */
export function parseLcov(text: string, root = ROOT): FileCoverage[] {
  const out: FileCoverage[] = [];
  let file = "";
  let lf = 0, lh = 0, brf = 0, brh = 0, fnf = 0, fnh = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("SF:")) {
      file = relative(root, line.slice(3).replace(/^file:\/\//, ""));
      lf =
        lh =
        brf =
        brh =
          0;
    } else if (line.startsWith("LF:")) lf = Number(line.slice(3));
    else if (line.startsWith("LH:")) lh = Number(line.slice(3));
    else if (line.startsWith("BRF:")) brf = Number(line.slice(4));
    else if (line.startsWith("BRH:")) brh = Number(line.slice(4));
    else if (line.startsWith("FNF:")) fnf = Number(line.slice(4));
    else if (line.startsWith("FNH:")) fnh = Number(line.slice(4));
    else if (line === "end_of_record") {
      out.push({
        file,
        lines: lf,
        linesHit: lh,
        branches: brf,
        branchesHit: brh,
        functions: fnf,
        functionsHit: fnh,
      });
    }
  }
  return out;
}

const percent = (hit: number, all: number) =>
  all === 0 ? "   -  " : `${(100 * hit / all).toFixed(1).padStart(5)}%`;

/** Measures and prints the coverage of each target; returns the exit status. */
export async function coverageReport(
  targets: readonly string[],
  log: (line: string) => void,
): Promise<number> {
  const out = join(FUZZ, "coverage");
  mkdirSync(out, { recursive: true });
  const deno = Deno.execPath();
  const include = `${ROOT}/(${INSTRUMENTED_DIRS.join("|")})/`;
  const totals: { target: string; lines: string; branches: string }[] = [];
  for (const name of targets) {
    const raw = mkdtempSync(join(tmpdir(), "rserpool-coverage-"));
    try {
      const run = await new Deno.Command(deno, {
        args: ["run", "--allow-read", `--coverage=${raw}`, join(FUZZ, "coverage_run.ts"), name],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!run.success) {
        log(`${name}: replay failed: ${new TextDecoder().decode(run.stderr)}`);
        return 1;
      }
      const counts = JSON.parse(new TextDecoder().decode(run.stdout).trim().split("\n").pop()!);
      const lcovFile = join(out, `${name}.lcov`);
      const report = await new Deno.Command(deno, {
        args: [
          "coverage",
          raw,
          "--lcov",
          `--output=${lcovFile}`,
          `--include=${include}`,
          "--exclude=_test\\.ts$",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!report.success) {
        log(`${name}: deno coverage failed: ${new TextDecoder().decode(report.stderr)}`);
        return 1;
      }
      const files = parseLcov(readFileSync(lcovFile, "utf8"))
        .filter((f) => f.functionsHit > 0) // reached, not only loaded
        .sort((a, b) => a.file < b.file ? -1 : 1);
      // Rewrite the paths relative to the repository, so the file is portable.
      writeFileSync(
        lcovFile,
        readFileSync(lcovFile, "utf8").replaceAll(`SF:${ROOT}/`, "SF:"),
      );
      const sum = (k: keyof Omit<FileCoverage, "file">) => files.reduce((n, f) => n + f[k], 0);
      const lines = percent(sum("linesHit"), sum("lines"));
      const branches = percent(sum("branchesHit"), sum("branches"));
      log(
        `\n${name}: ${counts.seeds} seeds + ${counts.corpus} corpus inputs; lines ${lines}, branches ${branches} of the parser files it reaches`,
      );
      log("  file                                          lines    branches");
      for (const f of files) {
        log(
          `  ${f.file.padEnd(44)} ${percent(f.linesHit, f.lines)} ${
            percent(f.branchesHit, f.branches)
          }`,
        );
      }
      totals.push({ target: name, lines, branches });
    } finally {
      rmSync(raw, { recursive: true, force: true });
    }
  }
  log("\ntarget                               lines  branches");
  for (const t of totals) log(`${t.target.padEnd(34)} ${t.lines} ${t.branches}`);
  log(`\nLCOV: ${relative(ROOT, out)}/TARGET.lcov`);
  return 0;
}
