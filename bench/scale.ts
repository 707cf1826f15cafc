/**
 * `deno task bench:scale [--json]`: runs the scale scenario of
 * lib/testing/scale.ts (10 registrars, 10,000 elements, 1,000 users, 30 s
 * of churn) and reports the real time it took and the messages exchanged.
 * The baseline, measured in the same run, is the same scenario at a tenth
 * of the size: the ratio shows how the cost grows.
 */
import process from "node:process";
import { FULL_SCALE, runScale, type ScaleOptions } from "../lib/testing/scale.ts";

function measure(o: ScaleOptions) {
  const start = performance.now();
  const r = runScale(o);
  const ms = performance.now() - start;
  return {
    ms: Math.round(ms),
    simulatedMs: Math.round(r.sim.now),
    ...r.sim.stats,
    resolutions: r.resolutions.answered,
  };
}

const tenth = measure({
  ...FULL_SCALE,
  elements: FULL_SCALE.elements / 10,
  users: FULL_SCALE.users / 10,
});
const full = measure(FULL_SCALE);
const report = {
  scenario: { ...FULL_SCALE },
  full,
  tenth,
  ratio: {
    time: +(full.ms / tenth.ms).toFixed(1),
    messages: +(full.messages / tenth.messages).toFixed(1),
  },
};
if (process.argv.includes("--json")) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `full scale: ${full.ms} ms real time for ${full.simulatedMs} ms simulated; ${full.messages} messages, ${full.events} events, ${full.connections} connections, ${full.resolutions} resolutions`,
  );
  console.log(`a tenth:    ${tenth.ms} ms; ${tenth.messages} messages`);
  console.log(
    `ratio:      ${report.ratio.time}× the time for ${report.ratio.messages}× the messages`,
  );
}
