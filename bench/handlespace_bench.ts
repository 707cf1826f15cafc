/**
 * Representative handlespace cases for `deno bench` (one iteration = one
 * batch of `handlespace_cases.ts`: 1000 registrations or 10,000
 * resolutions). The full matrix with per-operation rates is
 * `deno task bench:handlespace`.
 */
import { prepare, prepareBaseline } from "./handlespace_cases.ts";

for (const [pools, perPool] of [[1, 1000], [1, 100000], [1000, 10]] as const) {
  const group = `${pools}x${perPool}`;
  const baseline = prepareBaseline(pools, perPool);
  Deno.bench(`${baseline.name} (100000 lookups)`, { group, baseline: true }, () => {
    baseline.batch();
  });
  for (
    const [operation, policy] of [["register", "LeastUsed"], ["resolve1", "RoundRobin"], [
      "resolve3",
      "WeightedRandom",
    ]] as const
  ) {
    const c = prepare(operation, policy, pools, perPool);
    const per = operation === "register" ? 1000 : 10000;
    Deno.bench(`${c.name} (${per} operations)`, { group }, () => {
      c.batch();
    });
  }
}
