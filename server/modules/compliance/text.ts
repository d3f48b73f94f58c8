import { z } from "zod";

/**
 * Operator text that the database and the audit log can store as written: no NUL byte (PostgreSQL's text
 * and jsonb refuse it), no other control character but tab and newline, no lone UTF-16 surrogate (it has
 * no UTF-8 form). Refused with a 4xx before anything is written.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export function isStorableText(value: string): boolean {
  return !LONE_SURROGATE.test(value) && !CONTROL.test(value);
}

/** An operator's reason: 2–200 characters of storable text. */
export const reasonText = z
  .string()
  .refine(isStorableText, "compliance.textInvalid")
  .transform((value) => value.trim())
  .pipe(z.string().min(2, "ops.reasonRequired").max(200, "ops.reasonRequired"));

/** The code written on chain with a compliance action (the words stay in the audit log). */
export const REASON_CODES = {
  operator: 1,
  regulatorOrder: 2,
  courtOrder: 3,
  rightsComplaint: 4,
  lostAccess: 5,
  fraud: 6,
} as const;

export const reasonCode = z
  .number()
  .int()
  .refine((code) => Object.values(REASON_CODES).includes(code as never), "compliance.reasonCodeUnknown");
