/**
 * `deno task fuzz --minimize`: keeps the smallest set of corpus inputs with
 * the same coverage (libFuzzer's `-merge=1` in spirit). Every input of
 * `fuzz/corpus/TARGET/` runs once in the instrumented tree; hand-made and
 * regression inputs (any name but `cov-*.hex`) are always kept and counted
 * first, then the inputs the fuzzer saved are taken smallest first and kept
 * only when they reach a feature (an edge and its count class) nothing kept
 * reached. The others are deleted.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseHex } from "../lib/wire/hex.ts";
import { runOnce } from "./engine.ts";
import { installFeedback } from "./feedback.ts";
import { instrumentedTree } from "./instrumented_tree.ts";
import type { FuzzTarget } from "./targets.ts";

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), "corpus");

/** Minimizes the corpus of each target; returns the exit status. */
export async function minimizeCorpus(
  targets: readonly string[],
  log: (line: string) => void,
): Promise<number> {
  const tree = instrumentedTree(log);
  const feedback = installFeedback(tree.edges);
  const instrumented = (await import(`file://${tree.root}/fuzz/targets.ts`)) as {
    TARGETS: ReadonlyMap<string, FuzzTarget>;
  };
  for (const name of targets) {
    const dir = join(CORPUS, name);
    if (!existsSync(dir)) continue;
    const target = instrumented.TARGETS.get(name)!;
    const files = readdirSync(dir).filter((f) => f.endsWith(".hex"));
    const inputs = files.map((f) => ({ f, input: parseHex(readFileSync(join(dir, f), "utf8")) }));
    const kept = inputs.filter((x) => !x.f.startsWith("cov-"));
    const saved = inputs.filter((x) => x.f.startsWith("cov-"))
      .sort((a, b) => a.input.length - b.input.length || (a.f < b.f ? -1 : 1));
    const covered = new Set<number>();
    const run = async (input: Uint8Array) => {
      feedback.reset();
      await runOnce(target, input);
      return feedback.features();
    };
    for (const x of kept) for (const feature of await run(x.input)) covered.add(feature);
    let removed = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const x of saved) {
      bytesBefore += x.input.length;
      const features = await run(x.input);
      const adds = features.filter((feature) => !covered.has(feature));
      if (adds.length === 0) {
        rmSync(join(dir, x.f));
        removed++;
        continue;
      }
      bytesAfter += x.input.length;
      for (const feature of adds) covered.add(feature);
    }
    log(
      `${name.padEnd(34)} ${files.length} inputs -> ${
        files.length - removed
      } (${kept.length} kept by name; saved inputs ${bytesBefore} -> ${bytesAfter} bytes), ${covered.size} features`,
    );
  }
  return 0;
}
