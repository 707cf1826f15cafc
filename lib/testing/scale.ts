/**
 * The scale scenario: many registrars, pool elements and pool users with
 * churn, in the deterministic simulator. Used by a test (correctness) and
 * by `bench/scale.ts` (real time and message counts).
 *
 * @module
 */

import type { PoolUser } from "../user/user.ts";
import { RSPLIB_REGISTRAR_TIMERS } from "../registrar/options.ts";
import { Simulation } from "./sim.ts";

/** Size and duration of the scenario. */
export interface ScaleOptions {
  /** Registrars (full mesh of static peers). */
  readonly registrars: number;
  /** Pool elements, spread over the registrars and `pools` pools. */
  readonly elements: number;
  /** Pools. */
  readonly pools: number;
  /** Pool users, each resolving a random pool every `resolveEvery` ms. */
  readonly users: number;
  /** Interval between one user's resolutions (ms). */
  readonly resolveEvery: number;
  /** Churn: every `churnEvery` ms one element leaves (crash or deregistration) and a new one joins. */
  readonly churnEvery: number;
  /** Simulated time with churn (ms), after start-up. */
  readonly duration: number;
  /** Seed. */
  readonly seed: number;
}

/** The scale: 10 registrars, 10,000 elements, 1,000 users. */
export const FULL_SCALE: ScaleOptions = {
  registrars: 10,
  elements: 10_000,
  pools: 100,
  users: 1000,
  resolveEvery: 5000,
  churnEvery: 200,
  duration: 30_000,
  seed: 2026,
};

/** What a run did. */
export interface ScaleResult {
  /** The simulation, settled. */
  readonly sim: Simulation;
  /** Registrar host names. */
  readonly registrars: readonly string[];
  /** Element host names still running and registered. */
  readonly liveElements: readonly string[];
  /** Resolutions answered, and how many returned no element. */
  readonly resolutions: { readonly answered: number; readonly empty: number };
  /** Elements that left, and joined, during the churn. */
  readonly churn: { readonly left: number; readonly joined: number };
}

/** Runs the scenario: start-up, churn with resolutions, then quiet settling. */
export function runScale(o: ScaleOptions): ScaleResult {
  const sim = new Simulation(o.seed, { latency: [1, 10] });
  const timers = { ...RSPLIB_REGISTRAR_TIMERS, peerHeartbeatCycle: 1000 };
  const registrars: string[] = [];
  for (let i = 0; i < o.registrars; i++) {
    // Elements and users know their registrars: no Server Announces to 11,000 hosts every second.
    sim.addRegistrar(`pr${i}`, { timers, peerNames: registrars.slice(), announce: false });
    registrars.push(`pr${i}`);
  }
  sim.runFor(2000);
  const handles = Array.from({ length: o.pools }, (_, i) => new TextEncoder().encode(`Pool${i}`));
  const random = sim.randomFor("scenario");
  let nextElement = 0;
  const addElement = () => {
    const i = nextElement++;
    const pr = registrars[i % registrars.length];
    sim.addElement(`pe${i}`, {
      poolHandle: handles[i % o.pools],
      policy: { type: "LeastUsed", load: Math.floor(random.next() * 0xffffffff) },
      // Each element knows its own registrar and, as a fallback, the next one.
      registrars: sim.registrarTransports(pr, registrars[(i + 1) % registrars.length]),
      reregistrationInterval: 30_000,
    });
  };
  // Checked after every step: no registrar holds elements that never existed.
  sim.check = () => {
    for (const name of registrars) {
      if (sim.registrar(name).handlespace.size > nextElement) {
        throw new Error(`${name} holds phantom elements`);
      }
    }
  };
  // Elements join over 10 s, users over the last second of it.
  const startup = 10_000;
  for (let i = 0; i < o.elements; i++) sim.at(sim.now + (i * startup) / o.elements, addElement);
  sim.runFor(startup - 1000);
  for (let u = 0; u < o.users; u++) {
    sim.addUser(`pu${u}`, {
      registrars: sim.registrarTransports(registrars[u % registrars.length]),
      items: 3,
    });
  }
  sim.runFor(2000);

  // Churn, with resolutions.
  const leaving = new Set<string>();
  let left = 0;
  let joined = 0;
  const end = sim.now + o.duration;
  for (let t = sim.now; t < end; t += o.churnEvery) {
    sim.at(t, () => {
      const victim = `pe${Math.floor(random.next() * nextElement)}`;
      const node = sim.nodes.get(victim);
      if (node !== undefined && !node.crashed && !leaving.has(victim)) {
        leaving.add(victim);
        left++;
        if (random.next() < 0.5) sim.crash(victim);
        else sim.act(victim, (e: { deregister(now: number): void }) => e.deregister(sim.now));
      }
      addElement();
      joined++;
    });
  }
  for (let u = 0; u < o.users; u++) {
    for (let t = sim.now + random.next() * o.resolveEvery; t < end; t += o.resolveEvery) {
      const handle = handles[Math.floor(random.next() * o.pools)];
      sim.at(t, () => {
        sim.act(`pu${u}`, (user: PoolUser) => {
          user.purgeCache(handle);
          user.resolve(handle, sim.now);
        });
      });
    }
  }
  sim.runUntil(end);
  // Quiet: crashed elements' connections are noticed, every update propagates.
  sim.runFor(5000);

  let answered = 0;
  let empty = 0;
  for (let u = 0; u < o.users; u++) {
    for (const e of sim.eventsOf(`pu${u}`)) {
      const kind = (e as { kind: string }).kind;
      if (kind === "resolved") answered++;
      if (kind === "resolution-failed") empty++;
    }
  }
  const liveElements = [...sim.nodes.values()]
    .filter((n) => n.kind === "element" && !n.crashed && !leaving.has(n.name))
    .map((n) => n.name);
  return {
    sim,
    registrars,
    liveElements,
    resolutions: { answered, empty },
    churn: { left, joined },
  };
}
