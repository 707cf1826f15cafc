/**
 * Health checks of a server a proxy pool element stands for: a TCP connect,
 * an HTTP GET expecting a 2xx status, or a command's exit status. The
 * decision (how many failures in a row make a server unhealthy, how many
 * successes make it healthy again) is {@link HealthState}, which does no
 * I/O; {@link watchHealth} runs the probes on a timer.
 *
 * ```ts ignore
 * import { parseHealthCheck, watchHealth } from "@rserpool/rserpool/runtime";
 *
 * const check = parseHealthCheck("http://127.0.0.1:8000/healthz", { address: "127.0.0.1", port: 8000 });
 * const watch = watchHealth(check, {
 *   interval: 1000,
 *   threshold: 3,
 *   onChange: (healthy) => console.log(healthy ? "up" : "down"),
 * });
 * // later: watch.stop();
 * ```
 *
 * @module
 */

import { spawn } from "node:child_process";
import net from "node:net";
import { RSerPoolError } from "../errors.ts";
import type { Endpoint } from "./endpoint.ts";

/** How to tell whether a server is healthy. */
export type HealthCheck =
  | { readonly kind: "tcp"; readonly address: string; readonly port: number }
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "exec"; readonly command: string };

/**
 * Parses a health check as the CLI writes it: `tcp` (connect to the
 * backend), an `http://` or `https://` URL (GET, 2xx is healthy), or
 * `exec:COMMAND` (run by `/bin/sh -c`, exit status 0 is healthy).
 */
export function parseHealthCheck(text: string, backend: Endpoint): HealthCheck {
  if (text === "tcp") return { kind: "tcp", address: backend.address, port: backend.port };
  if (text.startsWith("http://") || text.startsWith("https://")) {
    try {
      new URL(text);
    } catch {
      throw new RSerPoolError("bad-option", `health check: "${text}" is not a URL`);
    }
    return { kind: "http", url: text };
  }
  if (text.startsWith("exec:") && text.length > "exec:".length) {
    return { kind: "exec", command: text.slice("exec:".length) };
  }
  throw new RSerPoolError(
    "bad-option",
    `health check: expected tcp, an http:// URL or exec:COMMAND, got "${text}"`,
  );
}

/** A check as text, for logs. */
export function formatHealthCheck(check: HealthCheck): string {
  switch (check.kind) {
    case "tcp":
      return `tcp ${check.address}:${check.port}`;
    case "http":
      return `GET ${check.url}`;
    case "exec":
      return `exec ${check.command}`;
  }
}

/**
 * Runs one probe: resolves with `undefined` when healthy, or with the
 * reason it is not (refused, timed out, a status, an exit code). Never
 * rejects.
 */
export function probeHealth(check: HealthCheck, timeout: number): Promise<string | undefined> {
  switch (check.kind) {
    case "tcp":
      return probeTcp(check.address, check.port, timeout);
    case "http":
      return probeHttp(check.url, timeout);
    case "exec":
      return probeExec(check.command, timeout);
  }
}

function probeTcp(address: string, port: number, timeout: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`no connection within ${timeout} ms`);
    }, timeout);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (e: Error & { code?: string }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(e.code ?? e.message);
    });
  });
}

async function probeHttp(url: string, timeout: number): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
    await response.body?.cancel();
    return response.status >= 200 && response.status < 300
      ? undefined
      : `HTTP status ${response.status}`;
  } catch (e) {
    const error = e as Error;
    return error.name === "TimeoutError" ? `no answer within ${timeout} ms` : error.message;
  }
}

function probeExec(command: string, timeout: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (reason: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(reason);
    };
    const child = spawn("/bin/sh", ["-c", command], { stdio: "ignore" });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(`still running after ${timeout} ms`);
    }, timeout);
    child.once("error", (e) => finish(e.message));
    child.once(
      "exit",
      (code, signal) =>
        finish(
          code === 0 ? undefined : signal !== null ? `killed by ${signal}` : `exit status ${code}`,
        ),
    );
  });
}

/**
 * Whether a server counts as healthy, from its probes' results: it starts
 * healthy (or as told), turns unhealthy after `threshold` failures in a row
 * and healthy again after `threshold` successes in a row. No I/O.
 */
export class HealthState {
  /** Whether the server counts as healthy now. */
  healthy: boolean;
  private readonly threshold: number;
  private streak = 0;

  /**
   * Creates the state of one server.
   *
   * @param threshold results in a row that change the verdict (at least 1)
   * @param healthy the verdict before any probe
   */
  constructor(threshold: number, healthy = true) {
    if (!(Number.isInteger(threshold) && threshold >= 1)) {
      throw new RSerPoolError("bad-option", `health threshold must be an integer >= 1`);
    }
    this.threshold = threshold;
    this.healthy = healthy;
  }

  /** Records a probe's result; returns the new verdict when it changed. */
  record(ok: boolean): boolean | undefined {
    if (ok === this.healthy) {
      this.streak = 0;
      return undefined;
    }
    this.streak++;
    if (this.streak < this.threshold) return undefined;
    this.streak = 0;
    this.healthy = ok;
    return ok;
  }
}

/** Options of {@link watchHealth}. */
export interface WatchHealthOptions {
  /** Between the end of one probe and the start of the next, ms. */
  readonly interval: number;
  /** Failures (successes) in a row that make the server unhealthy (healthy again). */
  readonly threshold: number;
  /** How long one probe may take, ms (default: the interval, at most 5 s). */
  readonly timeout?: number;
  /** The verdict before the first probe (default healthy). */
  readonly initiallyHealthy?: boolean;
  /** The verdict changed. */
  readonly onChange: (healthy: boolean, reason: string | undefined) => void;
  /** Every probe's result (`undefined`: healthy). */
  readonly onProbe?: (reason: string | undefined) => void;
}

/** A running health watch. */
export interface HealthWatch {
  /** The current verdict. */
  readonly healthy: boolean;
  /** Stops probing. */
  stop(): void;
}

/** Probes a server every `interval` ms and reports when its verdict changes. */
export function watchHealth(check: HealthCheck, options: WatchHealthOptions): HealthWatch {
  const state = new HealthState(options.threshold, options.initiallyHealthy ?? true);
  const timeout = options.timeout ?? Math.min(options.interval, 5000);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const round = async () => {
    const reason = await probeHealth(check, timeout);
    if (stopped) return;
    options.onProbe?.(reason);
    const changed = state.record(reason === undefined);
    if (changed !== undefined) options.onChange(changed, reason);
    timer = setTimeout(round, options.interval);
  };
  timer = setTimeout(round, 0);
  return {
    get healthy() {
      return state.healthy;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
