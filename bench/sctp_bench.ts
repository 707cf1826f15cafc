/**
 * SCTP in TypeScript, TS to TS over UDP loopback (RFC 6951): messages per
 * second and throughput, against the same messages over this library's TCP
 * message transport (node:net, one framing) in the same run as the
 * baseline, and against the sans-IO SCTP stack on a simulated network (no
 * sockets: the protocol work alone).
 *
 * One iteration moves a batch one way and waits until the receiver has it
 * all: 2,000 messages of 100 bytes (messages per second), or 48 messages
 * of 64 KiB (3 MiB, below the 4 MiB send buffers: throughput).
 *
 * Run: deno bench --allow-all bench/sctp_bench.ts
 */

import { SimNet } from "../lib/transport/sctp/simnet.ts";
import { SctpUdpTransport } from "../lib/transport/sctp/udp.ts";
import { StreamTransport } from "../lib/transport/tcp.ts";
import type { MessageConnection, MessageTransport } from "../lib/transport/types.ts";

const SMALL = { count: 2000, size: 100 };
const LARGE = { count: 48, size: 64 * 1024 };

interface Pipe {
  readonly connection: MessageConnection;
  received: number;
  wake: (() => void) | undefined;
}

async function pipe(
  server: MessageTransport,
  client: MessageTransport,
  host: string,
  port: number,
): Promise<Pipe> {
  const p: Pipe = {
    connection: undefined as unknown as MessageConnection,
    received: 0,
    wake: undefined,
  };
  const listener = await server.listen({ host, port, framing: "session" }, () => ({
    message: () => {
      p.received++;
      p.wake?.();
    },
    closed: () => {},
  }));
  (p as { connection: MessageConnection }).connection = await client.connect(
    { addresses: [host], port: listener.address.port, framing: "session" },
    {
      message: () => {},
      closed: () => {},
    },
  );
  return p;
}

async function move(p: Pipe, batch: { count: number; size: number }): Promise<void> {
  const payload = new Uint8Array(batch.size).fill(7);
  const target = p.received + batch.count;
  for (let i = 0; i < batch.count; i++) p.connection.send(1, payload);
  while (p.received < target) await new Promise<void>((r) => p.wake = r);
  p.wake = undefined;
}

/** The pipes, made once on first use (inside the benchmarks' own run). */
let pipes: Promise<{ sctp: Pipe; tcp: Pipe }> | undefined;
function ready(): Promise<{ sctp: Pipe; tcp: Pipe }> {
  pipes ??= (async () => {
    const udpPort = 20000 + Math.floor(Math.random() * 20000);
    const a = await SctpUdpTransport.open({ host: "127.0.0.1", udpPort, remoteUdpPort: udpPort });
    const b = await SctpUdpTransport.open({ host: "127.0.0.2", udpPort, remoteUdpPort: udpPort });
    const tcp = new StreamTransport({ idleTimeout: 0 });
    return { sctp: await pipe(a, b, "127.0.0.1", 5000), tcp: await pipe(tcp, tcp, "127.0.0.1", 0) };
  })();
  return pipes;
}

Deno.bench({
  name: "TCP transport, 2000 × 100 B",
  group: "messages",
  baseline: true,
  fn: async () => move((await ready()).tcp, SMALL),
});
Deno.bench({
  name: "SCTP/UDP, 2000 × 100 B",
  group: "messages",
  fn: async () => move((await ready()).sctp, SMALL),
});
Deno.bench({
  name: "SCTP sans-IO on SimNet, 2000 × 100 B",
  group: "messages",
  fn: () => simulated(SMALL),
});

Deno.bench({
  name: "TCP transport, 48 × 64 KiB",
  group: "throughput",
  baseline: true,
  fn: async () => move((await ready()).tcp, LARGE),
});
Deno.bench({
  name: "SCTP/UDP, 48 × 64 KiB",
  group: "throughput",
  fn: async () => move((await ready()).sctp, LARGE),
});
Deno.bench({
  name: "SCTP sans-IO on SimNet, 48 × 64 KiB",
  group: "throughput",
  fn: () => simulated(LARGE),
});

/** The same batch through two sans-IO endpoints on a loss-free simulated network. */
function simulated(batch: { count: number; size: number }): void {
  const net = new SimNet(1, { delay: [0.05, 0.05] });
  const a = net.host("10.0.0.1");
  const b = net.host("10.0.0.2");
  b.endpoint.listen(5000);
  const association = a.endpoint.connect({ address: "10.0.0.2", port: 9899 }, 5000, 5001, 0);
  net.runUntil(() => association.state === "established", 10_000, 1);
  const payload = new Uint8Array(batch.size).fill(7);
  let sent = 0;
  const received = () => b.events.filter((e) => e.event.kind === "message").length;
  while (received() < batch.count) {
    while (sent < batch.count && association.send(0, 1, payload)) sent++;
    a.endpoint.flush(net.now);
    net.run(net.now + 1);
  }
}
