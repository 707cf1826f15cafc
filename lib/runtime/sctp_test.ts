/**
 * The runtime over SCTP (in TypeScript, carried over UDP on loopback):
 * two "hosts", each one SCTP/UDP endpoint shared by the roles on it.
 */
import assert from "node:assert/strict";
import { SctpUdpTransport } from "../transport/sctp/udp.ts";
import { registerPoolElement } from "./element.ts";
import { startRegistrar } from "./registrar.ts";
import { echoService } from "./services.ts";
import { createPoolUser } from "./user.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function until(what: () => boolean, ms = 5000, label = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Two loopback "hosts" on the same UDP port: 127.0.0.1 and 127.0.0.2. */
async function hosts() {
  for (let attempt = 0;; attempt++) {
    const udpPort = 20000 + Math.floor(Math.random() * 20000);
    try {
      const a = await SctpUdpTransport.open({ host: "127.0.0.1", udpPort, remoteUdpPort: udpPort });
      const b = await SctpUdpTransport.open({ host: "127.0.0.2", udpPort, remoteUdpPort: udpPort })
        .catch(async (e) => {
          await a.close();
          throw e;
        });
      return { a, b };
    } catch (e) {
      if (attempt > 10) throw e;
    }
  }
}

Deno.test("runtime over SCTP/UDP: registrars peer over ENRP, an element registers, a user talks to it, takeover", async () => {
  const { a, b } = await hosts();
  const timers = {
    peerHeartbeatCycle: 200,
    maxTimeLastHeard: 600,
    maxTimeNoResponse: 300,
    mentorHuntTimeout: 300,
    takeoverExpiry: 500,
  };
  const pr1 = await startRegistrar({
    asap: "127.0.0.1:0",
    enrp: "127.0.0.1:0",
    transports: { SCTP: a },
    timers,
  });
  assert.equal(pr1.sctp?.asap.port, pr1.asap.port, "SCTP listens at the TCP port numbers");
  const pr2 = await startRegistrar({
    asap: "127.0.0.2:0",
    enrp: "127.0.0.2:0",
    transports: { SCTP: b },
    peers: [`sctp://127.0.0.1:${pr1.enrp.port}`],
    timers,
  });
  await until(() => pr2.status().peers.some((p) => p.connected), 5000, "peering");
  const homes: unknown[] = [];
  const pe = await registerPoolElement({
    poolHandle: "echo",
    listen: "sctp://127.0.0.1:0",
    registrars: [`sctp://127.0.0.1:${pr1.asap.port}`],
    transports: { SCTP: a },
    serve: echoService(),
    onEvent: (e) => e.kind === "home-changed" && homes.push(e.registrarId),
  });
  await pe.registered();
  const node = [...pr1.registrar.handlespace.ownedBy(pr1.id)][0];
  assert.equal(node.userTransport.type, "SCTP");
  assert.equal(node.asapTransport?.type, "SCTP");
  assert.equal(node.asapTransport?.port, node.userTransport.port, "ASAP endpoint = session port");
  await until(() => pr2.status().handlespace.elements === 1, 5000, "the peer to learn the element");

  // A TCP element, registered at the other registrar (in its own pool: a pool has one transport type).
  const tcpElement = await registerPoolElement({
    poolHandle: "echo-tcp",
    registrars: [`127.0.0.2:${pr2.asap.port}`],
    serve: echoService(),
  });
  await tcpElement.registered();
  await until(() => pr1.status().handlespace.elements === 2, 5000, "both elements everywhere");

  // A user on the second host resolves over SCTP and talks to both.
  const pu = await createPoolUser({
    registrars: [`sctp://127.0.0.2:${pr2.asap.port}`],
    transports: { SCTP: b },
  });
  assert.deepEqual((await pu.resolve("echo")).map((e) => e.userTransport.type), ["SCTP"]);
  assert.deepEqual((await pu.resolve("echo-tcp")).map((e) => e.userTransport.type), ["TCP"]);
  for (const pool of ["echo", "echo-tcp"]) {
    const got: string[] = [];
    const session = await pu.connect(pool, { data: (x) => got.push(text(x)) });
    for (let i = 0; i < 20; i++) session.send(`m${i}`);
    await until(() => got.join("").length === 20 * 2 + 10, 5000, `echoes from ${pool}`);
    assert.equal(got.join(""), Array.from({ length: 20 }, (_, i) => `m${i}`).join(""));
    session.close();
  }

  // The first registrar dies: the second takes the SCTP element over, reaching it at its port.
  await pr1.stop();
  await until(() => pr2.status().counters.takeovers === 1, 8000, "takeover");
  await until(() => homes.length === 1, 5000, "the element to accept its new home");
  assert.equal(homes[0], pr2.id);
  await pu.close();
  await pe.close();
  await tcpElement.close();
  await pr2.stop();
  await a.close();
  await b.close();
});
