import { z } from "zod";

/**
 * The one set of input primitives every tRPC procedure and HTTP route builds its input from. Each refuses
 * hostile values at the door with a 400 instead of letting them reach the database (where a NUL byte, a lone
 * surrogate or a date of year −271821 would fail as a 500, or be stored silently altered):
 *
 * - {@link safe.text}: well-formed UTF-16 (no lone surrogates), no C0/C1 control characters (a multi-line
 *   field keeps `\n` and `\t`), no bidirectional overrides, trimmed, NFC-normalised, bounded length;
 * - {@link safe.pattern}: an anchored ASCII pattern (phone numbers, order numbers, hashes…);
 * - {@link safe.date} and {@link safe.day}: finite dates within {@link DATE_MIN}..{@link DATE_MAX};
 * - {@link safe.id}, {@link safe.int} and {@link safe.fen}: safe integers within stated bounds (ids fit a
 *   PostgreSQL `integer`, money is whole fen).
 *
 * Every schema made here is marked ({@link isSafePrimitive}); the input-fuzzing suite walks every procedure's
 * input and fails on any string, number or date that is not one of these, so a new field cannot skip the door.
 * Refusals use the `input.*` codes of the server's error catalogue, which the web says with the field's label.
 */

export type SafeKind = "text" | "pattern" | "date" | "day" | "id" | "int" | "fen";

export interface SafeMark {
  kind: SafeKind;
  /** A valid value (the fuzzing suite builds its hostile values around it). */
  example: unknown;
  /** Text: whether `\n` and `\t` are allowed. */
  multiline?: boolean;
}

const marks = new WeakMap<object, SafeMark>();

function mark<T extends z.ZodType>(schema: T, info: SafeMark): T {
  marks.set(schema, info);
  return schema;
}

/** The mark of a schema made by {@link safe} (exactly that instance: `.min()` on it makes an unmarked copy). */
export function safeMarkOf(schema: unknown): SafeMark | undefined {
  return typeof schema === "object" && schema !== null ? marks.get(schema) : undefined;
}

export function isSafePrimitive(schema: unknown): boolean {
  return safeMarkOf(schema) !== undefined;
}

/** The issue codes of the refusals below (each in the server's error catalogue and the web's field messages). */
export const SAFE_ISSUES = {
  control: "input.text.control",
  surrogate: "input.text.surrogate",
  dateRange: "input.date.range",
} as const;

/** The earliest and latest instants any date input may name. */
export const DATE_MIN = new Date("2000-01-01T00:00:00.000Z");
export const DATE_MAX = new Date("2100-01-01T00:00:00.000Z");

/** The largest PostgreSQL `integer`: ids and counts live in such columns. */
export const INT4_MAX = 2_147_483_647;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 and C1 controls, DEL, bidirectional overrides and isolates, line/paragraph separators, non-characters. */
// eslint-disable-next-line no-control-regex
const CONTROL_SINGLE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/;
/** The same, but a multi-line field keeps tab and line feed (a carriage return is folded away first). */
// eslint-disable-next-line no-control-regex
const CONTROL_MULTI = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/;

/** Whether a string is well-formed UTF-16 (no unpaired surrogate). */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/** Whether a string holds a character a field of that kind refuses. */
export function hasControlCharacters(value: string, multiline = false): boolean {
  return (multiline ? CONTROL_MULTI : CONTROL_SINGLE).test(value);
}

interface TextOptions {
  /** Minimum length after trimming (1 unless told: an empty field is "required"). */
  min?: number;
  max: number;
  /** Allows `\n` and `\t` (descriptions, stories). */
  multiline?: boolean;
  /** A catalogue code said instead of the generic length messages. */
  message?: string;
  example?: string;
}

function text(options: TextOptions) {
  const multiline = options.multiline ?? false;
  const min = options.min ?? 1;
  const lengthMessage = options.message === undefined ? undefined : { message: options.message };
  let schema = z
    .string()
    .refine(isWellFormedText, { message: SAFE_ISSUES.surrogate, abort: true })
    .overwrite((value) => (multiline ? value.replace(/\r\n?/g, "\n") : value))
    .refine((value) => !hasControlCharacters(value, multiline), { message: SAFE_ISSUES.control, abort: true })
    .trim()
    .normalize("NFC")
    .max(options.max, lengthMessage);
  if (min > 0) schema = schema.min(min, lengthMessage);
  const example = options.example ?? "测试文字".padEnd(Math.max(min, 4), "字").slice(0, Math.max(min, 4));
  return mark(schema, { kind: "text", example, multiline });
}

function pattern(regex: RegExp, message?: string, example?: string) {
  if (!regex.source.startsWith("^") || !regex.source.endsWith("$") || regex.flags.includes("m")) {
    throw new Error(`safe.pattern needs an anchored single-line pattern: ${String(regex)}`);
  }
  const schema = z
    .string()
    .trim()
    .max(1_024, message === undefined ? undefined : { message })
    .regex(regex, message === undefined ? undefined : { message });
  return mark(schema, { kind: "pattern", example: example ?? "" });
}

const inRange = (date: Date) => date.getTime() >= DATE_MIN.getTime() && date.getTime() < DATE_MAX.getTime();

/** An instant (ISO string or epoch milliseconds), finite and within 2000..2100. */
function date() {
  const schema = z.coerce.date().refine(inRange, { message: SAFE_ISSUES.dateRange });
  return mark(schema, { kind: "date", example: "2026-12-01T02:00:00.000Z" });
}

/**
 * A calendar day "YYYY-MM-DD" that exists and lies within 2000..2100, as that day's midnight in China
 * (`+08:00`) or, with `asText`, kept as the text.
 */
function dayText(message: string) {
  const schema = z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message, abort: true })
    .refine(
      (day) => {
        const parsed = new Date(`${day}T00:00:00Z`);
        return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day;
      },
      { message, abort: true },
    )
    .refine((day) => inRange(new Date(`${day}T00:00:00Z`)), { message: SAFE_ISSUES.dateRange });
  return mark(schema, { kind: "day", example: "2026-11-24" });
}

function chinaDay(message: string) {
  const schema = dayText(message).transform((day) => new Date(`${day}T00:00:00+08:00`));
  return mark(schema, { kind: "day", example: "2026-11-24" });
}

function int(min: number, max: number, example?: number) {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
    throw new Error(`safe.int needs safe integer bounds: ${min}..${max}`);
  }
  return mark(z.number().int().min(min).max(max), { kind: "int", example: example ?? Math.max(min, Math.min(1, max)) });
}

/** A row id: a positive PostgreSQL `integer`. */
function id() {
  return mark(z.number().int().min(1).max(INT4_MAX), { kind: "id", example: 1 });
}

/** Money in whole fen, 0..max (at most a PostgreSQL `integer`). */
function fen(max: number) {
  if (!Number.isSafeInteger(max) || max < 0 || max > INT4_MAX) throw new Error(`safe.fen needs 0..${INT4_MAX}`);
  return mark(z.number().int().min(0).max(max), { kind: "fen", example: Math.min(1990, max) });
}

export const safe = { text, pattern, date, day: chinaDay, dayText, int, id, fen };
