/**
 * The RSPLIB VM as the interop run drives it: boots it with
 * `rsplib-vm.sh run` (user-mode networking, one UDP port forward for SCTP
 * over UDP), and runs shell commands in it through the 9p-shared
 * directory's command queue (agent.sh).
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** What a command in the VM did. */
export interface VmResult {
  /** Exit status (124 when `timeout` ended it). */
  readonly rc: number;
  /** Standard output and error. */
  readonly out: string;
}

/** Where the host reaches the VM's SCTP over UDP port (9899 inside). */
export const VM_FORWARDED_UDP = 19899;
/** The VM's address on its user-mode NIC. */
export const VM_ADDRESS = "10.0.2.15";
/** The host as the VM sees it. */
export const HOST_AS_SEEN_BY_VM = "10.0.2.2";

const HERE = new URL(".", import.meta.url).pathname;

/** A running RSPLIB VM. */
export class RsplibVm {
  private process: ChildProcess | undefined;
  private seq = 0;
  private console = "";

  /** @param share the directory shared with the VM (emptied first) */
  constructor(readonly share: string) {}

  /** Builds the image if needed (about 2 minutes the first time). */
  static async build(log: (line: string) => void): Promise<void> {
    await run(["bash", join(HERE, "rsplib-vm.sh"), "build"], log);
  }

  /** Boots and waits until the agent is ready (about 20 s under TCG). */
  async start(timeoutMs = 300_000): Promise<void> {
    rmSync(this.share, { recursive: true, force: true });
    mkdirSync(join(this.share, "cmd"), { recursive: true });
    writeFileSync(join(this.share, "agent.sh"), readFileSync(join(HERE, "agent.sh")));
    this.process = spawn("bash", [join(HERE, "rsplib-vm.sh"), "run", this.share, "agent.sh"], {
      env: {
        ...process.env,
        VM_NET: "user",
        VM_HOSTFWD: `udp:127.0.0.1:${VM_FORWARDED_UDP}-:9899`,
        VM_TIMEOUT: "1800",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (d: Uint8Array) => this.console = (this.console + d).slice(-20_000);
    this.process.stdout!.on("data", keep);
    this.process.stderr!.on("data", keep);
    const end = Date.now() + timeoutMs;
    while (!existsSync(join(this.share, "ready"))) {
      if (this.process.exitCode !== null || Date.now() > end) {
        throw new Error(`the VM did not come up:\n${this.console.slice(-3000)}`);
      }
      await sleep(250);
    }
  }

  /** Runs a shell script in the VM and waits for it. */
  async sh(script: string, timeoutMs = 60_000): Promise<VmResult> {
    const name = String(++this.seq).padStart(4, "0");
    const base = join(this.share, "cmd", name);
    writeFileSync(base + ".tmp", script + "\n");
    renameSync(base + ".tmp", base + ".sh");
    const end = Date.now() + timeoutMs;
    while (!existsSync(base + ".rc")) {
      if (Date.now() > end) return { rc: -1, out: `no answer from the VM in ${timeoutMs} ms` };
      if (this.process?.exitCode !== null) return { rc: -1, out: "the VM is gone" };
      await sleep(100);
    }
    return {
      rc: Number(readFileSync(base + ".rc", "utf8").trim()),
      out: existsSync(base + ".out") ? readFileSync(base + ".out", "utf8") : "",
    };
  }

  /** Stops the agent, waits for the VM to power off (the VM's capture lands in the share). */
  async stop(): Promise<void> {
    if (this.process === undefined) return;
    writeFileSync(join(this.share, "cmd", "stop"), "");
    const p = this.process;
    const gone = new Promise<void>((r) => p.exitCode !== null ? r() : p.on("exit", () => r()));
    await Promise.race([gone, sleep(30_000)]);
    if (p.exitCode === null) p.kill("SIGKILL");
    this.process = undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function run(argv: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    const line = (d: Uint8Array) => String(d).split("\n").filter((l) => l !== "").forEach(log);
    p.stdout!.on("data", line);
    p.stderr!.on("data", line);
    p.on(
      "exit",
      (code) => code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} exited with ${code}`)),
    );
  });
}
