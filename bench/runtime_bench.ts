/**
 * End-to-end handle resolutions over TCP loopback, and over this library's
 * SCTP over UDP (RFC 6951) on loopback: a running registrar
 * (its ASAP listener, framing, role and codecs) answering pool users that
 * each ask for a pool of 10 elements, one request at a time per user.
 *
 * One iteration is 2000 resolutions. The baseline is a bare TCP echo
 * server answering the same 2000 requests from 16 users: the floor any
 * request/response protocol has on this runtime's sockets, so the ratios
 * show what ASAP adds (framing, decoding, the registrar, encoding). The
 * same 2000 resolutions fed straight into a sans-IO registrar (no sockets)
 * show the protocol work alone. Over SCTP the baseline is an echo server on
 * the same SCTP transport, answering the same requests from 16 associations.
 * Users and registrar share this process and its one event loop; the
 * "registrar process" cases run the registrar as its own `rserpool
 * registrar` process, as deployed.
 *
 * Run: deno task bench (or deno bench --allow-all bench/runtime_bench.ts)
 */

import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { encodeAsap } from "../lib/protocol/codec.ts";
import type { AsapMessage } from "../lib/protocol/types.ts";
import { Registrar } from "../lib/registrar/registrar.ts";
import { startRegistrar } from "../lib/runtime/registrar.ts";
import { createPoolUser } from "../lib/runtime/user.ts";
import { MessageDeframer } from "../lib/transport/framing.ts";
import { SctpUdpTransport } from "../lib/transport/sctp/udp.ts";
import type { MessageConnection, MessageTransport } from "../lib/transport/types.ts";

const RESOLUTIONS = 2000;
const ELEMENTS = 10;
const handle = new TextEncoder().encode("bench");
const request = encodeAsap({ type: "HandleResolution", poolHandle: handle });
const registration = (id: number): AsapMessage => ({
  type: "Registration",
  poolHandle: handle,
  poolElement: {
    identifier: id,
    homeRegistrarId: 0,
    registrationLife: 3_600_000,
    userTransport: { type: "TCP", port: 7000 + id, transportUse: 0, addresses: ["127.0.0.1"] },
    policy: { type: "RoundRobin" },
  },
});

/** A pool user speaking ASAP by hand: one outstanding request, answers counted. */
class Asker {
  private waiting: (() => void) | undefined;
  private readonly deframer = new MessageDeframer(11);
  private constructor(private readonly socket: net.Socket, echo: boolean) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      // An echo comes back in one piece here; registrar answers are deframed.
      const answers = echo ? [chunk] : this.deframer.push(new Uint8Array(chunk));
      for (const _ of answers) {
        const w = this.waiting;
        this.waiting = undefined;
        w?.();
      }
    });
  }
  static connect(port: number, echo = false): Promise<Asker> {
    return new Promise((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => resolve(new Asker(s, echo)));
    });
  }
  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(bytes);
    });
  }
  close(): void {
    this.socket.destroy();
  }
}

/** The same over a message transport (SCTP): one outstanding request per association. */
class MessageAsker {
  private waiting: (() => void) | undefined;
  private connection!: MessageConnection;
  static async connect(transport: MessageTransport, port: number): Promise<MessageAsker> {
    const a = new MessageAsker();
    a.connection = await transport.connect(
      { addresses: ["127.0.0.1"], port, framing: "message", ppid: 11 },
      {
        message: () => {
          const w = a.waiting;
          a.waiting = undefined;
          w?.();
        },
        closed: () => {},
      },
    );
    return a;
  }
  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.connection.send(11, bytes);
    });
  }
}

async function register(port: number): Promise<Asker> {
  const element = await Asker.connect(port);
  for (let id = 1; id <= ELEMENTS; id++) await element.send(encodeAsap(registration(id)));
  return element;
}

async function askConcurrently(
  askers: readonly { send(bytes: Uint8Array): Promise<void> }[],
  total: number,
): Promise<void> {
  const each = Math.ceil(total / askers.length);
  await Promise.all(askers.map(async (a) => {
    for (let i = 0; i < each; i++) await a.send(request);
  }));
}

// SCTP over UDP: the registrar's side on 127.0.0.1, the users' on 127.0.0.2.
const udpPort = 20000 + Math.floor(Math.random() * 20000);
const sctpHere = await SctpUdpTransport.open({
  host: "127.0.0.1",
  udpPort,
  remoteUdpPort: udpPort,
});
const sctpThere = await SctpUdpTransport.open({
  host: "127.0.0.2",
  udpPort,
  remoteUdpPort: udpPort,
});

// In-process registrar (TCP and SCTP).
// The elements registered by hand answer no Endpoint Keep-Alive: keep the first one an hour away,
// or they are removed in the middle of the run.
const KEEP_ALIVE_MS = 3_600_000;
const pr = await startRegistrar({
  asap: "127.0.0.1:0",
  enrp: "127.0.0.1:0",
  transports: { SCTP: sctpHere },
  timers: { keepAliveInterval: KEEP_ALIVE_MS },
});
const port = pr.asap.port;
await register(port);
const groups = new Map<number, Asker[]>();
for (const n of [1, 16, 64, 256]) {
  groups.set(n, await Promise.all([...Array(n)].map(() => Asker.connect(port))));
}

// The floor: a bare TCP echo server answering the same requests (no framing, no ASAP).
const echo = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (d) => socket.write(d));
});
await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
const echoPort = (echo.address() as net.AddressInfo).port;
const echoers = await Promise.all([...Array(16)].map(() => Asker.connect(echoPort, true)));

// Over SCTP: 16 associations to the registrar, and the floor: an echo server on the same transport.
const sctpAskers: MessageAsker[] = [];
for (let i = 0; i < 16; i++) {
  sctpAskers.push(await MessageAsker.connect(sctpThere, pr.sctp!.asap.port));
}
const sctpEcho = await sctpHere.listen(
  { host: "127.0.0.1", port: 0, framing: "message", ppid: 11 },
  (connection) => ({
    message: (ppid, payload) => connection.send(ppid, payload),
    closed: () => {},
  }),
);
const sctpEchoers: MessageAsker[] = [];
for (let i = 0; i < 16; i++) {
  sctpEchoers.push(await MessageAsker.connect(sctpThere, sctpEcho.address.port));
}

// The same registrar logic without sockets.
const core = new Registrar({
  enrpTransport: { type: "TCP", port: 9901, transportUse: 0, addresses: ["127.0.0.1"] },
  announce: false,
});
core.start(0);
core.accepted("in:1", "asap", { address: "127.0.0.1", port: 40000, transport: "TCP" }, 0);
for (let id = 1; id <= ELEMENTS; id++) core.receiveBytes("in:1", encodeAsap(registration(id)), 0);
core.drainActions();

// The registrar as a separate process.
const bin = fileURLToPath(new URL("../lib/cli/bin.ts", import.meta.url));
const child = spawn(Deno.execPath(), [
  "run",
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-sys",
  bin,
  "registrar",
  "--asap",
  "127.0.0.1:0",
  "--enrp",
  "127.0.0.1:0",
  "--timer",
  `keepAliveInterval=${KEEP_ALIVE_MS}`,
], { stdio: ["ignore", "ignore", "pipe"] });
const childPort = await new Promise<number>((resolve) => {
  let err = "";
  child.stderr!.on("data", (d) => {
    err += d;
    const m = /asap=127\.0\.0\.1:(\d+)/.exec(err);
    if (m) resolve(Number(m[1]));
  });
});
await register(childPort);
const remote = await Promise.all([...Array(64)].map(() => Asker.connect(childPort)));

// Full pool users (role, driver, cache disabled so every resolve asks the registrar).
const users = await Promise.all(
  [...Array(16)].map(() =>
    createPoolUser({
      registrars: [`127.0.0.1:${port}`],
      timers: { staleCache: 0 },
    })
  ),
);

globalThis.addEventListener("unload", () => {
  child.kill("SIGKILL");
});

const options = { group: "resolutions", n: 30, warmup: 5 } as const;

Deno.bench(`sans-IO registrar, ${RESOLUTIONS} resolutions, no sockets`, options, () => {
  for (let i = 0; i < RESOLUTIONS; i++) {
    core.receiveBytes("in:1", request, 1);
    for (const a of core.drainActions()) {
      if (a.type === "send") encodeAsap(a.message as AsapMessage);
    }
  }
});

Deno.bench("TCP loopback echo server (no ASAP), 16 users (baseline)", {
  ...options,
  baseline: true,
}, async () => {
  await askConcurrently(echoers, RESOLUTIONS);
});

for (const [n, askers] of groups) {
  Deno.bench(`TCP loopback, ${n} user${n === 1 ? "" : "s"}`, options, async () => {
    await askConcurrently(askers, RESOLUTIONS);
  });
}

Deno.bench("TCP loopback, 64 users, registrar process", options, async () => {
  await askConcurrently(remote, RESOLUTIONS);
});

Deno.bench("SCTP over UDP loopback echo server (no ASAP), 16 associations", {
  ...options,
  group: "resolutions over SCTP",
  baseline: true,
}, async () => {
  await askConcurrently(sctpEchoers, RESOLUTIONS);
});

Deno.bench("SCTP over UDP loopback, 16 users", {
  ...options,
  group: "resolutions over SCTP",
}, async () => {
  await askConcurrently(sctpAskers, RESOLUTIONS);
});

Deno.bench("TCP loopback, 16 runtime pool users (createPoolUser)", options, async () => {
  const each = RESOLUTIONS / users.length;
  await Promise.all(users.map(async (u) => {
    for (let i = 0; i < each; i++) await u.resolve("bench");
  }));
});
