/**
 * Reports of a conformance run: the console summary, JSON, JUnit XML (for
 * CI systems), a self-contained HTML page, and the case catalogue in
 * Markdown (conformance/CASES.md).
 *
 * @module
 */

import type { CaseResult, ConformanceCase, ConformanceReport, Role, Verdict } from "./types.ts";

const VERDICTS: readonly Verdict[] = ["OK", "NON-STRICT", "UNSUPPORTED", "FAILED"];
const ROLES: readonly Role[] = [
  "registrar-asap",
  "registrar-enrp",
  "element",
  "user",
  "robustness",
];

/** The report as JSON (`--json`). */
export function jsonReport(report: ConformanceReport): string {
  return JSON.stringify(report, (_k, v) => typeof v === "bigint" ? v.toString() : v, 2) + "\n";
}

function xml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
    // deno-lint-ignore no-control-regex
  ).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");
}

function evidenceText(r: CaseResult): string {
  const lines: string[] = [];
  if (r.evidence.expected !== undefined) lines.push(`expected: ${r.evidence.expected}`);
  if (r.evidence.got !== undefined) lines.push(`got: ${r.evidence.got}`);
  for (const n of r.evidence.notes) lines.push(`note: ${n}`);
  for (const m of r.evidence.messages) {
    lines.push(
      `${String(m.t).padStart(6)} ms ${m.connection} ${m.direction === "sent" ? "->" : "<-"} ${
        JSON.stringify(m.message, (_k, v) => typeof v === "bigint" ? v.toString() : v)
      }`,
    );
  }
  return lines.join("\n");
}

/** The report as JUnit XML (`--junit`): one test suite per role; UNSUPPORTED is skipped. */
export function junitReport(report: ConformanceReport): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = report.summary.FAILED;
  out.push(
    `<testsuites name="rserpool conformance" tests="${report.summary.total}" failures="${failures}" time="${
      (report.summary.durationMs / 1000).toFixed(3)
    }">`,
  );
  for (const role of ROLES) {
    const cases = report.cases.filter((c) => c.role === role);
    if (cases.length === 0) continue;
    const time = cases.reduce((n, c) => n + c.durationMs, 0) / 1000;
    out.push(
      `  <testsuite name="${role}" tests="${cases.length}" failures="${
        cases.filter((c) => c.verdict === "FAILED").length
      }" skipped="${cases.filter((c) => c.verdict === "UNSUPPORTED").length}" time="${
        time.toFixed(3)
      }">`,
    );
    for (const c of cases) {
      out.push(
        `    <testcase classname="${role}" name="${xml(c.id)}" time="${
          (c.durationMs / 1000).toFixed(3)
        }">`,
      );
      out.push(
        `      <properties><property name="ref" value="${
          xml(c.ref)
        }"/><property name="level" value="${c.level}"/><property name="verdict" value="${c.verdict}"/></properties>`,
      );
      if (c.verdict === "FAILED") {
        out.push(
          `      <failure message="${xml(c.reason ?? "failed")}">${xml(evidenceText(c))}</failure>`,
        );
      } else if (c.verdict === "UNSUPPORTED") {
        out.push(`      <skipped message="${xml(c.reason ?? "unsupported")}"/>`);
      } else if (c.verdict === "NON-STRICT") {
        out.push(
          `      <system-out>${
            xml(`NON-STRICT: ${c.reason ?? ""}\n${evidenceText(c)}`)
          }</system-out>`,
        );
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

/** The report as one HTML page (`--html`), evidence folded under each case. */
export function htmlReport(report: ConformanceReport): string {
  const colour: Record<Verdict, string> = {
    OK: "#1a7f37",
    "NON-STRICT": "#9a6700",
    UNSUPPORTED: "#57606a",
    FAILED: "#cf222e",
  };
  const rows = report.cases.map((c) =>
    `<tr><td><code>${xml(c.id)}</code></td><td>${
      xml(c.ref)
    }</td><td>${c.level}</td><td style="color:${
      colour[c.verdict]
    };font-weight:bold">${c.verdict}</td><td>${c.durationMs} ms</td><td><details><summary>${
      xml(c.reason ?? "evidence")
    }</summary><pre>${xml(evidenceText(c))}</pre></details></td></tr>`
  ).join("\n");
  const summary = VERDICTS.map((v) =>
    `<span style="color:${colour[v]}">${v} ${report.summary[v]}</span>`
  )
    .join(" · ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RSerPool conformance report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;font-size:12px;max-width:80em}</style></head>
<body><h1>RSerPool conformance report</h1>
<p>Target: ${
    xml(
      report.target.builtin
        ? "built-in implementation"
        : `${report.target.asap ?? ""} ${report.target.enrp ?? ""}`,
    )
  }
· profile ${report.target.profile} · features: ${xml(report.target.features.join(", ") || "none")}
${report.target.strict ? " · strict" : ""}</p>
<p>${summary} · ${report.summary.total} cases in ${
    (report.summary.durationMs / 1000).toFixed(1)
  } s</p>
<table><tr><th>Case</th><th>Reference</th><th>Level</th><th>Verdict</th><th>Time</th><th>Evidence</th></tr>
${rows}
</table></body></html>
`;
}

/** The console summary: counts per role and verdict, then every case that is not OK. */
export function summaryTable(report: ConformanceReport): string {
  const lines: string[] = [];
  const width = Math.max(...ROLES.map((r) => r.length));
  lines.push(`${"role".padEnd(width)}  ${VERDICTS.map((v) => v.padStart(11)).join(" ")}`);
  for (const role of ROLES) {
    const cases = report.cases.filter((c) => c.role === role);
    if (cases.length === 0) continue;
    lines.push(
      `${role.padEnd(width)}  ${
        VERDICTS.map((v) => String(cases.filter((c) => c.verdict === v).length).padStart(11)).join(
          " ",
        )
      }`,
    );
  }
  lines.push(
    `${"total".padEnd(width)}  ${
      VERDICTS.map((v) => String(report.summary[v]).padStart(11)).join(" ")
    }`,
  );
  const problems = report.cases.filter((c) => c.verdict === "FAILED" || c.verdict === "NON-STRICT");
  if (problems.length > 0) {
    lines.push("");
    for (const c of problems) lines.push(`${c.verdict.padEnd(11)} ${c.id}: ${c.reason ?? ""}`);
  }
  return lines.join("\n") + "\n";
}

/** The case catalogue (conformance/CASES.md). */
export function casesMarkdown(cases: readonly ConformanceCase[]): string {
  const out: string[] = [
    "# Conformance cases",
    "",
    "Generated by `deno task conformance --list --markdown`; do not edit by hand. Each case has a",
    "stable id, the section it checks, the requirement in our words, its level, the role under",
    "test, and the optional features it needs (cases needing a feature the target does not claim",
    "are reported UNSUPPORTED). See conformance/README.md for how to run them.",
    "",
  ];
  for (const role of ROLES) {
    const list = cases.filter((c) => c.role === role);
    if (list.length === 0) continue;
    out.push(`## ${role} (${list.length})`, "");
    out.push(
      "| Id | Section | Level | Features | Requirement |",
      "| --- | --- | --- | --- | --- |",
    );
    for (const c of list) {
      out.push(
        `| \`${c.id}\` | ${c.ref} | ${c.level} | ${(c.features ?? []).join(", ") || "—"} | ${
          c.requirement.replace(/\|/g, "\\|")
        } |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}
