/**
 * Distributed scenarios in the deterministic simulator (issue: registrars,
 * elements and users over a simulated network). Each is seeded and
 * reproducible; invariants are checked after every simulation event where
 * they must hold, and convergence at the end.
 */
import assert from "node:assert/strict";
import type { PoolElementEvent } from "../element/element.ts";
import { handlespaceChecksum } from "../protocol/checksum.ts";
import type { Identifier } from "../protocol/types.ts";
import { RSPLIB_REGISTRAR_TIMERS } from "../registrar/options.ts";
import type { Registrar } from "../registrar/registrar.ts";
import type { PoolUserEvent } from "../user/user.ts";
import { Simulation } from "./sim.ts";

const POOL = new TextEncoder().encode("EchoPool");
const OTHER = new TextEncoder().encode("PingPong");

/** Fast RSPLIB-like timers so that scenarios take little virtual time. */
const TIMERS = {
  ...RSPLIB_REGISTRAR_TIMERS,
  peerHeartbeatCycle: 1000,
  maxTimeLastHeard: 3000,
  maxTimeNoResponse: 1500,
  mentorHuntTimeout: 1000,
  takeoverExpiry: 3000,
  keepAliveInterval: 1000,
  keepAliveTimeout: 1000,
};

/** Every registrar's handlespace is internally consistent: per-owner checksums match a recompute. */
function consistent(sim: Simulation, names: readonly string[]): void {
  for (const name of names) {
    if (sim.nodes.get(name)!.crashed) continue;
    const h = sim.registrar(name).handlespace;
    const byOwner = new Map<Identifier, [Uint8Array, Identifier][]>();
    for (const pool of h.allPools()) {
      for (const node of pool.elements.values()) {
        const list = byOwner.get(node.homeRegistrarId) ?? [];
        list.push([pool.handle, node.identifier]);
        byOwner.set(node.homeRegistrarId, list);
      }
    }
    for (const [owner, list] of byOwner) {
      assert.equal(h.checksum(owner), handlespaceChecksum(list), `${name}: owner ${owner}`);
    }
  }
}

/** The handlespace of a registrar as comparable rows. */
function contents(r: Registrar): string[] {
  const rows: string[] = [];
  for (const pool of r.handlespace.allPools()) {
    for (const node of pool.elements.values()) {
      rows.push(
        `${new TextDecoder().decode(pool.handle)}/${node.identifier}/${node.homeRegistrarId}`,
      );
    }
  }
  return rows.sort();
}

/** All live registrars agree on contents, owners and every owner's checksum. */
function converged(sim: Simulation, names: readonly string[]): void {
  const live = names.filter((n) => !sim.nodes.get(n)!.crashed);
  const reference = contents(sim.registrar(live[0]));
  for (const name of live.slice(1)) {
    assert.deepEqual(contents(sim.registrar(name)), reference, `${name} vs ${live[0]}`);
  }
  for (const name of live) {
    const me = sim.registrar(name);
    for (const other of live) {
      const them = sim.registrar(other);
      // What a registrar says it owns equals what every peer thinks it owns.
      assert.equal(
        them.handlespace.checksum(me.id),
        me.status().checksum,
        `${other}'s view of ${name}`,
      );
    }
  }
}

function mesh(sim: Simulation, n: number, extra: Record<string, unknown> = {}): string[] {
  const names: string[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `pr${i}`;
    sim.addRegistrar(name, { timers: TIMERS, peerNames: names.slice(), ...extra });
    names.push(name);
  }
  return names;
}

Deno.test("elements registered at different registrars: every handlespace converges; users resolve", () => {
  const sim = new Simulation(101, { latency: [1, 20], loss: 0.05 });
  const prs = mesh(sim, 3);
  sim.check = () => consistent(sim, prs);
  sim.runFor(3000);
  for (let i = 0; i < 12; i++) {
    sim.addElement(`pe${i}`, {
      poolHandle: i % 2 === 0 ? POOL : OTHER,
      policy: { type: "RoundRobin" },
      registrars: sim.registrarTransports(prs[i % 3]),
      reregistrationInterval: 5000,
    });
  }
  for (let i = 0; i < 3; i++) {
    sim.addUser(`pu${i}`, { registrars: sim.registrarTransports(prs[i]), items: 10 });
  }
  sim.runFor(8000);
  converged(sim, prs);
  assert.equal(sim.registrar("pr1").handlespace.size, 12);
  // Every element is owned by the registrar it registered at.
  for (let i = 0; i < 12; i++) {
    const pe = sim.element(`pe${i}`);
    assert.ok(pe.isRegistered);
    assert.equal(
      sim.registrar(prs[0]).handlespace.find(pe.poolHandle, pe.identifier)?.homeRegistrarId,
      sim.registrar(prs[i % 3]).id,
    );
  }
  // A user at any registrar sees the whole pool.
  for (let i = 0; i < 3; i++) {
    sim.act(
      `pu${i}`,
      (u: { resolve(h: Uint8Array, now: number): unknown }) => u.resolve(POOL, sim.now),
    );
  }
  sim.runFor(1000);
  for (let i = 0; i < 3; i++) {
    const resolved = sim.eventsOf<PoolUserEvent>(`pu${i}`).filter((e) => e.kind === "resolved");
    assert.equal(resolved.length, 1);
    assert.equal(resolved[0].kind === "resolved" && resolved[0].elements.length, 6);
  }
});

Deno.test("an element crashes: it is removed everywhere, the user's session fails over with the cookie", () => {
  const sim = new Simulation(202);
  const prs = mesh(sim, 2);
  sim.check = () => consistent(sim, prs);
  sim.runFor(2000);
  for (let i = 0; i < 3; i++) {
    sim.addElement(`pe${i}`, {
      poolHandle: POOL,
      policy: { type: "RoundRobin" },
      registrars: sim.registrarTransports(prs[i % 2]),
      reregistrationInterval: 5000,
    });
  }
  sim.addUser("pu", { registrars: sim.registrarTransports("pr2") });
  sim.runFor(3000);
  let session = "";
  sim.act("pu", (u: { resolve(h: Uint8Array, n: number): unknown }) => u.resolve(POOL, sim.now));
  sim.runFor(500);
  sim.act("pu", (u: { openSession(h: Uint8Array, n: number): string }) => {
    session = u.openSession(POOL, sim.now);
  });
  sim.runFor(500);
  const first = sim.user("pu").session(session)!;
  assert.ok(first.up && first.cookie !== undefined);
  const victim = [...sim.nodes.values()].find((n) =>
    n.kind === "element" && n.address === first.element!.userTransport.addresses[0]
  )!;
  const victimId = sim.element(victim.name).identifier;
  const cookie = first.cookie!;
  sim.crash(victim.name, true); // power loss: noticed only by timeouts
  sim.runFor(10_000);
  // The user failed over, handing the new element the old element's cookie.
  const after = sim.user("pu").session(session)!;
  assert.equal(after.failovers, 1);
  assert.ok(after.up);
  assert.notEqual(after.element!.identifier, victimId);
  const newHost = [...sim.nodes.values()].find((n) =>
    n.address === after.element!.userTransport.addresses[0]
  )!;
  const echoes = sim.eventsOf<PoolElementEvent>(newHost.name).filter((e) =>
    e.kind === "cookie-echo"
  );
  assert.deepEqual(echoes.map((e) => e.kind === "cookie-echo" && [...e.cookie]), [[...cookie]]);
  // Gone from every handlespace; everything else converged.
  for (const pr of prs) {
    assert.equal(sim.registrar(pr).handlespace.find(POOL, victimId), undefined, pr);
  }
  converged(sim, prs);
  assert.equal(sim.registrar("pr1").handlespace.size, 2);
});

Deno.test("a registrar crashes: exactly one survivor takes over; nothing registered is lost", () => {
  // SCTP notices a dead peer only after its retransmissions (here 15 s): the registrars
  // detect the failure first (4.5 s), so the takeover — not a new registration — re-homes the elements.
  const sim = new Simulation(303, { latency: [1, 10], failureDetection: 15_000 });
  const prs = mesh(sim, 3);
  sim.check = () => consistent(sim, prs);
  sim.runFor(3000);
  for (let i = 0; i < 9; i++) {
    sim.addElement(`pe${i}`, {
      poolHandle: POOL,
      policy: { type: "LeastUsed", load: i * 1000 },
      // Each element knows all registrars and starts with pr3.
      registrars: sim.registrarTransports("pr3", "pr1", "pr2"),
      reregistrationInterval: 4000,
    });
  }
  sim.runFor(5000);
  const pr3 = sim.registrar("pr3").id;
  assert.equal(sim.registrar("pr1").handlespace.ownedCount(pr3), 9);
  sim.crash("pr3", true);
  sim.runFor(20_000);
  const survivors = ["pr1", "pr2"];
  const done = survivors.flatMap((n) =>
    sim.eventsOf(n).filter((e) =>
      (e as { kind: string; target?: Identifier }).kind === "takeover-done" &&
      (e as { target: Identifier }).target === pr3
    )
  );
  assert.equal(done.length, 1, "exactly one survivor completed the takeover");
  // Every element is registered again, at a survivor, and both survivors agree.
  for (let i = 0; i < 9; i++) {
    const pe = sim.element(`pe${i}`);
    assert.ok(pe.isRegistered, `pe${i}`);
    const node = sim.registrar("pr1").handlespace.find(POOL, pe.identifier);
    assert.ok(node !== undefined, `pe${i} in pr1`);
    assert.notEqual(node.homeRegistrarId, pr3);
  }
  assert.equal(sim.registrar("pr1").handlespace.ownedCount(pr3), 0);
  converged(sim, survivors);
  assert.equal(sim.registrar("pr2").handlespace.size, 9);
  // The crashed registrar comes back: its mentor hands it the handlespace; all three agree.
  sim.restart("pr3");
  sim.runFor(8000);
  assert.equal(sim.registrar("pr3").status().phase, "running");
  assert.equal(sim.registrar("pr3").handlespace.size, 9);
  converged(sim, prs);
});

Deno.test("a partition heals: the audit finds the difference and resynchronises", () => {
  const sim = new Simulation(404, { failureDetection: 1500 });
  // Slow failure detection: the partition is over before anyone gives up on its peer.
  const slow = { ...TIMERS, maxTimeLastHeard: 8000, maxTimeNoResponse: 8000 };
  const prs: string[] = [];
  for (const name of ["pr1", "pr2"]) {
    sim.addRegistrar(name, { timers: slow, peerNames: prs.slice() });
    prs.push(name);
  }
  sim.check = () => consistent(sim, prs);
  sim.runFor(2000);
  for (let i = 0; i < 4; i++) {
    sim.addElement(`pe${i}`, {
      poolHandle: POOL,
      policy: { type: "RoundRobin" },
      registrars: sim.registrarTransports(prs[i % 2]),
      reregistrationInterval: 60_000, // no re-registration repairs anything in this test
    });
  }
  sim.runFor(4000);
  converged(sim, prs);
  sim.partition(["pr1"], ["pr2"]);
  sim.runFor(2000);
  // Changes on one side while the other cannot hear: one element leaves, one joins.
  sim.act("pe0", (e: { deregister(now: number): void }) => e.deregister(sim.now));
  sim.addElement("pe9", {
    poolHandle: OTHER,
    policy: { type: "RoundRobin" },
    registrars: sim.registrarTransports("pr1"),
    reregistrationInterval: 60_000, // no re-registration repairs anything in this test
  });
  sim.runFor(2000);
  assert.notDeepEqual(contents(sim.registrar("pr1")), contents(sim.registrar("pr2")));
  const before = sim.eventsOf("pr2").length;
  sim.heal();
  sim.runFor(6000);
  converged(sim, prs);
  const synced = sim.eventsOf("pr2").slice(before).filter((e) =>
    (e as { kind: string }).kind === "synchronised"
  );
  assert.ok(synced.length >= 1, "pr2 resynchronised pr1's elements by the checksum audit");
  assert.equal(sim.registrar("pr2").handlespace.size, 4);
});

Deno.test("the same seed gives the same run", () => {
  const run = () => {
    const sim = new Simulation(7, { latency: [1, 30], loss: 0.1, multicastLoss: 0.2 });
    const prs = mesh(sim, 2, { multicastPresence: true });
    for (let i = 0; i < 5; i++) {
      sim.addElement(`pe${i}`, {
        poolHandle: POOL,
        policy: { type: "Random" },
        registrars: sim.registrarTransports(prs[i % 2]),
        reregistrationInterval: 3000,
      });
    }
    sim.runFor(8000);
    sim.crash("pe1");
    sim.runFor(4000);
    return {
      stats: { ...sim.stats },
      pr1: contents(sim.registrar("pr1")),
      pr2: contents(sim.registrar("pr2")),
    };
  };
  assert.deepEqual(run(), run());
});

Deno.test("the simulation counts ENRP messages apart: peers only talk ENRP, an element alone only ASAP", () => {
  const peers = new Simulation(7, { latency: [1, 5] });
  mesh(peers, 2);
  peers.runFor(5000);
  assert.ok(peers.stats.messages > 0);
  assert.equal(peers.stats.enrpMessages, peers.stats.messages);

  const alone = new Simulation(8, { latency: [1, 5] });
  const [pr] = mesh(alone, 1);
  alone.runFor(500);
  alone.addElement("pe", {
    poolHandle: POOL,
    policy: { type: "RoundRobin" },
    registrars: alone.registrarTransports(pr),
    reregistrationInterval: 1000,
  });
  alone.runFor(3000);
  assert.ok(alone.stats.messages > 0);
  assert.equal(alone.stats.enrpMessages, 0);
});
