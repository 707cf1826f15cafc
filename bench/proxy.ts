/**
 * `deno task bench:proxy [--seconds N] [--rounds N] [--connections N] [--json FILE]`
 *
 * Requests per second and latency through `rserpool proxy` against direct
 * connections to the backends and against HAProxy (TCP mode, the same two
 * backends, round robin), in one run on one machine. The backends are two
 * nginx servers answering a small static file; the load is wrk, with
 * HTTP/1.1 keep-alive (`keep-alive`: few long connections, the forwarding
 * path) and with a new connection per request (`close`: the connection
 * path: accept, choose an element, connect). The registrar, the two proxy
 * pool elements (`element --backend`, external mode: the pool lists nginx
 * itself) and the proxy run as separate `rserpool` processes.
 *
 * Debian packages nginx, haproxy and wrk are installed with apt-get when
 * missing and running as root; without them it says so and exits 3.
 * Ratios: rserpool / HAProxy (requests/s, above 1 is better) and median
 * latency rserpool / HAProxy (below 1 is better); the goal is at least 0.6
 * and at most 1.5.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HELP = `Usage: deno task bench:proxy [options]

Requests/s and latency through rserpool proxy, direct and through HAProxy
(TCP mode), with nginx backends and wrk, in one run.

Options:
  --seconds N       seconds per measurement (default 5)
  --rounds N        measurements per target and mode, the median is kept (default 3)
  --connections N   wrk connections (default 50)
  --json FILE       also write the results to FILE
  -h, --help        this help

Exit status: 0; 2 usage error; 3 nginx, haproxy or wrk unavailable here.`;

const BIN = fileURLToPath(new URL("../lib/cli/bin.ts", import.meta.url));
const PACKAGES: Record<string, string> = { nginx: "nginx", haproxy: "haproxy", wrk: "wrk" };

class Unavailable extends Error {}

function progress(text: string): void {
  process.stderr.write(text);
}

async function has(command: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", `command -v ${command}`] }).output();
    return out.code === 0;
  } catch {
    return false;
  }
}

async function ensureTools(): Promise<void> {
  const missing = [];
  for (const tool of Object.keys(PACKAGES)) if (!(await has(tool))) missing.push(tool);
  if (missing.length === 0) return;
  if (Deno.uid() !== 0 || !(await has("apt-get"))) {
    throw new Unavailable(
      `missing ${missing.join(", ")} (install with: sudo apt-get install ${
        missing.map((m) => PACKAGES[m]).join(" ")
      })`,
    );
  }
  progress(`$ apt-get install -y ${missing.map((m) => PACKAGES[m]).join(" ")}\n`);
  const out = await new Deno.Command("apt-get", {
    args: ["install", "-y", ...missing.map((m) => PACKAGES[m])],
    stdout: "null",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  if (out.code !== 0) throw new Unavailable(`apt-get could not install ${missing.join(", ")}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A background process whose stderr is kept. */
class Background {
  readonly child: ChildProcess;
  err = "";
  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr!.on("data", (d) => this.err += d);
  }
  async wait(pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.err.match(pattern);
      if (m !== null) return m;
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms:\n${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

function rserpool(...args: string[]): Background {
  return new Background(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "--allow-sys",
    BIN,
    ...args,
  ]);
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

interface Measurement {
  readonly requestsPerSecond: number;
  readonly medianLatencyMs: number;
  readonly errors: number;
}

/** Runs wrk once; parses requests/s, the median latency and socket errors. */
async function wrk(
  port: number,
  seconds: number,
  connections: number,
  close: boolean,
): Promise<Measurement> {
  const args = [
    "-t",
    "2",
    "-c",
    String(connections),
    "-d",
    `${seconds}s`,
    "--latency",
    ...(close ? ["-H", "Connection: close"] : []),
    `http://127.0.0.1:${port}/`,
  ];
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const median = /50%\s+([\d.]+)(us|ms|s)/.exec(text);
  if (out.code !== 0 || rps === null || median === null) {
    throw new Error(`wrk failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`);
  }
  const scale = median[2] === "us" ? 1e-3 : median[2] === "s" ? 1e3 : 1;
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    medianLatencyMs: Number(median[1]) * scale,
    errors: (errors === null ? 0 : errors.slice(1).reduce((n, x) => n + Number(x), 0)) +
      (non2xx === null ? 0 : Number(non2xx[1])),
  };
}

async function haproxyVersion(): Promise<string | undefined> {
  const out = await new Deno.Command("haproxy", { args: ["-v"], stdout: "piped" }).output();
  return /version (\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        seconds: { type: "string" },
        rounds: { type: "string" },
        connections: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    console.error(`bench:proxy: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const int = (v: string | undefined, fallback: number, name: string) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      console.error(`bench:proxy: --${name}: expected a positive integer, got "${v}"`);
      Deno.exit(2);
    }
    return Number(v);
  };
  const seconds = int(values.seconds, 5, "seconds");
  const rounds = int(values.rounds, 3, "rounds");
  const connections = int(values.connections, 50, "connections");
  try {
    await ensureTools();
  } catch (e) {
    if (e instanceof Unavailable) {
      console.error(`bench:proxy: cannot run here: ${e.message}`);
      return 3;
    }
    throw e;
  }

  const dir = mkdtempSync(join(tmpdir(), "rserpool-bench-proxy-"));
  const running: Background[] = [];
  try {
    // Two nginx backends: a 612-byte page each, like nginx's default index.
    const backends = [await freePort(), await freePort()];
    writeFileSync(join(dir, "index.html"), "x".repeat(612));
    const nginxConf = join(dir, "nginx.conf");
    writeFileSync(
      nginxConf,
      `daemon off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "nginx-error.log")};
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir};
  proxy_temp_path ${dir};
  fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir};
  scgi_temp_path ${dir};
  keepalive_requests 1000000;
${backends.map((p) => `  server { listen 127.0.0.1:${p}; root ${dir}; }`).join("\n")}
}
`,
    );
    const nginx = new Background("nginx", ["-c", nginxConf, "-p", dir]);
    running.push(nginx);
    for (const p of backends) {
      await waitForPort(p).catch((e) => {
        throw new Error(`${e.message}: nginx says ${nginx.err}`);
      });
    }

    const haproxyPort = await freePort();
    const haproxyConf = join(dir, "haproxy.cfg");
    writeFileSync(
      haproxyConf,
      `global
  maxconn 4096
defaults
  mode tcp
  timeout connect 3s
  timeout client 60s
  timeout server 60s
frontend bench
  bind 127.0.0.1:${haproxyPort}
  default_backend nginx
backend nginx
  balance roundrobin
${backends.map((p, i) => `  server n${i} 127.0.0.1:${p}`).join("\n")}
`,
    );
    const haproxy = new Background("haproxy", ["-f", haproxyConf, "-db"]);
    running.push(haproxy);
    await waitForPort(haproxyPort).catch((e) => {
      throw new Error(`${e.message}: haproxy says ${haproxy.err}`);
    });

    const registrar = rserpool("registrar", "--asap", "127.0.0.1:0", "--enrp", "127.0.0.1:0");
    running.push(registrar);
    const [, asap] = await registrar.wait(/asap=127\.0\.0\.1:(\d+)/);
    for (const p of backends) {
      const pe = rserpool(
        "element",
        "--pool",
        "bench",
        "--backend",
        `127.0.0.1:${p}`,
        "--registrar",
        `127.0.0.1:${asap}`,
      );
      running.push(pe);
      await pe.wait(/registered pool=bench/);
    }
    const proxy = rserpool(
      "proxy",
      "--pool",
      "bench",
      "--listen",
      "127.0.0.1:0",
      "--registrar",
      `127.0.0.1:${asap}`,
    );
    running.push(proxy);
    const [, proxyPort] = await proxy.wait(/proxying pool=bench at=127\.0\.0\.1:(\d+)/);
    // Two proxies sharing one port (--reuse-port), as HAProxy runs a thread per CPU.
    const sharedPort = await freePort();
    for (let i = 0; i < 2; i++) {
      const p = rserpool(
        "proxy",
        "--pool",
        "bench",
        "--listen",
        `127.0.0.1:${sharedPort}`,
        "--reuse-port",
        "--registrar",
        `127.0.0.1:${asap}`,
      );
      running.push(p);
      await p.wait(/proxying pool=bench/);
    }

    // The floor of the runtime: a bare node:net pipe to one backend, in the same runtime
    // as rserpool proxy, with nothing else (no pool, no choice, no counters).
    const floorPort = await freePort();
    const floorScript = join(dir, "floor.mjs");
    writeFileSync(
      floorScript,
      `import net from "node:net";
net.createServer({ allowHalfOpen: true }, (c) => {
  const u = net.connect({ host: "127.0.0.1", port: ${backends[0]}, allowHalfOpen: true });
  c.setNoDelay(true); u.setNoDelay(true);
  c.pipe(u); u.pipe(c);
  c.on("error", () => u.destroy()); u.on("error", () => c.destroy());
}).listen(${floorPort}, "127.0.0.1");
`,
    );
    const floor = new Background(Deno.execPath(), ["run", "--allow-net", floorScript]);
    running.push(floor);
    await waitForPort(floorPort);

    const targets: [string, number][] = [
      ["direct (one nginx)", backends[0]],
      ["HAProxy (tcp mode)", haproxyPort],
      ["node:net pipe", floorPort],
      ["rserpool proxy", Number(proxyPort)],
      ["rserpool proxy x2", sharedPort],
    ];
    const results: Record<string, Record<string, Measurement>> = {};
    for (const mode of ["keep-alive", "close"] as const) {
      for (const [name, port] of targets) {
        // Warm-up (the JIT, connection pools), then the measured rounds.
        await wrk(port, 1, connections, mode === "close");
        const runs: Measurement[] = [];
        for (let r = 0; r < rounds; r++) {
          progress(`${mode} ${name}: round ${r + 1}/${rounds}\r`);
          runs.push(await wrk(port, seconds, connections, mode === "close"));
        }
        progress("\n");
        (results[mode] ??= {})[name] = {
          requestsPerSecond: median(runs.map((m) => m.requestsPerSecond)),
          medianLatencyMs: median(runs.map((m) => m.medianLatencyMs)),
          errors: runs.reduce((n, m) => n + m.errors, 0),
        };
      }
    }

    const cpu = cpus()[0]?.model ?? "unknown CPU";
    const haproxyThreads = /nbthread.*?(\d+)/.exec(haproxy.err)?.[1];
    console.log(
      `Machine: ${cpu} (${cpus().length} logical CPUs); wrk -t2 -c${connections}, ` +
        `${rounds} x ${seconds} s, median; nginx backends (612-byte page); HAProxy ` +
        `${(await haproxyVersion()) ?? ""} with its default threads${
          haproxyThreads === undefined ? "" : ` (${haproxyThreads})`
        }; node:net pipe: a bare pipe to one backend in the same runtime (Deno ${Deno.version.deno})\n`,
    );
    console.log(
      "| Mode       | Target             | requests/s | median latency | errors | vs HAProxy (req/s, latency) |",
    );
    console.log(
      "| ---------- | ------------------ | ---------: | -------------: | -----: | --------------------------: |",
    );
    for (const [mode, byTarget] of Object.entries(results)) {
      const h = byTarget["HAProxy (tcp mode)"];
      for (const [name, m] of Object.entries(byTarget)) {
        const vs = name.startsWith("rserpool proxy") || name === "node:net pipe"
          ? `${(m.requestsPerSecond / h.requestsPerSecond).toFixed(2)}x, ${
            (m.medianLatencyMs / h.medianLatencyMs).toFixed(2)
          }x`
          : "";
        console.log(
          `| ${mode.padEnd(10)} | ${name.padEnd(18)} | ${
            Math.round(m.requestsPerSecond).toString().padStart(10)
          } | ${(m.medianLatencyMs.toFixed(2) + " ms").padStart(14)} | ${
            String(m.errors).padStart(6)
          } | ${vs.padStart(27)} |`,
        );
      }
    }
    if (values.json !== undefined) {
      writeFileSync(
        values.json,
        JSON.stringify(
          { machine: cpu, cpus: cpus().length, connections, seconds, rounds, results },
          null,
          2,
        ) +
          "\n",
      );
    }
    return 0;
  } finally {
    for (const p of running.reverse()) p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
