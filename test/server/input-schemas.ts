import type { z } from "zod";

import { type SafeMark, safeMarkOf } from "../../shared/validation.js";

/**
 * Walks the zod schemas of the router's inputs: every field that holds text, a number or a date, with its path
 * and the shared primitive it is made of (or none: then the field skipped the door). Also builds a valid
 * sample input from the primitives' examples, and the hostile values each kind of field must refuse.
 */

export type FieldPath = (string | number)[];

export interface Field {
  path: FieldPath;
  schema: z.ZodType;
  mark: SafeMark | undefined;
  /** The zod type of an unmarked leaf ("string", "number", "date"…). */
  type: string;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  items?: z.ZodType[];
  valueType?: z.ZodType;
  keyType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  getter?: () => z.ZodType;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Leaves that hold no free text, number or date. */
const SAFE_LEAVES = new Set(["boolean", "enum", "literal", "null", "undefined", "void", "never", "nan", "transform"]);
/** Wrappers whose inner type is the field. */
const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "catch",
  "readonly",
  "nonoptional",
  "success",
]);

/** Every text, number and date field of a schema (a marked primitive is one field, whatever it is made of). */
export function fieldsOf(schema: z.ZodType, path: FieldPath = []): Field[] {
  const mark = safeMarkOf(schema);
  const def = defOf(schema);
  if (mark !== undefined) return [{ path, schema, mark, type: def.type }];
  if (SAFE_LEAVES.has(def.type)) return [];
  if (WRAPPERS.has(def.type)) return fieldsOf(def.innerType!, path);
  switch (def.type) {
    case "object":
      return Object.entries(def.shape!).flatMap(([key, value]) => fieldsOf(value, [...path, key]));
    case "array":
      return fieldsOf(def.element!, [...path, 0]);
    case "intersection":
      return [...fieldsOf(def.left!, path), ...fieldsOf(def.right!, path)];
    case "union":
      return def.options!.flatMap((option) => fieldsOf(option, path));
    case "pipe":
      return [...fieldsOf(def.in!, path), ...fieldsOf(def.out!, path)];
    case "tuple":
      return def.items!.flatMap((item, index) => fieldsOf(item, [...path, index]));
    case "record":
      return [...fieldsOf(def.keyType!, [...path, "<key>"]), ...fieldsOf(def.valueType!, [...path, "<value>"])];
    case "lazy":
      return fieldsOf(def.getter!(), path);
    default:
      // string, number, bigint, date, any, unknown, custom…: a field not made of a shared primitive.
      return [{ path, schema, mark: undefined, type: def.type }];
  }
}

/** A valid input built from the primitives' examples (optional fields included, so each can be replaced). */
export function sampleOf(schema: z.ZodType): unknown {
  const mark = safeMarkOf(schema);
  if (mark !== undefined) return mark.example;
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return sampleOf(def.innerType!);
  switch (def.type) {
    case "object":
      return Object.fromEntries(Object.entries(def.shape!).map(([key, value]) => [key, sampleOf(value)]));
    case "array":
      return [sampleOf(def.element!)];
    case "intersection":
      return { ...(sampleOf(def.left!) as object), ...(sampleOf(def.right!) as object) };
    case "union":
      return sampleOf(def.options![0]!);
    case "pipe":
      return sampleOf(def.in!);
    case "boolean":
      return true;
    case "enum":
      return Object.values(def.entries!)[0];
    case "literal":
      return def.values![0];
    default:
      return undefined;
  }
}

/** A copy of `input` with the value at `path` replaced. */
export function withValueAt(input: unknown, path: FieldPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(input) ? [...input] : { ...(input as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path;
  copy[head!] = withValueAt(copy[head!], rest, value);
  return copy;
}

/** The value at `path`. */
export function valueAt(input: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>((at, key) => (at as Record<string | number, unknown> | undefined)?.[key], input);
}

/** Hostile text around a valid example: each must be refused, never stored nor reach the database. */
export function hostileTexts(example: string, multiline: boolean): { name: string; value: string }[] {
  const cut = Math.max(1, Math.floor(example.length / 2));
  const inside = (insert: string) => `${example.slice(0, cut)}${insert}${example.slice(cut)}`;
  const values = [
    { name: "NUL", value: inside("\u0000") },
    { name: "trailing NUL", value: `${example}\u0000` },
    { name: "lone high surrogate", value: inside("\uD800") },
    { name: "lone low surrogate", value: `${example}\uDC00` },
    { name: "escape (C0)", value: inside("\u001b[2J") },
    { name: "NEL (C1)", value: inside("\u0085") },
    { name: "DEL", value: inside("\u007f") },
    { name: "right-to-left override", value: inside("\u202e") },
  ];
  if (!multiline) values.push({ name: "line feed", value: inside("\n") });
  return values;
}

/** Dates beyond what the platform (and PostgreSQL) takes. */
export const HOSTILE_DATES: { name: string; value: unknown }[] = [
  { name: "new Date(-8.64e15)", value: -8.64e15 },
  { name: "year -271821", value: "-271821-04-20T00:00:00.000Z" },
  { name: "year 275760", value: "+275760-09-13T00:00:00.000Z" },
  { name: "year 1900", value: "1900-01-01T00:00:00.000Z" },
  { name: "year 2100", value: "2100-01-01T00:00:00.000Z" },
  { name: "not a date", value: 1e20 },
];

export const HOSTILE_DAYS: { name: string; value: unknown }[] = [
  { name: "year 0", value: "0000-01-01" },
  { name: "year 9999", value: "9999-12-31" },
  { name: "February 30", value: "2026-02-30" },
];

/** Numbers outside a field's bounds: below, above, a fraction, beyond PostgreSQL's integer and JavaScript's safe range. */
export function hostileNumbers(schema: z.ZodType): { name: string; value: number }[] {
  const bounds = schema as unknown as { minValue: number | null; maxValue: number | null };
  const min = bounds.minValue ?? Number.MIN_SAFE_INTEGER;
  const max = bounds.maxValue ?? Number.MAX_SAFE_INTEGER;
  const values = [
    { name: "below the minimum", value: min - 1 },
    { name: "above the maximum", value: max + 1 },
    { name: "a fraction", value: min + 0.5 },
    { name: "2^31", value: 2 ** 31 },
    { name: "2^53 + 2", value: 2 ** 53 + 2 },
    { name: "1e21", value: 1e21 },
    { name: "-1e21", value: -1e21 },
  ];
  return values.filter(({ value }) => !(Number.isSafeInteger(value) && value >= min && value <= max));
}

/**
 * Every hostile value for one field, by its kind; a field not made of a primitive (which the schema check
 * refuses anyway) gets those of its zod type, around its value in the base input.
 */
export function hostileValuesFor(field: Field, baseValue: unknown): { name: string; value: unknown }[] {
  const mark = field.mark;
  if (mark === undefined) {
    if (field.type === "string") {
      const example = String(baseValue ?? "文字");
      return [...hostileTexts(example, false), ...(/^\d{4}-\d{2}-\d{2}$/.test(example) ? HOSTILE_DAYS : [])];
    }
    if (field.type === "number") return hostileNumbers(field.schema);
    if (field.type === "date") return HOSTILE_DATES;
    return [];
  }
  switch (mark.kind) {
    case "text":
    case "pattern":
      return hostileTexts(String(mark.example), mark.multiline ?? false);
    case "date":
      return HOSTILE_DATES;
    case "day":
      return HOSTILE_DAYS;
    case "id":
    case "int":
    case "fen":
      return hostileNumbers(field.schema);
  }
}
