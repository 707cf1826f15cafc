/**
 * Built-in services for pool elements: echo and daytime.
 *
 * The echo service returns every message unchanged. With a control channel
 * it also keeps a little state per session, the number of messages echoed,
 * and hands it to the pool user as an ASAP Cookie after each one; a session
 * that fails over brings the cookie along (Cookie Echo), and the new
 * element carries on counting. That makes RFC 5352 §3.8's state sharing
 * visible in the element's log.
 *
 * @module
 */

import type { ElementSession, ElementSessionHandlers } from "./element.ts";
import type { Logger } from "./log.ts";
import { silentLogger } from "./log.ts";

/** Encodes an echo session's state as a cookie. */
export function echoCookie(echoed: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ service: "echo", echoed }));
}

/** Reads an echo session's state from a cookie; undefined when it is not one. */
export function readEchoCookie(cookie: Uint8Array): number | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(cookie));
    return value?.service === "echo" && Number.isSafeInteger(value.echoed) && value.echoed >= 0
      ? value.echoed
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The echo service: `serve` for {@link registerPoolElement}.
 *
 * @param options `cookies`: send a state cookie after each echo (needs the control channel)
 */
export function echoService(
  options: { cookies?: boolean; log?: Logger } = {},
): (session: ElementSession) => ElementSessionHandlers {
  const log = options.log ?? silentLogger;
  const cookies = options.cookies ?? true;
  return (session) => {
    let echoed = 0;
    return {
      data(data, ppid) {
        session.send(data, ppid);
        echoed++;
        if (cookies) session.sendCookie(echoCookie(echoed));
      },
      cookieEcho(cookie) {
        const previous = readEchoCookie(cookie);
        if (previous === undefined) {
          log.warn("ignored a cookie that is not an echo cookie", { session: session.id });
          return;
        }
        echoed = previous;
        log.info("took over an echo session", { session: session.id, echoedBefore: previous });
      },
    };
  };
}

/** RFC 867's daytime: the time as text, then the session is closed. */
export function daytimeService(
  clock: () => number = Date.now,
): (session: ElementSession) => ElementSessionHandlers {
  return (session) => {
    session.send(new Date(clock()).toUTCString() + "\r\n");
    session.close();
    return {};
  };
}
