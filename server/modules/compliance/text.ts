import { safe } from "../../../shared/validation.js";

/** An operator's reason: 2–200 characters of storable text (the shared door: no control characters, no lone surrogates). */
export const reasonText = safe.text({ min: 2, max: 200, message: "ops.reasonRequired" });

/** The code written on chain with a compliance action (the words stay in the audit log). */
export const REASON_CODES = {
  operator: 1,
  regulatorOrder: 2,
  courtOrder: 3,
  rightsComplaint: 4,
  lostAccess: 5,
  fraud: 6,
} as const;

/** One of {@link REASON_CODES} (they run 1..6 without gaps). */
export const reasonCode = safe.int(1, 6, REASON_CODES.regulatorOrder);
