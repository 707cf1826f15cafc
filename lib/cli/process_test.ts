/**
 * The CLI across processes: registrars, elements and users as separate
 * programs on loopback, killed with SIGKILL as a crash would; and across
 * runtimes (the CLI bundled and run by Node next to Deno processes),
 * including mutual TLS, which only Node's TLS server can do.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("./bin.ts", import.meta.url));
const TESTDATA = fileURLToPath(new URL("../transport/testdata/", import.meta.url));
const DENO_ARGS = ["run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", BIN];

function nodeAvailable(): boolean {
  try {
    return /^v(\d+)/.exec(execFileSync("node", ["--version"]).toString())![1] >= "20";
  } catch {
    return false;
  }
}

/** A CLI process with its output collected. */
class Program {
  readonly child: ChildProcess;
  out = "";
  err = "";
  readonly exited: Promise<number | string>;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.on("data", (d) => this.out += d);
    this.child.stderr!.on("data", (d) => this.err += d);
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve(code ?? signal ?? -1))
    );
  }

  static deno(...args: string[]): Program {
    return new Program(Deno.execPath(), [...DENO_ARGS, ...args]);
  }

  /** Waits until stderr (or stdout) matches. */
  async wait(
    pattern: RegExp,
    where: "err" | "out" = "err",
    ms = 15_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this[where].match(pattern);
      if (m !== null) return m;
      if (Date.now() > deadline) {
        throw new Error(`no ${pattern} on std${where} within ${ms} ms:\n${this.err}\n${this.out}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends a signal (through the OS: Deno's child_process reports `kill()`ed children as killed). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    process.kill(this.child.pid!, signal);
  }
}

/** Kills whatever is still running at the end of a test. */
async function cleanup(programs: Program[]): Promise<void> {
  for (const p of programs) if (p.child.exitCode === null && p.child.signalCode === null) p.kill();
  await Promise.all(programs.map((p) => p.exited));
}

Deno.test("processes: an element is killed, the user fails over and every line is answered", async () => {
  const all: Program[] = [];
  try {
    const pr = Program.deno("registrar", "--asap", "127.0.0.1:0", "--enrp", "127.0.0.1:0");
    all.push(pr);
    const [, port] = await pr.wait(/asap=127\.0\.0\.1:(\d+)/);
    const at = `127.0.0.1:${port}`;
    const pes = [
      Program.deno("element", "--registrar", at),
      Program.deno("element", "--registrar", at),
    ];
    all.push(...pes);
    const ids = await Promise.all(
      pes.map(async (pe) => (await pe.wait(/registered pool=echo element=(0x[0-9a-f]+)/))[1]),
    );
    const pu = Program.deno("user", "--registrar", at);
    all.push(pu);
    pu.child.stdin!.write("one\n");
    await pu.wait(/^one\n/, "out");
    const [, inUse] = await pu.wait(/session up .*element=(0x[0-9a-f]+)/);
    const victim = pes[ids.indexOf(inUse)];
    victim.kill("SIGKILL");
    assert.equal(await victim.exited, "SIGKILL");
    pu.child.stdin!.write("two\n");
    await pu.wait(/^one\ntwo\n/, "out");
    await pu.wait(/failed over/);
    pu.child.stdin!.end("three\n");
    assert.equal(await pu.exited, 0, pu.err);
    assert.equal(pu.out, "one\ntwo\nthree\n");
    // The registrar removed the dead element when its connection went.
    await pr.wait(new RegExp(`element removed pool=echo element=${inUse} reason=connection-lost`));
    const survivor = pes.find((p) => p !== victim)!;
    await survivor.wait(/took over an echo session .*echoedBefore=1/);
    survivor.kill("SIGINT");
    assert.equal(await survivor.exited, 0);
    await pr.wait(/reason=deregistered/);
    pr.kill("SIGTERM");
    assert.equal(await pr.exited, 0);
    assert.match(pr.err, /stopping signal=SIGTERM/);
  } finally {
    await cleanup(all);
  }
});

Deno.test("processes: registrar, element and user over SCTP/UDP (--sctp, sctp:// endpoints)", async () => {
  const all: Program[] = [];
  const udp = String(20000 + Math.floor(Math.random() * 20000));
  try {
    const pr = Program.deno(
      "registrar",
      "--asap",
      "127.0.0.1:0",
      "--enrp",
      "127.0.0.1:0",
      "--sctp",
      "--sctp-udp",
      `127.0.0.1:${udp}`,
      "--sctp-remote-udp-port",
      udp,
    );
    all.push(pr);
    const [, port] = await pr.wait(/sctp="sctp:\/\/127\.0\.0\.1:(\d+),/);
    const at = `sctp://127.0.0.1:${port}`;
    const pe = Program.deno(
      "element",
      "--listen",
      "sctp://127.0.0.2:0",
      "--registrar",
      at,
      "--sctp-udp",
      `127.0.0.2:${udp}`,
      "--sctp-remote-udp-port",
      udp,
    );
    all.push(pe);
    await pe.wait(/registered pool=echo element=0x[0-9a-f]+/);
    await pr.wait(/element registered pool=echo/);
    const pu = Program.deno("user", "--registrar", at, "--sctp-remote-udp-port", udp);
    all.push(pu);
    pu.child.stdin!.end("one\ntwo\n");
    assert.equal(await pu.exited, 0, pu.err);
    assert.equal(pu.out, "one\ntwo\n");
    assert.match(pu.err, /session up .*at="SCTP 127\.0\.0\.2:\d+"/);
    pe.kill("SIGINT");
    assert.equal(await pe.exited, 0);
    await pr.wait(/reason=deregistered/);
    pr.kill("SIGINT");
    assert.equal(await pr.exited, 0);
  } finally {
    await cleanup(all);
  }
});

Deno.test("processes: a registrar is killed and its peer takes over its element", async () => {
  const all: Program[] = [];
  const fast = [
    "--timer",
    "peerHeartbeatCycle=200",
    "--timer",
    "maxTimeLastHeard=600",
    "--timer",
    "maxTimeNoResponse=300",
    "--timer",
    "mentorHuntTimeout=300",
  ];
  try {
    const pr1 = Program.deno(
      "registrar",
      "--asap",
      "127.0.0.1:0",
      "--enrp",
      "127.0.0.1:0",
      ...fast,
    );
    all.push(pr1);
    const [, asap1] = await pr1.wait(/asap=127\.0\.0\.1:(\d+)/);
    const [, enrp1] = await pr1.wait(/enrp=127\.0\.0\.1:(\d+)/);
    const pr2 = Program.deno(
      "registrar",
      "--asap",
      "127.0.0.1:0",
      "--enrp",
      "127.0.0.1:0",
      "--peer",
      `127.0.0.1:${enrp1}`,
      "--status",
      "127.0.0.1:0",
      ...fast,
    );
    all.push(pr2);
    const [, id2] = await pr2.wait(/registrar started id=(0x[0-9a-f]+)/);
    const [, statusPort] = await pr2.wait(/status=http:\/\/127\.0\.0\.1:(\d+)/);
    await pr2.wait(/peer-up/);
    const pe = Program.deno("element", "--registrar", `127.0.0.1:${asap1}`);
    all.push(pe);
    const [, element] = await pe.wait(/registered pool=echo element=(0x[0-9a-f]+)/);
    const status = async () => await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json();
    for (let i = 0; (await status()).handlespace.elements !== 1; i++) {
      assert.ok(i < 100, "the peer never learnt the element");
      await new Promise((r) => setTimeout(r, 50));
    }
    pr1.kill("SIGKILL");
    await pr2.wait(/takeover done .*elements=1/);
    await pe.wait(new RegExp(`home registrar changed registrar=${id2}`));
    const pools = await (await fetch(`http://127.0.0.1:${statusPort}/pools`)).json();
    assert.equal(pools[0].elements[0].id, element);
    assert.equal(pools[0].elements[0].home, id2);
    assert.equal((await status()).counters.takeovers, 1);
  } finally {
    await cleanup(all);
  }
});

Deno.test({
  name: "processes: registrar and user on Node, element on Deno, with mutual TLS",
  ignore: !nodeAvailable(),
  fn: async () => {
    const dir = mkdtempSync(join(tmpdir(), "rserpool-"));
    const bundle = join(dir, "rserpool.mjs");
    execFileSync(Deno.execPath(), ["bundle", "--quiet", "-o", bundle, BIN]);
    const rules = join(dir, "rules.json");
    writeFileSync(
      rules,
      JSON.stringify({ rules: [{ pools: ["echo"], identities: ["CN=pe-alpha"] }] }),
    );
    const tls = (name: string) => [
      "--tls-ca",
      join(TESTDATA, "ca.crt"),
      "--tls-cert",
      join(TESTDATA, `${name}.crt`),
      "--tls-key",
      join(TESTDATA, `${name}.key`),
    ];
    const all: Program[] = [];
    try {
      const pr = new Program("node", [
        bundle,
        "registrar",
        "--asap",
        "127.0.0.1:0",
        "--enrp",
        "127.0.0.1:0",
        ...tls("registrar"),
        "--tls-client-auth",
        "--authorize",
        rules,
      ]);
      all.push(pr);
      const [, port] = await pr.wait(/asap=127\.0\.0\.1:(\d+) tls=true/);
      const at = `127.0.0.1:${port}`;
      // Authorized by its certificate: registered.
      const alpha = Program.deno("element", "--registrar", at, ...tls("pe-alpha"));
      all.push(alpha);
      const [, id] = await alpha.wait(/registered pool=echo element=(0x[0-9a-f]+)/);
      // Not issued by the CA: the handshake fails, nothing registers.
      const mallory = Program.deno("element", "--registrar", at, ...tls("mallory"));
      all.push(mallory);
      await mallory.wait(/no registrar reachable/);
      // A valid certificate without the right name: refused by the rules.
      const other = Program.deno(
        "element",
        "--registrar",
        at,
        "--pool",
        "daytime",
        ...tls("pe-alpha"),
      );
      all.push(other);
      await other.wait(/registration refused causes=\[10\]/);
      const pu = new Program("node", [
        bundle,
        "user",
        "--registrar",
        at,
        ...tls("pe-alpha"),
        "--resolve",
      ]);
      all.push(pu);
      assert.equal(await pu.exited, 0, pu.err);
      assert.deepEqual(pu.out.trim().split("\n").map((l) => JSON.parse(l).identifier), [id]);
      const talk = new Program("node", [bundle, "user", "--registrar", at, ...tls("pe-alpha")]);
      all.push(talk);
      talk.child.stdin!.end("across runtimes\n");
      assert.equal(await talk.exited, 0, talk.err);
      assert.equal(talk.out, "across runtimes\n");
      assert.match(pr.err, /element registered pool=echo/);
      assert.doesNotMatch(pr.err, /element registered pool=daytime/);
    } finally {
      await cleanup(all);
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

function commandAvailable(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A port free a moment ago (for programs that need one given). */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `count` GETs by one curl process (HTTP/1.0 servers: a connection each); the status codes. */
function curlMany(url: string, count: number): string[] {
  const out = execFileSync(
    "curl",
    [
      "-s",
      "--max-time",
      "5",
      "-w",
      "%{http_code}\\n",
      ...Array.from({ length: count }, () => ["-o", "/dev/null", url]).flat(),
    ],
    { maxBuffer: 1 << 20 },
  ).toString();
  return out.trim().split("\n");
}

/** Installs Debian packages for commands that are missing, where it can (root with apt-get). */
function ensureCommands(packages: Record<string, string>): void {
  const missing = Object.keys(packages).filter((c) => !commandAvailable(c, ["--version"]));
  if (
    missing.length === 0 || process.getuid?.() !== 0 || !commandAvailable("apt-get", ["--version"])
  ) {
    return;
  }
  try {
    execFileSync("apt-get", ["install", "-y", "-q", ...missing.map((c) => packages[c])], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    // The test that needs them is skipped below, saying why.
  }
}

ensureCommands({ python3: "python3", curl: "curl" });
const PYTHON_AND_CURL = commandAvailable("python3", ["--version"]) &&
  commandAvailable("curl", ["--version"]);

Deno.test({
  name:
    "processes: Python http.server backends behind element --backend and proxy; curl; a backend killed with kill -9 leaves the pool and no request fails",
  ignore: !PYTHON_AND_CURL, // skipped: needs python3 and curl (Debian: python3, curl)
  async fn() {
    const all: Program[] = [];
    const dirs: string[] = [];
    try {
      const pr = Program.deno("registrar", "--asap", "127.0.0.1:0", "--enrp", "127.0.0.1:0");
      all.push(pr);
      const [, asap] = await pr.wait(/asap=127\.0\.0\.1:(\d+)/);
      const registrar = `127.0.0.1:${asap}`;
      const backends: Program[] = [];
      const elements: Program[] = [];
      for (const name of ["A", "B"]) {
        const dir = mkdtempSync(join(tmpdir(), "rserpool-http-"));
        dirs.push(dir);
        writeFileSync(join(dir, "index.html"), name);
        const port = await freePort();
        const server = new Program("python3", [
          "-m",
          "http.server",
          String(port),
          "--bind",
          "127.0.0.1",
          "--directory",
          dir,
        ]);
        all.push(server);
        backends.push(server);
        await server.wait(/Serving HTTP/, "out").catch(() => server.wait(/Serving HTTP/));
        const pe = Program.deno(
          "element",
          "--pool",
          "web",
          "--backend",
          `127.0.0.1:${port}`,
          "--health",
          `http://127.0.0.1:${port}/`,
          "--health-interval",
          "200",
          "--health-threshold",
          "2",
          "--registrar",
          registrar,
        );
        all.push(pe);
        elements.push(pe);
        await pe.wait(/registered pool=web/);
      }
      const proxy = Program.deno(
        "proxy",
        "--pool",
        "web",
        "--listen",
        "127.0.0.1:0",
        "--registrar",
        registrar,
        "--stale-cache",
        "1000",
      );
      all.push(proxy);
      const [, proxyPort] = await proxy.wait(/proxying pool=web at=127\.0\.0\.1:(\d+)/);
      const url = `http://127.0.0.1:${proxyPort}/`;

      const before = curlMany(url, 300);
      backends[0].kill("SIGKILL");
      const killed = Date.now();
      const after = curlMany(url, 700);
      const codes = [...before, ...after];
      assert.equal(codes.length, 1000);
      const failed = codes.filter((c) => c !== "200");
      assert.equal(failed.length, 0, `${failed.length} of 1000 failed: ${failed.slice(0, 5)}`);
      // Out of the pool within the health bound (two probes 200 ms apart, each with a
      // timeout of 200 ms) and a registration round trip.
      await elements[0].wait(/backend unhealthy: deregistering/, "err", 5000);
      await pr.wait(/reason=deregistered/, "err", 5000);
      assert.ok(Date.now() - killed < 10_000);
      proxy.kill("SIGTERM");
      assert.equal(await proxy.exited, 0, proxy.err);
      assert.match(proxy.err, /stopping signal=SIGTERM .*forwarded=1000/);
      for (const pe of elements) pe.kill("SIGTERM");
      for (const pe of elements) assert.equal(await pe.exited, 0, pe.err);
    } finally {
      await cleanup(all);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  },
});
