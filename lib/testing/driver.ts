/**
 * A minimal hand driver for testing one sans-IO role: feed it events, look
 * at the actions it returned.
 *
 * @module
 */

import type { RSerPoolMessage } from "../protocol/types.ts";
import type { Action, ConnectionId } from "../role/actions.ts";

/** What every role offers. */
export interface DrivenRole<E> {
  /** Time passed. */
  advanceTime(now: number): void;
  /** The actions to carry out; the queue is emptied. */
  drainActions(): Action<E>[];
  /** When advanceTime should next be called. */
  nextDeadline(): number | undefined;
}

/** Collects a role's actions and helps tests find them. */
export class Driver<E> {
  /** Actions since the last {@link Driver.take}. */
  actions: Action<E>[] = [];
  /** Current time. */
  now = 0;

  /**
   * Creates a driver for a role.
   *
   * @param role the role under test
   */
  constructor(readonly role: DrivenRole<E>) {}

  /** Runs `fn` on the role and collects what it asked for. */
  do(fn: () => void): Action<E>[] {
    fn();
    const out = this.role.drainActions();
    this.actions.push(...out);
    return out;
  }

  /** Advances time to `now`, firing every timer due on the way, in order. */
  advance(now: number): Action<E>[] {
    const out: Action<E>[] = [];
    for (;;) {
      const next = this.role.nextDeadline();
      if (next === undefined || next > now) break;
      this.now = Math.max(this.now, next);
      out.push(...this.do(() => this.role.advanceTime(this.now)));
    }
    this.now = now;
    out.push(...this.do(() => this.role.advanceTime(now)));
    return out;
  }

  /** Takes (and clears) the collected actions. */
  take(): Action<E>[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** The messages sent on `connection` (or on any) among `actions`. */
  static sent(actions: readonly Action<unknown>[], connection?: ConnectionId): RSerPoolMessage[] {
    return actions.flatMap((a) =>
      a.type === "send" && (connection === undefined || a.connection === connection)
        ? [a.message]
        : []
    );
  }

  /** The events among `actions`. */
  static events<E>(actions: readonly Action<E>[]): E[] {
    return actions.flatMap((a) => a.type === "event" ? [a.event] : []);
  }
}
