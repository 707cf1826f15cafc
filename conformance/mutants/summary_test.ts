import assert from "node:assert/strict";
import {
  explain,
  type MutationReport,
  normalizeCode,
  parseExplanations,
  score,
  sourceAt,
  summarize,
  type Survivor,
} from "./summary.ts";
import { strykerArgs } from "./main.ts";

const SOURCE = [
  "export function f(a: number, b: number): number {",
  "  if (a < b) return a + b;",
  "  return a | b;",
  "}",
  "export function g(a: number, b: number): number {",
  "  if (a < b) return a + b;",
  "  return 0;",
  "}",
].join("\n");

function mutant(
  id: string,
  status: string,
  line: number,
  column: number,
  endColumn: number,
  mutatorName: string,
  replacement: string,
  statusReason?: string,
) {
  return {
    id,
    mutatorName,
    replacement,
    status,
    statusReason,
    location: { start: { line, column }, end: { line, column: endColumn } },
    coveredBy: ["1"],
  };
}

const REPORT: MutationReport = {
  files: {
    "lib/x.ts": {
      source: SOURCE,
      mutants: [
        mutant("0", "Killed", 2, 7, 12, "EqualityOperator", "a <= b"),
        mutant("1", "Survived", 2, 21, 26, "ArithmeticOperator", "a - b"),
        mutant("2", "Survived", 6, 21, 26, "ArithmeticOperator", "a - b"),
        mutant("3", "NoCoverage", 3, 10, 15, "BitwiseOperator", "a & b"),
        mutant("4", "Timeout", 6, 7, 12, "EqualityOperator", "a >= b"),
        mutant("5", "Ignored", 7, 10, 11, "NumberLiteral", "1", "emit: why"),
        mutant("6", "RuntimeError", 7, 3, 12, "BlockStatement", "{}", "boom"),
      ],
    },
  },
  testFiles: { "": { tests: [{ id: "1", name: "asap/case" }] } },
};

Deno.test("sourceAt cuts the mutated code out of the source", () => {
  assert.deepEqual(
    sourceAt(SOURCE, { line: 2, column: 7 }, { line: 2, column: 12 }),
    "a < b",
  );
  assert.deepEqual(
    sourceAt(SOURCE, { line: 3, column: 10 }, { line: 4, column: 2 }),
    "a | b;\n}",
  );
});

Deno.test("parseExplanations reads the table, code spans and escaped pipes", () => {
  const md = [
    "# Equivalent mutants",
    "",
    "| File | Line | Mutator | Original | Replacement | Why equivalent |",
    "| --- | ---: | --- | --- | --- | --- |",
    "| lib/x.ts | 3 | BitwiseOperator | `a \\| b` | `a & b` | never both set |",
    "| `lib/x.ts` | * | ArithmeticOperator | `a + b` | `a - b` | b is 0 there |",
    "| lib/x.ts | 9 | StringLiteral | `` `k:${k}` `` | `` | an empty template literal, as deno fmt writes it |",
    "",
    "| Other | table |",
    "| --- | --- |",
    "| not | read |",
  ].join("\n");
  const rows = parseExplanations(md);
  assert.deepEqual(rows.length, 3);
  assert.deepEqual(rows[0], {
    file: "lib/x.ts",
    line: 3,
    mutator: "BitwiseOperator",
    original: "a | b",
    replacement: "a & b",
    why: "never both set",
    at: 5,
  });
  assert.deepEqual(rows[1].line, undefined);
  assert.deepEqual(rows[1].file, "lib/x.ts");
  assert.deepEqual([rows[2].original, rows[2].replacement], ["`k:${k}`", "``"]);
});

Deno.test("explain matches on code, uses the line only between equal candidates", () => {
  const base = {
    file: "lib/x.ts",
    column: 1,
    status: "Survived" as const,
    coveredBy: [],
  };
  const survivors: Survivor[] = [
    {
      ...base,
      id: "a",
      line: 2,
      mutator: "ArithmeticOperator",
      original: "a + b",
      replacement: "a - b",
    },
    {
      ...base,
      id: "b",
      line: 60,
      mutator: "ArithmeticOperator",
      original: "a + b",
      replacement: "a - b",
    },
    {
      ...base,
      id: "c",
      line: 90,
      mutator: "EqualityOperator",
      original: "x  <  y",
      replacement: "x <= y",
    },
  ];
  const row = (
    line: number | undefined,
    mutator: string,
    original: string,
    replacement: string,
  ) => ({
    file: "lib/x.ts",
    line,
    mutator,
    original,
    replacement,
    why: "",
    at: 1,
  });
  const stale = explain(survivors, [
    row(55, "ArithmeticOperator", "a + b", "a - b"), // the nearer of two: b
    row(10, "EqualityOperator", "x < y", "x <= y"), // the only one: c, though lines moved
    row(200, "ArithmeticOperator", "a + b", "a - b"), // a is 198 lines away: stale
    row(3, "ArithmeticOperator", "a * b", "a / b"), // no such mutant: stale
  ]);
  assert.deepEqual(survivors.map((s) => s.explanation?.line), [
    undefined,
    55,
    10,
  ]);
  assert.deepEqual(stale.map((s) => s.line), [200, 3]);
  assert.deepEqual(normalizeCode(" a \n  +\tb "), "a + b");
});

Deno.test("summarize counts, scores and explains", () => {
  const plain = summarize(REPORT);
  assert.deepEqual(plain.overall.total, 7);
  assert.deepEqual(plain.overall.killed, 1);
  assert.deepEqual(plain.overall.timeout, 1);
  assert.deepEqual(plain.overall.survived, 2);
  assert.deepEqual(plain.overall.noCoverage, 1);
  assert.deepEqual(plain.overall.ignored, 1);
  assert.deepEqual(plain.overall.errors, 1);
  assert.deepEqual(plain.ignoredByReason, { "emit: why": 1 });
  assert.deepEqual(score(plain.overall), 40);
  assert.deepEqual(plain.survivors.map((s) => [s.line, s.original]), [
    [2, "a + b"],
    [6, "a + b"],
    [3, "a | b"],
  ]);
  assert.deepEqual(plain.survivors[0].coveredBy, ["asap/case"]);

  const rows = parseExplanations(
    "| File | Line | Mutator | Original | Replacement | Why equivalent |\n" +
      "|---|---|---|---|---|---|\n" +
      "| lib/x.ts | 6 | ArithmeticOperator | `a + b` | `a - b` | why |\n",
  );
  const explained = summarize(REPORT, rows);
  assert.deepEqual(explained.overall.explained, 1);
  assert.deepEqual(explained.survivors[1].explanation?.why, "why");
  assert.deepEqual(score(explained.overall, true), 50);

  // A row that matches nothing is stale only when its file was mutated in this run.
  const more = parseExplanations(
    "| File | Line | Mutator | Original | Replacement | Why equivalent |\n" +
      "|---|---|---|---|---|---|\n" +
      "| lib/x.ts | 9 | ArithmeticOperator | `c * d` | `c / d` | gone |\n" +
      "| lib/other.ts | 9 | ArithmeticOperator | `c * d` | `c / d` | not in this run |\n",
  );
  assert.deepEqual(summarize(REPORT, more).stale.map((r) => r.file), ["lib/x.ts"]);
});

Deno.test("strykerArgs keeps the test and mod.ts exclusions for a --mutate", () => {
  assert.deepEqual(
    strykerArgs(["--mutate", "lib/registrar/**/*.ts", "--concurrency", "1"]),
    [
      "--concurrency",
      "1",
      "--mutate",
      "lib/registrar/**/*.ts,!**/*_test.ts,!**/mod.ts",
    ],
  );
  assert.deepEqual(strykerArgs(["--mutate=lib/a.ts"]), [
    "--mutate",
    "lib/a.ts,!**/*_test.ts,!**/mod.ts",
  ]);
});

Deno.test("strykerArgs adds several --mutate options up", () => {
  assert.deepEqual(
    strykerArgs(["--mutate", "lib/element/**/*.ts", "-m", "lib/user/**/*.ts"]),
    [
      "--mutate",
      "lib/element/**/*.ts,lib/user/**/*.ts,!**/*_test.ts,!**/mod.ts",
    ],
  );
  assert.deepEqual(strykerArgs(["--concurrency", "2"]), ["--concurrency", "2"]);
});
