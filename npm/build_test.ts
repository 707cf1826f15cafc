import assert from "node:assert/strict";
import { checkExports, rewriteDeclarationSpecifiers } from "./build.ts";

Deno.test("declaration specifiers: relative .ts become .js, nothing else changes", () => {
  const input = [
    `import type { A } from "./a.ts";`,
    `export * from "../lib/b.ts";`,
    `export { c } from './c.ts';`,
    `declare const d: import("./d.ts").D;`,
    `import "node:net";`,
    `import type { E } from "fast-check";`,
    `export declare const text = "see ./notes.ts";`,
  ].join("\n");
  assert.equal(
    rewriteDeclarationSpecifiers(input),
    [
      `import type { A } from "./a.js";`,
      `export * from "../lib/b.js";`,
      `export { c } from './c.js';`,
      `declare const d: import("./d.js").D;`,
      `import "node:net";`,
      `import type { E } from "fast-check";`,
      `export declare const text = "see ./notes.ts";`,
    ].join("\n"),
  );
});

Deno.test("export maps: agreement and each kind of disagreement", () => {
  const deno = { ".": "./mod.ts", "./cli": "./lib/cli/main.ts" };
  const good = {
    ".": { types: "./mod.d.ts", default: "./mod.js" },
    "./cli": { types: "./lib/cli/main.d.ts", default: "./lib/cli/main.js" },
  };
  assert.deepEqual(checkExports(deno, good), []);
  assert.match(
    checkExports(deno, { ".": good["."] }).join(),
    /\.\/cli is exported by deno.json but not/,
  );
  assert.match(
    checkExports({ ".": "./mod.ts" }, good).join(),
    /\.\/cli is exported by package.json only/,
  );
  assert.match(
    checkExports(deno, {
      ...good,
      "./cli": { ...good["./cli"], default: "./cli.js" },
    }).join(),
    /points at \.\/cli\.js/,
  );
});
