ALTER TABLE "refunds" ADD COLUMN "kind" text DEFAULT 'operator' NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "reason_code" smallint;--> statement-breakpoint
UPDATE "refunds" SET "kind" = CASE
  WHEN "requested_by" IS NOT NULL THEN 'operator'
  WHEN "reason" LIKE 'takedown%' THEN 'takedown'
  WHEN "reason" LIKE 'delivery failed: %' THEN 'delivery-failed'
  WHEN "reason" = 'paid after the order expired' THEN 'late-payment'
  ELSE 'operator' END;--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_kind_check" CHECK ("refunds"."kind" in ('takedown', 'operator', 'delivery-failed', 'late-payment'));--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_reason_code_check" CHECK (("refunds"."kind" = 'takedown' or "refunds"."reason_code" is null) and ("refunds"."reason_code" is null or "refunds"."reason_code" between 1 and 9));