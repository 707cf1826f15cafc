/**
 * Forwarding one TCP connection to another, as the proxies for unmodified
 * applications do: bytes both ways with backpressure (a side that cannot
 * take more pauses the other), half-close (an end of input in one direction
 * is passed on while the other direction goes on), an idle timeout, and
 * byte counts. Also the PROXY protocol version 2 header (HAProxy's
 * specification), which tells a backend the client's address.
 *
 * @module
 */

import net from "node:net";
import { parseAddress } from "../wire/address.ts";

/** Byte counts of a forwarded connection. */
export interface ForwardCounts {
  /** Bytes from the first socket to the second. */
  readonly forward: number;
  /** Bytes from the second socket to the first. */
  readonly backward: number;
}

/** Options of {@link forwardSockets}. */
export interface ForwardOptions {
  /** Close both when neither side sent anything for this long, ms (0: never). */
  readonly idleTimeout?: number;
  /** Both sockets are closed; `error` says what ended it abnormally. */
  readonly closed?: (counts: ForwardCounts, error?: Error) => void;
}

/**
 * Forwards `a` to `b` and back until both directions ended or either side
 * failed. The sockets must allow half-open connections (`allowHalfOpen`).
 */
export function forwardSockets(a: net.Socket, b: net.Socket, options: ForwardOptions = {}): void {
  let forward = 0;
  let backward = 0;
  let ended = 0;
  let finished = false;
  const finish = (error?: Error) => {
    if (finished) return;
    finished = true;
    a.destroy();
    b.destroy();
    options.closed?.({ forward, backward }, error);
  };
  const direction = (from: net.Socket, to: net.Socket, count: (n: number) => void) => {
    from.on("data", (chunk: Uint8Array) => {
      count(chunk.length);
      if (!to.write(chunk)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
    });
    from.on("end", () => {
      to.end();
      if (++ended === 2) finish();
    });
  };
  direction(a, b, (n) => forward += n);
  direction(b, a, (n) => backward += n);
  for (const s of [a, b]) {
    s.on("error", (e) => finish(e));
    s.on("close", () => finish());
    if (options.idleTimeout !== undefined && options.idleTimeout > 0) {
      s.setTimeout(options.idleTimeout, () => {
        // Idle only when the other side is idle too: its own timer says so.
        finish(new Error(`idle for ${options.idleTimeout} ms`));
      });
    }
  }
  // Small requests and answers go out at once (as HAProxy and nginx set TCP_NODELAY).
  a.setNoDelay(true);
  b.setNoDelay(true);
  a.resume();
  b.resume();
}

/**
 * Forwards a client's connection to the server it was given (see
 * {@link forwardSockets}), first telling the server the client's address
 * in a PROXY protocol v2 header when `proxyProtocol` is set.
 */
export function forwardClient(
  client: net.Socket,
  server: net.Socket,
  options: ForwardOptions & { readonly proxyProtocol?: boolean },
): void {
  if (options.proxyProtocol) {
    server.write(proxyV2Header(
      { address: client.remoteAddress ?? "", port: client.remotePort ?? 0 },
      { address: client.localAddress ?? "", port: client.localPort ?? 0 },
    ));
  }
  forwardSockets(client, server, options);
}

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/**
 * The PROXY protocol version 2 header of a TCP connection (HAProxy's
 * "PROXY protocol" specification, §2.2): the command PROXY with the
 * client's (`source`) and the proxy's (`destination`) addresses and ports.
 * Addresses of different families, or not IP addresses, give the LOCAL
 * command without addresses.
 */
export function proxyV2Header(
  source: { address: string; port: number },
  destination: { address: string; port: number },
): Uint8Array {
  const family = net.isIP(source.address);
  if (family === 0 || family !== net.isIP(destination.address)) {
    return Uint8Array.from([...SIGNATURE, 0x20, 0x00, 0x00, 0x00]);
  }
  const v4 = family === 4;
  const size = v4 ? 12 : 36;
  const out = new Uint8Array(16 + size);
  out.set(SIGNATURE, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = v4 ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  out[14] = size >> 8;
  out[15] = size & 0xff;
  const addressBytes = v4 ? 4 : 16;
  out.set(ipBytes(source.address), 16);
  out.set(ipBytes(destination.address), 16 + addressBytes);
  const ports = 16 + 2 * addressBytes;
  out[ports] = source.port >> 8;
  out[ports + 1] = source.port & 0xff;
  out[ports + 2] = destination.port >> 8;
  out[ports + 3] = destination.port & 0xff;
  return out;
}

function ipBytes(address: string): Uint8Array {
  return parseAddress(address)!.bytes;
}
