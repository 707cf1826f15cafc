/**
 * Builds the npm package from the one source tree: `deno task build:npm`.
 *
 * 1. Installs the pinned build tools of `npm/package.json` (TypeScript,
 *    @types/node, publint) when missing.
 * 2. Compiles every export of `deno.json` with TypeScript's compiler into
 *    `npm/dist/`: ES modules with `.ts` specifiers rewritten to `.js`
 *    (`rewriteRelativeImportExtensions`) and declaration files, whose
 *    specifiers tsc leaves as `.ts`: this script rewrites those.
 * 3. Writes `package.json` (exports mirroring `deno.json`'s, `bin` for the
 *    CLI), README.md and LICENSE, checks that both export maps agree and
 *    point at files that exist, and runs publint.
 *
 * Options: `--skip-install`, `--skip-publint`.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const NPM = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(NPM);
const DIST = join(NPM, "dist");
const WORK = join(NPM, ".build");
const args = new Set(process.argv.slice(2));

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
}

function run(command: string, commandArgs: string[], cwd = NPM): void {
  execFileSync(command, commandArgs, { cwd, stdio: "inherit" });
}

function say(text: string): void {
  console.error(`build:npm: ${text}`);
}

/** `./lib/x/mod.ts` → `./lib/x/mod.js` (and `.d.ts` with `types`). */
function jsPath(source: string, ext: ".js" | ".d.ts"): string {
  return source.replace(/\.ts$/, ext);
}

/** Every file below a directory. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walk(path));
    else out.push(path);
  }
  return out;
}

/** Rewrites relative `.ts` specifiers in a declaration file to `.js`. */
export function rewriteDeclarationSpecifiers(text: string): string {
  return text.replace(
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+?)\.ts(["'])/g,
    (_m, head: string, path: string, tail: string) => `${head}${path}.js${tail}`,
  );
}

async function main(): Promise<void> {
  const deno = JSON.parse(
    await readFile(join(ROOT, "deno.json"), "utf8"),
  ) as DenoJson;

  if (
    !args.has("--skip-install") &&
    !existsSync(join(NPM, "node_modules", ".bin", "tsc"))
  ) {
    say("installing the build tools (npm ci)");
    run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
  }

  // 1. Compile.
  await rm(DIST, { recursive: true, force: true });
  await mkdir(WORK, { recursive: true });
  const entries = Object.values(deno.exports).map((p) => relative(WORK, join(ROOT, p)));
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      module: "ES2022",
      moduleResolution: "Bundler",
      lib: ["ES2023"],
      types: ["node"],
      strict: true,
      declaration: true,
      rewriteRelativeImportExtensions: true,
      rootDir: relative(WORK, ROOT),
      outDir: relative(WORK, DIST),
      skipLibCheck: true,
      noEmitOnError: true,
      newLine: "lf",
    },
    files: entries,
  };
  await writeFile(
    join(WORK, "tsconfig.json"),
    JSON.stringify(tsconfig, null, 2),
  );
  say(`compiling ${entries.length} entry points with TypeScript`);
  run("node", [
    join(NPM, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    join(WORK, "tsconfig.json"),
  ]);

  // 2. Declarations: tsc keeps `.ts` specifiers there.
  let rewritten = 0;
  for (const file of await walk(DIST)) {
    if (!file.endsWith(".d.ts")) continue;
    const text = await readFile(file, "utf8");
    const fixed = rewriteDeclarationSpecifiers(text);
    if (fixed !== text) {
      rewritten++;
      await writeFile(file, fixed);
    }
  }
  say(`rewrote .ts specifiers in ${rewritten} declaration files`);

  // 3. The CLI is an executable.
  const binSource = deno.exports["./bin"];
  const bin = join(DIST, jsPath(binSource, ".js"));
  const binText = await readFile(bin, "utf8");
  await writeFile(bin, `#!/usr/bin/env node\n${binText}`);
  await chmod(bin, 0o755);

  // 4. package.json, README, LICENSE.
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [key, source] of Object.entries(deno.exports)) {
    exports[key] = {
      types: jsPath(source, ".d.ts"),
      default: jsPath(source, ".js"),
    };
  }
  const pkg = {
    name: "rserpool",
    version: deno.version,
    description:
      "Reliable Server Pooling (RSerPool, RFC 5351-5356): ASAP and ENRP codecs, handlespace and selection policies, sans-IO registrar, pool element and pool user, TCP/TLS/UDP runtime, CLI",
    license: deno.license,
    type: "module",
    exports,
    main: exports["."].default,
    types: exports["."].types,
    bin: { rserpool: jsPath(binSource, ".js") },
    files: ["**/*.js", "**/*.d.ts", "README.md", "LICENSE"],
    // Importing any module is free of side effects, except running the CLI.
    sideEffects: [jsPath(binSource, ".js")],
    engines: { node: ">=20" },
    repository: {
      type: "git",
      url: "git+https://github.com/rserpool/rserpool.git",
    },
    homepage: "https://jsr.io/@rserpool/rserpool",
    keywords: [
      "rserpool",
      "reliable server pooling",
      "asap",
      "enrp",
      "rfc5351",
      "rfc5352",
      "rfc5353",
      "rfc5354",
      "rfc5356",
      "sctp",
      "high availability",
      "failover",
      "load balancing",
    ],
  };
  await writeFile(
    join(DIST, "package.json"),
    JSON.stringify(pkg, null, 2) + "\n",
  );
  await copyFile(join(ROOT, "README.md"), join(DIST, "README.md"));
  await copyFile(join(ROOT, "LICENSE"), join(DIST, "LICENSE"));

  // 5. Both export maps agree, and every target exists.
  const problems = checkExports(deno.exports, pkg.exports);
  for (
    const target of Object.values(pkg.exports).flatMap((
      e,
    ) => [e.types, e.default])
  ) {
    if (!existsSync(join(DIST, target))) {
      problems.push(`${target} was not built`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`export maps disagree:\n  ${problems.join("\n  ")}`);
  }
  say(
    `package.json exports agree with deno.json (${Object.keys(exports).length} subpaths)`,
  );

  if (!args.has("--skip-publint")) {
    say("publint");
    run("node", [
      join(NPM, "node_modules", "publint", "src", "cli.js"),
      "--strict",
      DIST,
    ]);
  }
  say(`done: ${relative(ROOT, DIST)} (rserpool@${deno.version})`);
}

/** Differences between `deno.json` exports and a `package.json` export map. */
export function checkExports(
  denoExports: Record<string, string>,
  packageExports: Record<string, { types: string; default: string }>,
): string[] {
  const problems: string[] = [];
  for (const [key, source] of Object.entries(denoExports)) {
    const entry = packageExports[key];
    if (entry === undefined) {
      problems.push(`${key} is exported by deno.json but not by package.json`);
      continue;
    }
    if (entry.default !== jsPath(source, ".js")) {
      problems.push(
        `${key}: package.json points at ${entry.default}, deno.json at ${source}`,
      );
    }
    if (entry.types !== jsPath(source, ".d.ts")) {
      problems.push(`${key}: types ${entry.types} do not match ${source}`);
    }
  }
  for (const key of Object.keys(packageExports)) {
    if (!(key in denoExports)) {
      problems.push(`${key} is exported by package.json only`);
    }
  }
  return problems;
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`build:npm: ${(e as Error).message}`);
    process.exit(1);
  }
}
