/**
 * The connection of a pool element or pool user to its home registrar,
 * found by an ENRP server hunt (RFC 5352 §3.6): try the candidates one
 * after another, each for at most a connect timeout, until one accepts.
 *
 * @module
 */

import type { Identifier, TransportParameter } from "../protocol/types.ts";
import type { ConnectionId } from "./actions.ts";
import type { RegistrarCandidates } from "./hunt.ts";

/** The home-registrar connection and the hunt for it. */
export class HomeRegistrar {
  /** The established connection to the home registrar. */
  connection: ConnectionId | undefined = undefined;
  /** The connection being tried. */
  pending: ConnectionId | undefined = undefined;
  /** When the pending attempt is given up. */
  pendingDeadline = 0;
  /** The home registrar's identifier, once it said it (keep-alive, announce). */
  registrarId: Identifier | undefined = undefined;
  /** Attempts that failed since the home last answered. */
  private failures = 0;
  /** Whether the home connection carried an answer (see {@link HomeRegistrar.confirm}). */
  private confirmed = false;

  /**
   * Creates the link.
   *
   * @param candidates where to hunt
   * @param connectTimeout how long one attempt may take (ms)
   * @param connect opens a connection to a candidate (returns its id)
   * @param close closes a connection
   */
  constructor(
    readonly candidates: RegistrarCandidates,
    private readonly connectTimeout: number,
    private readonly connect: (remote: TransportParameter) => ConnectionId,
    private readonly close: (connection: ConnectionId) => void,
  ) {}

  /** True when a home registrar is connected. */
  get up(): boolean {
    return this.connection !== undefined;
  }

  /**
   * Starts (or continues) the hunt if no home is connected or being tried.
   * Returns false when there is no candidate to try, and once after every
   * round in which all candidates failed: the caller waits before the next
   * round instead of hammering registrars that refuse.
   */
  hunt(now: number): boolean {
    if (this.connection !== undefined || this.pending !== undefined) return true;
    if (this.failures > 0 && this.failures >= this.candidates.list(now).length) {
      this.failures = 0;
      return false;
    }
    const candidate = this.candidates.next(now);
    if (candidate === undefined) return false;
    this.pending = this.connect(candidate.transport);
    this.pendingDeadline = now + this.connectTimeout;
    this.registrarId = candidate.registrarId;
    return true;
  }

  /** A connection came up; true when it is the one being tried (it is now home). */
  connectionUp(connection: ConnectionId): boolean {
    if (connection !== this.pending) return false;
    this.pending = undefined;
    this.connection = connection;
    this.confirmed = false;
    return true;
  }

  /** A connection went down; true when it was home or the one being tried. */
  connectionDown(connection: ConnectionId): boolean {
    if (connection === this.pending) {
      this.pending = undefined;
      this.failures++;
      return true;
    }
    if (connection === this.connection) {
      // Lost before it ever answered (e.g. a TLS peer refusing our certificate): a failure.
      if (!this.confirmed) this.failures++;
      this.connection = undefined;
      this.registrarId = undefined;
      return true;
    }
    return false;
  }

  /** The home answered (a response or keep-alive arrived): the hunt succeeded. */
  confirm(): void {
    this.confirmed = true;
    this.failures = 0;
  }

  /** The pending attempt took too long: abandon it. True when one was abandoned. */
  checkTimeout(now: number): boolean {
    if (this.pending === undefined || now < this.pendingDeadline) return false;
    this.close(this.pending);
    this.pending = undefined;
    this.failures++;
    return true;
  }

  /** Gives up the current home (e.g. it stopped answering) and closes its connection. */
  abandon(): void {
    if (this.connection !== undefined) this.close(this.connection);
    this.connection = undefined;
    this.registrarId = undefined;
  }

  /** Makes another, already established connection the home (Home flag, RFC 5352 §3.4). */
  adopt(connection: ConnectionId, registrarId: Identifier): void {
    if (this.connection !== undefined && this.connection !== connection) {
      this.close(this.connection);
    }
    if (this.pending !== undefined) {
      this.close(this.pending);
      this.pending = undefined;
    }
    this.connection = connection;
    this.registrarId = registrarId;
    this.confirm();
  }
}
