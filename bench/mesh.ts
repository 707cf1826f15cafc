/**
 * `deno task bench:mesh [--registrars 2,5,10,20,50] [--elements N] [--json]`
 *
 * ENRP traffic as the number of registrars grows. Each point runs the scale
 * scenario of lib/testing/scale.ts (full mesh of static peers, RSPLIB timers
 * with a 1 s heartbeat, `--elements` pool elements spread over them with
 * churn, 100 users) in the deterministic simulation and reports the ENRP
 * messages delivered per registrar per simulated second, over the whole run
 * (start-up included). In a full mesh every registrar sends each Presence
 * and each Handle Update to every peer: per registrar the traffic grows
 * with the number of peers, in total with its square.
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { FULL_SCALE, runScale } from "../lib/testing/scale.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    registrars: { type: "string", default: "2,5,10,20,50" },
    elements: { type: "string", default: "10000" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("Usage: deno task bench:mesh [--registrars N,N...] [--elements N] [--json]");
  process.exit(0);
}
const counts = values.registrars.split(",").map(Number);
const elements = Number(values.elements);
if (counts.some((n) => !(n >= 1)) || !(elements >= 1)) {
  console.error("--registrars and --elements take positive integers");
  process.exit(2);
}

const results = [];
for (const registrars of counts) {
  const start = performance.now();
  const r = runScale({
    ...FULL_SCALE,
    registrars,
    elements,
    pools: Math.max(1, Math.round(elements / 100)),
    users: 100,
  });
  const seconds = r.sim.now / 1000;
  const enrp = r.sim.stats.enrpMessages;
  const point = {
    registrars,
    elements,
    simulatedSeconds: Math.round(seconds),
    enrpMessages: enrp,
    enrpPerRegistrarPerSecond: Math.round(enrp / registrars / seconds),
    allMessages: r.sim.stats.messages,
    realSeconds: +((performance.now() - start) / 1000).toFixed(1),
  };
  process.stderr.write(
    `${registrars} registrars: ${point.enrpPerRegistrarPerSecond} ENRP messages per registrar per second ` +
      `(${
        enrp.toLocaleString("en")
      } in ${point.simulatedSeconds} s simulated, ${point.realSeconds} s real)\n`,
  );
  results.push(point);
}
if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log("registrars  ENRP/registrar/s  ENRP total  all messages  real s");
  for (const p of results) {
    console.log(
      `${String(p.registrars).padStart(10)} ${String(p.enrpPerRegistrarPerSecond).padStart(17)} ${
        p.enrpMessages.toLocaleString("en").padStart(11)
      } ${p.allMessages.toLocaleString("en").padStart(13)} ${String(p.realSeconds).padStart(7)}`,
    );
  }
}
