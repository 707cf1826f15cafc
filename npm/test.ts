/**
 * Tests the built npm package as a user gets it: `deno task test:npm`.
 *
 * Packs `npm/dist` with `npm pack`, installs the tarball into a scratch
 * project, runs `npm/test/*.test.mjs` there with `node --test` (Node 20 or
 * later), and type-checks `npm/test/consumer.ts` against the installed
 * declarations with TypeScript. Run `deno task build:npm` first.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const NPM = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(NPM);
const DIST = join(NPM, "dist");
const TESTS = join(NPM, "test");

function say(text: string): void {
  console.error(`test:npm: ${text}`);
}

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}

async function main(): Promise<number> {
  if (!existsSync(join(DIST, "package.json"))) {
    say("npm/dist is missing: run `deno task build:npm` first");
    return 1;
  }
  const version = run("node", ["--version"], NPM).trim();
  const major = Number(/^v(\d+)/.exec(version)?.[1]);
  if (!(major >= 20)) {
    say(`Node ${version} is too old: the package needs Node 20 or later`);
    return 1;
  }
  const scratch = await mkdtemp(join(tmpdir(), "rserpool-npm-"));
  try {
    const tarball = run("npm", [
      "pack",
      "--silent",
      "--pack-destination",
      scratch,
    ], DIST).trim()
      .split("\n").pop()!;
    say(`packed ${tarball}; installing into ${scratch} (Node ${version})`);
    await writeFile(
      join(scratch, "package.json"),
      JSON.stringify({ name: "scratch", private: true, type: "module" }),
    );
    run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      join(scratch, tarball),
    ], scratch);
    for (const file of await readdir(TESTS)) {
      if (file.endsWith(".test.mjs") || file === "consumer.ts") {
        await copyFile(join(TESTS, file), join(scratch, file));
      }
    }
    await mkdir(join(scratch, "certs"));
    for (
      const name of [
        "ca.crt",
        "registrar.crt",
        "registrar.key",
        "pe-alpha.crt",
        "pe-alpha.key",
      ]
    ) {
      await copyFile(
        join(ROOT, "lib", "transport", "testdata", name),
        join(scratch, "certs", name),
      );
    }

    say("node --test");
    const tests = (await readdir(scratch)).filter((f) => f.endsWith(".test.mjs")).sort();
    try {
      execFileSync("node", ["--test", "--test-reporter=spec", ...tests], {
        cwd: scratch,
        stdio: "inherit",
      });
    } catch {
      say("Node tests failed");
      return 1;
    }

    say(
      "type-checking a TypeScript consumer against the installed declarations",
    );
    await writeFile(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(NPM, "node_modules", "@types")],
        },
        files: ["consumer.ts"],
      }),
    );
    try {
      execFileSync("node", [
        join(NPM, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        ".",
      ], {
        cwd: scratch,
        stdio: "inherit",
      });
    } catch {
      say("the TypeScript consumer does not type-check");
      return 1;
    }
    say("ok");
    return 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();
