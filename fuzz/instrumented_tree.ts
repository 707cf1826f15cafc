/**
 * Builds the instrumented copy of the source tree the fuzzing worker runs:
 * `fuzz/.instrumented/KEY/` mirrors `lib/`, `fuzz/` and `conformance/`, with
 * the parsers (`lib/protocol`, `lib/wire`, `lib/capture`, `lib/transport`)
 * instrumented by `instrument.ts` and everything else copied as it is. The
 * key is a hash of the sources and of the instrumenter, so a tree is built
 * once per change (about two seconds) and reused. Nothing outside
 * `fuzz/.instrumented/` is written: the code that ships is never touched.
 *
 * @module
 */

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { instrumentModule } from "./instrument.ts";

const FUZZ = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(FUZZ);
const TREES = join(FUZZ, ".instrumented");

/** Directories (from the repository root) whose modules are instrumented. */
export const INSTRUMENTED_DIRS: readonly string[] = [
  "lib/protocol",
  "lib/wire",
  "lib/capture",
  "lib/transport",
];

/** A change planted into a source file of the copy (test-only bugs, `planted.ts`). */
export interface Patch {
  /** The file, relative to the repository. */
  readonly file: string;
  /** A line of code the insertion follows (it must occur exactly once in the file). */
  readonly after: string;
  /** Code inserted after that line. */
  readonly insert: string;
}

/** Options of {@link instrumentedTree}. */
export interface TreeOptions {
  /** Changes to the copy, applied before instrumentation. */
  readonly patches?: readonly Patch[];
  /** Instrument (default true); false copies the (patched) sources as they are. */
  readonly instrument?: boolean;
}

/** Applies patches to a file's text. */
export function applyPatches(file: string, text: string, patches: readonly Patch[]): string {
  for (const p of patches.filter((p) => p.file === file)) {
    const at = text.indexOf(p.after);
    if (at < 0 || text.indexOf(p.after, at + 1) >= 0) {
      throw new Error(`patch of ${file}: "${p.after}" must occur exactly once`);
    }
    const end = text.indexOf("\n", at + p.after.length);
    text = text.slice(0, end + 1) + p.insert + "\n" + text.slice(end + 1);
  }
  return text;
}

/**
 * Modules of those directories left as they are: checksums are straight-line loops over every
 * byte, where counters cost much and tell nothing.
 */
export const NOT_INSTRUMENTED: readonly string[] = [
  "lib/wire/crc32c.ts",
  "lib/protocol/checksum.ts",
];

/** What the worker needs to know about a built tree. */
export interface InstrumentedTree {
  /** The tree's root directory. */
  readonly root: string;
  /** Number of edge (and comparison-site) identifiers. */
  readonly edges: number;
  /** Per instrumented file (relative to the root), its first identifier and each one's line. */
  readonly files: { readonly file: string; readonly first: number; readonly lines: number[] }[];
  /** Constants the instrumented modules compare against (the static dictionary). */
  readonly constants: (number | string)[];
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = join(dir, name);
    if (name.startsWith(".") || name === "node_modules") continue;
    if (rel === "fuzz/corpus" || rel === "fuzz/crashes" || rel === "conformance/mutants") continue;
    if (rel === "conformance/interop" || name === "testdata") continue;
    if (statSync(join(ROOT, rel)).isDirectory()) sources(rel, out);
    else if (name.endsWith(".ts") && !name.endsWith("_test.ts")) out.push(rel);
  }
  return out;
}

/** FNV-1a of a text (32 bits), continuing from `h`: file names and cache keys. */
export function fnv(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Builds (or finds) the instrumented tree of the current sources. */
export function instrumentedTree(
  log: (line: string) => void = () => {},
  options: TreeOptions = {},
): InstrumentedTree {
  const patches = options.patches ?? [];
  const instrument = options.instrument ?? true;
  const files = [...sources("lib"), ...sources("fuzz"), ...sources("conformance")];
  let key = fnv(readFileSync(join(FUZZ, "instrument.ts"), "utf8") + String(instrument));
  const texts = new Map<string, string>();
  for (const f of files) {
    const text = applyPatches(f, readFileSync(join(ROOT, f), "utf8"), patches);
    texts.set(f, text);
    key = fnv(f + "\0" + text, key);
  }
  const root = join(TREES, key.toString(16).padStart(8, "0"));
  const meta = join(root, "tree.json");
  if (existsSync(meta)) {
    const now = new Date();
    utimesSync(root, now, now); // in use: not cleaned up by other runs
    return JSON.parse(readFileSync(meta, "utf8")) as InstrumentedTree;
  }

  const started = Date.now();
  const building = `${root}.${Deno.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  const tree: { edges: number; files: InstrumentedTree["files"]; constants: Set<number | string> } =
    { edges: 0, files: [], constants: new Set() };
  for (const f of files) {
    const text = texts.get(f)!;
    const out = join(building, f);
    mkdirSync(dirname(out), { recursive: true });
    if (
      !instrument || !INSTRUMENTED_DIRS.some((d) => f.startsWith(d + "/")) ||
      NOT_INSTRUMENTED.includes(f)
    ) {
      writeFileSync(out, text);
      continue;
    }
    const m = instrumentModule(f, text, tree.edges);
    writeFileSync(out, m.code);
    tree.files.push({ file: f, first: tree.edges, lines: m.edgeLines });
    tree.edges += m.edgeLines.length;
    for (const c of m.constants) if (typeof c !== "bigint") tree.constants.add(c);
  }
  // Seeds read the RSPLIB captures relative to the modules.
  mkdirSync(join(building, "conformance"), { recursive: true });
  symlinkSync(
    join(ROOT, "conformance", "testdata"),
    join(building, "conformance", "testdata"),
  );
  const result: InstrumentedTree = {
    root,
    edges: tree.edges,
    files: tree.files,
    constants: [...tree.constants],
  };
  writeFileSync(join(building, "tree.json"), JSON.stringify(result));
  // Trees not used for ten minutes go (another run may still use a recent one); a concurrent
  // builder of the same key may have won the race.
  if (existsSync(TREES)) {
    for (const old of readdirSync(TREES)) {
      const path = join(TREES, old);
      if (path !== root && Date.now() - statSync(path).mtimeMs > 10 * 60_000) {
        rmSync(path, { recursive: true, force: true });
      }
    }
  }
  try {
    renameSync(building, root);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  log(
    `instrumented ${tree.files.length} modules (${tree.edges} edges and comparison sites) in ${
      Date.now() - started
    } ms: ${relative(ROOT, root)}`,
  );
  return result;
}
