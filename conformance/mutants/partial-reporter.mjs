/**
 * A StrykerJS reporter that keeps `reports/partial.json` up to date while a
 * run goes on: after every tested mutant it rewrites a report in the
 * mutation-testing-report-schema form Stryker writes at the end
 * (`reports/mutation.json`), holding the mutants tested so far. A long run
 * (hours) that is stopped still leaves its results:
 * `deno task conformance:mutants --summary-only --partial` summarises them.
 *
 * The sources are read when the test plan is ready (after the dry run), so
 * do not edit the mutated files in the first minutes of a run.
 */

import { commonTokens, declareClassPlugin, PluginKind, tokens } from "@stryker-mutator/api/plugin";
import { PartialReport } from "./partial_report.mjs";

/** The reporter plugin: hands Stryker's events to a {@link PartialReport}. */
class PartialReporter extends PartialReport {
  static inject = tokens(commonTokens.options);

  constructor(options) {
    super(options.partialReporter?.fileName);
  }
}

export const strykerPlugins = [
  declareClassPlugin(
    PluginKind.Reporter,
    "conformance-partial",
    PartialReporter,
  ),
];
