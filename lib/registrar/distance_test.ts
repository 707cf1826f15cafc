import assert from "node:assert/strict";
import type { PoolMemberSelectionPolicy } from "../protocol/types.ts";
import { Simulation } from "../testing/sim.ts";

const POOL = new TextEncoder().encode("dpf");
const timers = {
  keepAliveInterval: 1000,
  keepAliveTimeout: 1000,
  peerHeartbeatCycle: 1000,
  maxTimeLastHeard: 5000,
  maxTimeNoResponse: 2000,
};

/** Two registrars 50 ms apart; E1 next to R1, E2 100 ms away from it; both register at R1. */
function scene(distanceStep: number | undefined) {
  const sim = new Simulation(7, { latency: [1, 1] });
  sim.addRegistrar("R1", { timers, distanceStep });
  sim.addRegistrar("R2", { timers, distanceStep, peerNames: ["R1"] });
  sim.setLinkDelay("R1", "R2", 50);
  const policy: PoolMemberSelectionPolicy = {
    type: "LeastUsedDPF",
    load: 0,
    loadDpf: 0x1000000, // 1/256 of 100 % per ms
    distance: 0,
  };
  for (const name of ["E1", "E2"]) {
    sim.addElement(name, {
      poolHandle: POOL,
      policy,
      registrars: sim.registrarTransports("R1"),
      reregistrationInterval: 2000,
    });
  }
  sim.setLinkDelay("E2", "R1", 100);
  return sim;
}

function distances(sim: Simulation, registrar: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ["E1", "E2"]) {
    const node = sim.registrar(registrar).handlespace.find(POOL, sim.element(name).identifier);
    const p = node?.policy;
    out[name] = p !== undefined && "distance" in p ? p.distance : -1;
  }
  return out;
}

Deno.test("distance: with distanceStep, the home measures half the round trip to each element, and a peer adds half its own round trip to the home", () => {
  const sim = scene(10);
  // Keep-alives give the round trips; the next re-registrations and Handle Updates carry them.
  sim.runFor(12_000);
  // E1: 2 ms round trip → 0; E2: 202 ms → 101 → 100 (10 ms steps).
  assert.deepEqual(distances(sim, "R1"), { E1: 0, E2: 100 });
  // R2 learns them from R1 over a 102 ms round trip: + 50.
  assert.deepEqual(distances(sim, "R2"), { E1: 50, E2: 150 });
  // The policy uses them: Least Used DPF with equal loads chooses the nearer element first.
  const first = sim.registrar("R1").handlespace.resolve(POOL, 2).map((n) => n.identifier);
  assert.equal(first[0], sim.element("E1").identifier);
});

Deno.test("distance: without distanceStep every element keeps the distance it registered", () => {
  const sim = scene(undefined);
  sim.runFor(12_000);
  assert.deepEqual(distances(sim, "R1"), { E1: 0, E2: 0 });
  assert.deepEqual(distances(sim, "R2"), { E1: 0, E2: 0 });
});
