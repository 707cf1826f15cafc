/**
 * Summarises a StrykerJS JSON report (mutation-testing-report-schema) of the
 * conformance suite's mutation run:
 *
 *     deno run --allow-read --allow-write conformance/mutants/summary.ts
 *       [--report FILE] [--explanations FILE] [--out FILE] [--strict]
 *
 * Prints the counts per status and the mutation score,
 * (killed + timeout) / (killed + timeout + survived + no coverage), overall
 * and per file; lists every surviving and uncovered mutant; writes that list
 * as JSON (`--out`, default conformance/mutants/reports/survivors.json).
 *
 * Survivors explained as equivalent in conformance/MUTANTS.md (a markdown
 * table `File | Line | Mutator | Original | Replacement | Why equivalent`)
 * are reported apart, and a second score leaves them out of the
 * denominator. A row matches a survivor by file, mutator, original code and
 * replacement (whitespace-insensitive); the line only chooses between equal
 * candidates, within {@link LINE_WINDOW} lines (`*` as the line: every such
 * mutant of the file). With `--strict` the exit status is 1 when any
 * survivor is unexplained.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** How far a row's line may be from its mutant's when several mutants look the same. */
export const LINE_WINDOW = 25;

/** A position in the report: 1-based line and column. */
interface Position {
  readonly line: number;
  readonly column: number;
}

/** A mutant in the report. */
export interface ReportMutant {
  readonly id: string;
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly location: { readonly start: Position; readonly end: Position };
  readonly status: string;
  readonly statusReason?: string;
  readonly coveredBy?: readonly string[];
  readonly killedBy?: readonly string[];
  readonly static?: boolean;
}

/** The parts of a mutation-testing-report-schema report this script reads. */
export interface MutationReport {
  readonly files: Record<
    string,
    { readonly source: string; readonly mutants: ReportMutant[] }
  >;
  /** The tests (conformance cases); `coveredBy` and `killedBy` hold their ids. */
  readonly testFiles?: Record<
    string,
    {
      readonly tests: readonly { readonly id: string; readonly name: string }[];
    }
  >;
}

/** A surviving or uncovered mutant, as listed and written. */
export interface Survivor {
  readonly file: string;
  readonly id: string;
  readonly line: number;
  readonly column: number;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  readonly status: "Survived" | "NoCoverage";
  readonly coveredBy: readonly string[];
  /** The MUTANTS.md row that explains it, if one does. */
  explanation?: Explanation;
}

/** A row of the table in MUTANTS.md. */
export interface Explanation {
  readonly file: string;
  /** The line, or undefined for `*` (or an empty cell). */
  readonly line: number | undefined;
  readonly mutator: string;
  readonly original: string;
  readonly replacement: string;
  readonly why: string;
  /** Its line in MUTANTS.md. */
  readonly at: number;
}

/** Counts of one file (or of all). */
export interface Counts {
  total: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  errors: number;
  pending: number;
  explained: number;
}

function emptyCounts(): Counts {
  return {
    total: 0,
    killed: 0,
    timeout: 0,
    survived: 0,
    noCoverage: 0,
    ignored: 0,
    errors: 0,
    pending: 0,
    explained: 0,
  };
}

/** (killed + timeout) / (killed + timeout + survived + no coverage), in percent. */
export function score(c: Counts, withoutExplained = false): number | undefined {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage -
    (withoutExplained ? c.explained : 0);
  return valid === 0 ? undefined : (100 * detected) / valid;
}

/** The text between two report positions (1-based lines and columns). */
export function sourceAt(
  source: string,
  start: Position,
  end: Position,
): string {
  const lines = source.split("\n");
  if (start.line === end.line) {
    return (lines[start.line - 1] ?? "").slice(
      start.column - 1,
      end.column - 1,
    );
  }
  const parts = [(lines[start.line - 1] ?? "").slice(start.column - 1)];
  for (let l = start.line; l < end.line - 1; l++) parts.push(lines[l] ?? "");
  parts.push((lines[end.line - 1] ?? "").slice(0, end.column - 1));
  return parts.join("\n");
}

/** Code as compared: whitespace runs collapsed, outer whitespace gone. */
export function normalizeCode(code: string): string {
  return code.replace(/\s+/g, " ").trim();
}

/** A markdown table cell as text: outer backticks gone, `\|` unescaped. */
function cellText(cell: string): string {
  let t = cell.trim().replaceAll("\\|", "|");
  // An empty template literal: deno fmt turns the code span ``` `` ``` into bare ``.
  if (t === "``") return t;
  const code = /^(`+)\s?([\s\S]*?)\s?\1$/.exec(t);
  if (code !== null) t = code[2];
  return t;
}

/** Splits a markdown table row into cells, honouring `\|`. */
function splitRow(line: string): string[] {
  let t = line.trim();
  if (t.startsWith("|")) t = t.slice(1);
  if (t.endsWith("|") && !t.endsWith("\\|")) t = t.slice(0, -1);
  const cells: string[] = [];
  let cell = "";
  for (let i = 0; i < t.length; i++) {
    if (t[i] === "\\" && t[i + 1] === "|") {
      cell += "\\|";
      i++;
    } else if (t[i] === "|") {
      cells.push(cell);
      cell = "";
    } else cell += t[i];
  }
  cells.push(cell);
  return cells;
}

/**
 * The rows of every table in MUTANTS.md whose header is
 * `File | Line | Mutator | Original | Replacement | Why equivalent`.
 */
export function parseExplanations(markdown: string): Explanation[] {
  const rows: Explanation[] = [];
  const lines = markdown.split("\n");
  let columns: Record<string, number> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim().startsWith("|")) {
      columns = undefined;
      continue;
    }
    const cells = splitRow(line).map((c) => c.trim());
    if (columns === undefined) {
      const names = cells.map((c) => c.toLowerCase());
      const index = (name: string) => names.findIndex((n) => n.startsWith(name));
      const found = {
        file: index("file"),
        line: index("line"),
        mutator: index("mutator"),
        original: index("original"),
        replacement: index("replacement"),
        why: index("why"),
      };
      if (Object.values(found).every((n) => n >= 0)) columns = found;
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue; // the delimiter row
    const get = (name: string) => cellText(cells[columns![name]] ?? "");
    const lineText = get("line");
    const lineNumber = /^\d+$/.test(lineText) ? Number(lineText) : undefined;
    rows.push({
      file: get("file").replace(/^\.\//, ""),
      line: lineNumber,
      mutator: get("mutator"),
      original: get("original"),
      replacement: get("replacement"),
      why: cells[columns.why]?.trim() ?? "",
      at: i + 1,
    });
  }
  return rows;
}

function sameMutant(s: Survivor, e: Explanation): boolean {
  return s.file === e.file && s.mutator === e.mutator &&
    normalizeCode(s.original) === normalizeCode(e.original) &&
    normalizeCode(s.replacement) === normalizeCode(e.replacement);
}

/**
 * Attaches explanations to survivors; returns the rows that matched none
 * (stale: the mutant is killed now, or its code changed).
 */
export function explain(
  survivors: Survivor[],
  rows: readonly Explanation[],
): Explanation[] {
  const stale: Explanation[] = [];
  for (const row of rows) {
    const same = survivors.filter((s) => sameMutant(s, row));
    const candidates = same.filter((s) => s.explanation === undefined);
    if (row.line === undefined) {
      for (const s of candidates) s.explanation = row;
      if (candidates.length === 0) stale.push(row);
      continue;
    }
    // The only mutant of its kind in the file: its line may have moved any distance.
    if (same.length === 1 && candidates.length === 1) {
      candidates[0].explanation = row;
      continue;
    }
    const near = candidates
      .filter((s) => Math.abs(s.line - row.line!) <= LINE_WINDOW)
      .sort((a, b) => Math.abs(a.line - row.line!) - Math.abs(b.line - row.line!));
    if (near.length > 0) near[0].explanation = row;
    else stale.push(row);
  }
  return stale;
}

/** Everything the summary prints. */
export interface Summary {
  readonly overall: Counts;
  readonly files: Record<string, Counts>;
  readonly survivors: Survivor[];
  readonly ignoredByReason: Record<string, number>;
  readonly errorsByReason: Record<string, number>;
  readonly stale: Explanation[];
}

/** Counts a report and collects its survivors, explained by `rows`. */
export function summarize(
  report: MutationReport,
  rows: readonly Explanation[] = [],
): Summary {
  const overall = emptyCounts();
  const files: Record<string, Counts> = {};
  const survivors: Survivor[] = [];
  const ignoredByReason: Record<string, number> = {};
  const errorsByReason: Record<string, number> = {};
  const testName = new Map<string, string>();
  for (const { tests } of Object.values(report.testFiles ?? {})) {
    for (const t of tests) testName.set(t.id, t.name);
  }
  for (
    const [file, { source, mutants }] of Object.entries(report.files).sort()
  ) {
    const c = files[file] = emptyCounts();
    for (const m of mutants) {
      c.total++;
      switch (m.status) {
        case "Killed":
          c.killed++;
          break;
        case "Timeout":
          c.timeout++;
          break;
        case "Survived":
        case "NoCoverage":
          if (m.status === "Survived") c.survived++;
          else c.noCoverage++;
          survivors.push({
            file,
            id: m.id,
            line: m.location.start.line,
            column: m.location.start.column,
            mutator: m.mutatorName,
            original: sourceAt(source, m.location.start, m.location.end),
            replacement: m.replacement ?? "",
            status: m.status,
            coveredBy: (m.coveredBy ?? []).map((id) => testName.get(id) ?? id),
          });
          break;
        case "Ignored": {
          c.ignored++;
          const reason = m.statusReason ?? "(no reason)";
          ignoredByReason[reason] = (ignoredByReason[reason] ?? 0) + 1;
          break;
        }
        case "CompileError":
        case "RuntimeError": {
          c.errors++;
          const reason = `${m.status}: ${(m.statusReason ?? "").split("\n")[0].slice(0, 120)}`;
          errorsByReason[reason] = (errorsByReason[reason] ?? 0) + 1;
          break;
        }
        default:
          c.pending++;
      }
    }
  }
  // Rows of files this run did not mutate (a --mutate of fewer files) are not stale.
  const stale = explain(survivors, rows).filter((row) => row.file in report.files);
  for (const s of survivors) {
    if (s.explanation !== undefined) files[s.file].explained++;
  }
  for (const c of Object.values(files)) {
    for (const k of Object.keys(overall) as (keyof Counts)[]) {
      overall[k] += c[k];
    }
  }
  return { overall, files, survivors, ignoredByReason, errorsByReason, stale };
}

function pct(n: number | undefined): string {
  return n === undefined ? "n/a" : `${n.toFixed(1)}%`;
}

function oneLine(code: string, max = 70): string {
  const t = normalizeCode(code);
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

/** `file:line:col mutator original → replacement` */
export function survivorLine(s: Survivor): string {
  return `${s.file}:${s.line}:${s.column} ${s.mutator} ${oneLine(s.original)} → ${
    oneLine(s.replacement)
  }${s.status === "NoCoverage" ? " (no coverage)" : ""}`;
}

/** The summary as text. */
export function formatSummary(
  summary: Summary,
  explanationsFile?: string,
): string {
  const { overall: o } = summary;
  const out: string[] = [];
  out.push(
    `mutants: ${o.total}  killed: ${o.killed}  timeout: ${o.timeout}  survived: ${o.survived}  ` +
      `no coverage: ${o.noCoverage}  ignored: ${o.ignored}  errors: ${o.errors}` +
      (o.pending > 0 ? `  not run: ${o.pending}` : ""),
  );
  out.push(`mutation score: ${pct(score(o))}`);
  if (explanationsFile !== undefined) {
    out.push(
      `mutation score without the ${o.explained} explained (equivalent) survivors: ${
        pct(score(o, true))
      }`,
    );
  }
  out.push("");
  const width = Math.max(4, ...Object.keys(summary.files).map((f) => f.length));
  out.push(
    `${
      "file".padEnd(width)
    }  total killed timeout survived nocov ignored errors  score  w/o equiv.`,
  );
  for (const [file, c] of Object.entries(summary.files)) {
    out.push(
      `${file.padEnd(width)}  ${String(c.total).padStart(5)} ${String(c.killed).padStart(6)} ${
        String(c.timeout).padStart(7)
      } ${String(c.survived).padStart(8)} ${String(c.noCoverage).padStart(5)} ${
        String(c.ignored).padStart(7)
      } ${String(c.errors).padStart(6)} ${pct(score(c)).padStart(6)} ${
        pct(score(c, true)).padStart(10)
      }`,
    );
  }
  if (Object.keys(summary.ignoredByReason).length > 0) {
    out.push("", "ignored, by reason:");
    for (const [reason, n] of Object.entries(summary.ignoredByReason)) {
      out.push(`  ${n}  ${reason}`);
    }
  }
  if (Object.keys(summary.errorsByReason).length > 0) {
    out.push("", "errors, by reason:");
    for (const [reason, n] of Object.entries(summary.errorsByReason)) {
      out.push(`  ${n}  ${reason}`);
    }
  }
  const unexplained = summary.survivors.filter((s) => s.explanation === undefined);
  const explained = summary.survivors.filter((s) => s.explanation !== undefined);
  out.push("", `unexplained survivors (${unexplained.length}):`);
  for (const s of unexplained) out.push(`  ${survivorLine(s)}`);
  if (explanationsFile !== undefined) {
    out.push("", `explained in ${explanationsFile} (${explained.length}):`);
    for (const s of explained) out.push(`  ${survivorLine(s)}`);
    if (summary.stale.length > 0) {
      out.push(
        "",
        `rows of ${explanationsFile} that match no surviving mutant (stale):`,
      );
      for (const e of summary.stale) {
        out.push(
          `  line ${e.at}: ${e.file}:${e.line ?? "*"} ${e.mutator} ${oneLine(e.original)} → ${
            oneLine(e.replacement)
          }`,
        );
      }
    }
  }
  return out.join("\n") + "\n";
}

async function main(args: string[]): Promise<number> {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const reportFile = option(
    "--report",
    join(root, "conformance/mutants/reports/mutation.json"),
  );
  const explanationsFile = option(
    "--explanations",
    join(root, "conformance/MUTANTS.md"),
  );
  const outFile = option(
    "--out",
    join(root, "conformance/mutants/reports/survivors.json"),
  );
  const strict = args.includes("--strict");

  let report: MutationReport;
  try {
    report = JSON.parse(await Deno.readTextFile(reportFile));
  } catch (e) {
    console.error(
      `summary: cannot read ${reportFile}: ${(e as Error).message}`,
    );
    return 2;
  }
  let rows: Explanation[] = [];
  let explanations: string | undefined;
  try {
    rows = parseExplanations(await Deno.readTextFile(explanationsFile));
    explanations = relative(Deno.cwd(), explanationsFile);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const summary = summarize(report, rows);
  console.log(formatSummary(summary, explanations));
  await Deno.mkdir(dirname(outFile), { recursive: true });
  await Deno.writeTextFile(
    outFile,
    JSON.stringify(
      {
        report: relative(dirname(outFile), reportFile),
        score: score(summary.overall),
        scoreWithoutExplained: score(summary.overall, true),
        counts: summary.overall,
        survivors: summary.survivors.map((s) => ({
          ...s,
          explanation: s.explanation === undefined
            ? undefined
            : { why: s.explanation.why, row: s.explanation.at },
        })),
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`survivors written to ${relative(Deno.cwd(), outFile)}`);
  const unexplained = summary.survivors.filter((s) => s.explanation === undefined).length;
  return strict && unexplained > 0 ? 1 : 0;
}

/** Runs the summary (used by main.ts after Stryker). */
export { main as summaryMain };

if (import.meta.main) Deno.exit(await main(Deno.args));
