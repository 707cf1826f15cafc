/**
 * MPTCP, the draft's other transport: a registrar and an element, each in
 * a network namespace this test creates, joined by two veth links. Both
 * run under `mptcpize` (Debian package mptcpd), which turns their TCP
 * sockets into MPTCP sockets. The element's ASAP connection gets a subflow
 * on each link; one link goes down, and the association carries on:
 * re-registrations and keep-alives continue on the same connection, and
 * nobody notices a failure.
 *
 * Needs Linux, root, iproute2, mptcpize and a kernel with MPTCP; skipped
 * with the reason otherwise.
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../cli/bin.ts", import.meta.url));

function has(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function skipReason(): string | undefined {
  if (process.platform !== "linux") return "MPTCP needs Linux";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  if (!has("ip")) return "iproute2 (ip) is not installed";
  if (!has("mptcpize")) return "mptcpize is not installed (Debian package mptcpd)";
  // Read through a program: Deno grants /proc/sys only with --allow-all.
  let enabled: string;
  try {
    enabled = execFileSync("cat", ["/proc/sys/net/mptcp/enabled"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "the kernel has no MPTCP";
  }
  if (enabled !== "1") return "MPTCP is disabled (net.mptcp.enabled)";
  return undefined;
}

const reason = skipReason();
if (reason !== undefined) console.log(`mptcp_test: skipped: ${reason}`);

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8" });
}

class Program {
  readonly child: ChildProcess;
  err = "";
  readonly exited: Promise<unknown>;
  constructor(namespace: string, args: string[]) {
    this.child = spawn(
      "ip",
      [
        "netns",
        "exec",
        namespace,
        "mptcpize",
        "run",
        Deno.execPath(),
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        BIN,
        ...args,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.child.stderr!.on("data", (d) => this.err += d);
    this.exited = new Promise((r) => this.child.on("exit", r));
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
  count(pattern: RegExp): number {
    return this.err.match(new RegExp(pattern, "g"))?.length ?? 0;
  }
}

Deno.test({
  name: `mptcp: an ASAP association survives losing one of two paths${
    reason === undefined ? "" : ` (skipped: ${reason})`
  }`,
  ignore: reason !== undefined,
  fn: async () => {
    const tag = `${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
    const pr = `rsp-pr-${tag}`;
    const pe = `rsp-pe-${tag}`;
    const programs: Program[] = [];
    ip("netns", "add", pr);
    ip("netns", "add", pe);
    try {
      // Two links: 10.91.1.0/24 (path 1) and 10.91.2.0/24 (path 2).
      ip("link", "add", "p1", "netns", pr, "type", "veth", "peer", "name", "e1", "netns", pe);
      ip("link", "add", "p2", "netns", pr, "type", "veth", "peer", "name", "e2", "netns", pe);
      ip("-n", pr, "addr", "add", "10.91.1.1/24", "dev", "p1");
      ip("-n", pr, "addr", "add", "10.91.2.1/24", "dev", "p2");
      ip("-n", pe, "addr", "add", "10.91.1.2/24", "dev", "e1");
      ip("-n", pe, "addr", "add", "10.91.2.2/24", "dev", "e2");
      for (const [ns, devs] of [[pr, ["lo", "p1", "p2"]], [pe, ["lo", "e1", "e2"]]] as const) {
        for (const dev of devs) ip("-n", ns, "link", "set", dev, "up");
        ip("-n", ns, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2");
      }
      // The element opens a second subflow from its path-2 address.
      ip("-n", pe, "mptcp", "endpoint", "add", "10.91.2.2", "dev", "e2", "subflow");

      const registrar = new Program(pr, [
        "registrar",
        "--asap",
        "10.91.1.1:3863",
        "--enrp",
        "10.91.1.1:9901",
        "--timer",
        "keepAliveInterval=300",
        "--timer",
        "keepAliveTimeout=3000",
        "--verbose",
      ]);
      programs.push(registrar);
      await registrar.wait(/registrar started/);
      const element = new Program(pe, [
        "element",
        "--registrar",
        "10.91.1.1:3863",
        "--listen",
        "10.91.1.2:0",
        "--reregister",
        "300",
      ]);
      programs.push(element);
      await element.wait(/registered pool=echo/);

      // Both subflows of the element's registrar connection are up.
      const subflows = async () => {
        for (let i = 0;; i++) {
          const ss = execFileSync("ip", ["netns", "exec", pe, "ss", "-tni", "dport", "= :3863"], {
            encoding: "utf8",
          });
          const n = ss.match(/tcp-ulp-mptcp/g)?.length ?? 0;
          if (n >= 2 || i > 100) return { n, ss };
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const before = await subflows();
      assert.equal(before.n, 2, `expected two MPTCP subflows:\n${before.ss}`);
      assert.match(before.ss, /10\.91\.1\.2:\d+\s+10\.91\.1\.1:3863/);
      assert.match(before.ss, /10\.91\.2\.2%e2:\d+\s+10\.91\.1\.1:3863/);

      // Path 1, the one the connection was opened on, goes away.
      const accepted = registrar.count(/DEBUG accepted connection=/);
      const reregistered = registrar.count(/element re-registered/);
      ip("-n", pe, "link", "set", "e1", "down");
      await new Promise((r) => setTimeout(r, 3000));
      const after = registrar.count(/element re-registered/) - reregistered;
      assert.ok(after >= 5, `only ${after} re-registrations after the path failed`);
      assert.equal(registrar.count(/DEBUG accepted connection=/), accepted, "no new connection");
      assert.doesNotMatch(registrar.err, /element removed/);
      assert.doesNotMatch(element.err, /registrar lost|no registrar/);
    } finally {
      for (const p of programs) p.child.kill("SIGKILL");
      await Promise.all(programs.map((p) => p.exited));
      for (const ns of [pr, pe]) {
        try {
          ip("netns", "del", ns);
        } catch { /* already gone */ }
      }
    }
  },
});
