/**
 * Structured logging for the runtime: a message plus fields, written as
 * readable lines or as JSON lines, or dropped.
 *
 * ```ts
 * import { textLogger } from "@rserpool/rserpool/runtime";
 *
 * const log = textLogger((line) => console.error(line));
 * log.info("registered", { pool: "echo", element: "0x1a2b3c4d" });
 * // 2026-11-24T10:00:00.000Z INFO  registered pool=echo element=0x1a2b3c4d
 * ```
 *
 * @module
 */

/** Severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields of a log record (numbers, strings, booleans, bigints, nested plain data). */
export type LogFields = Readonly<Record<string, unknown>>;

/** Where the runtime reports what it does. */
export interface Logger {
  /** Detail for debugging (every message). */
  debug(message: string, fields?: LogFields): void;
  /** What the program does (connections, registrations, failovers). */
  info(message: string, fields?: LogFields): void;
  /** Something went wrong at a peer, and was handled. */
  warn(message: string, fields?: LogFields): void;
  /** Something went wrong here. */
  error(message: string, fields?: LogFields): void;
}

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger that drops everything (the library default). */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

function formatValue(value: unknown): string {
  if (typeof value === "string") return /^[\w.:/@+-]*$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v) ?? "undefined";
}

function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message;
  return value;
}

function makeLogger(
  write: (level: LogLevel, message: string, fields: LogFields | undefined) => void,
  minimum: LogLevel,
): Logger {
  const at = (level: LogLevel) =>
    ORDER[level] < ORDER[minimum]
      ? () => {}
      : (message: string, fields?: LogFields) => write(level, message, fields);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/**
 * Readable lines: time, level, message, then `key=value` fields.
 *
 * @param write receives each line (without newline)
 * @param minimum lowest level written (default `info`)
 * @param clock wall-clock time source (default `Date.now`)
 */
export function textLogger(
  write: (line: string) => void,
  minimum: LogLevel = "info",
  clock: () => number = Date.now,
): Logger {
  return makeLogger((level, message, fields) => {
    let line = `${new Date(clock()).toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined) line += ` ${k}=${formatValue(v)}`;
      }
    }
    write(line);
  }, minimum);
}

/**
 * JSON lines: `{"time":…,"level":…,"msg":…, …fields}`; bigints as strings.
 *
 * @param write receives each line (without newline)
 * @param minimum lowest level written (default `info`)
 * @param clock wall-clock time source (default `Date.now`)
 */
export function jsonLogger(
  write: (line: string) => void,
  minimum: LogLevel = "info",
  clock: () => number = Date.now,
): Logger {
  return makeLogger((level, message, fields) => {
    const record: Record<string, unknown> = {
      time: new Date(clock()).toISOString(),
      level,
      msg: message,
    };
    if (fields !== undefined) {
      for (const [k, v] of Object.entries(fields)) {
        if (v !== undefined && !(k in record)) record[k] = jsonValue(v);
      }
    }
    write(JSON.stringify(record, (_k, v) => typeof v === "bigint" ? v.toString() : v));
  }, minimum);
}
