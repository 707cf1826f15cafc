/**
 * `deno task bench:memory [--sizes 100000,1000000] [--per-pool 10] [--json]`
 *
 * Bytes of memory per registered pool element in a registrar's handlespace:
 * the growth of the V8 heap (used) plus external memory, after a full
 * garbage collection, from an empty handlespace to one holding N elements
 * (pools of `--per-pool` elements, Least Used, one SCTP address each, as
 * RSPLIB's elements register), divided by N. Covers the elements, their
 * pools, selection structures, expiry heap and owner index; not the
 * per-connection state of the registrar's transports.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { Handlespace } from "../lib/handlespace/handlespace.ts";
import { SeededRandom } from "../lib/policy/random.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: "string", default: "100000,1000000" },
    "per-pool": { type: "string", default: "10" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("Usage: deno task bench:memory [--sizes N,N...] [--per-pool N] [--json]");
  process.exit(0);
}
const sizes = values.sizes.split(",").map(Number);
const perPool = Number(values["per-pool"]);
if (sizes.some((n) => !(n >= 1)) || !(perPool >= 1)) {
  console.error("--sizes and --per-pool take positive integers");
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("needs --v8-flags=--expose-gc (the task passes it)");
  process.exit(2);
}

/** Heap used plus external memory after a full collection. */
function settled(): number {
  gc!();
  gc!();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

const encoder = new TextEncoder();
const results: { elements: number; pools: number; bytesPerElement: number }[] = [];
for (const n of sizes) {
  const before = settled();
  const handlespace = new Handlespace({
    random: new SeededRandom(n),
    limits: { maxElements: n + 10, maxElementsPerPool: perPool + 10, maxPools: n + 10 },
  });
  const pools = Math.ceil(n / perPool);
  const context = { now: 0, homeRegistrarId: 0x1000 };
  for (let i = 0; i < n; i++) {
    const p = Math.floor(i / perPool);
    handlespace.register(encoder.encode(`Pool-${p}`), {
      identifier: i + 1,
      homeRegistrarId: 0x1000,
      registrationLife: 3_600_000,
      userTransport: {
        type: "SCTP",
        port: 10000 + (i % 50000),
        transportUse: 0,
        addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
      },
      policy: { type: "LeastUsed", load: i % 1000 },
    }, context);
  }
  const after = settled();
  if (handlespace.size !== n) throw new Error(`registered ${handlespace.size} of ${n}`);
  const bytesPerElement = Math.round((after - before) / n);
  process.stderr.write(
    `${n.toLocaleString("en")} elements in ${pools} pools: ${bytesPerElement} B each\n`,
  );
  results.push({ elements: n, pools, bytesPerElement });
}
if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log("elements    pools  bytes/element");
  for (const r of results) {
    console.log(
      `${r.elements.toLocaleString("en").padStart(9)} ${r.pools.toLocaleString("en").padStart(8)} ${
        String(r.bytesPerElement).padStart(14)
      }`,
    );
  }
}
