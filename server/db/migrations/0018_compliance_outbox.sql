CREATE TABLE "compliance_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"subject" jsonb NOT NULL,
	"reason_code" integer NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"requested_by" bigint NOT NULL,
	"decided_by" bigint,
	"decided_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"tx_hash" text,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compliance_actions_status_check" CHECK ("compliance_actions"."status" in ('awaiting_approval', 'rejected', 'queued', 'sending', 'done', 'failed')),
	CONSTRAINT "compliance_actions_kind_check" CHECK ("compliance_actions"."kind" in ('identity.freeze', 'identity.unfreeze', 'token.freeze', 'token.unfreeze', 'token.recover', 'token.takedown', 'collection.takedown')),
	CONSTRAINT "compliance_actions_four_eyes" CHECK ("compliance_actions"."decided_by" is null or "compliance_actions"."decided_by" <> "compliance_actions"."requested_by")
);
--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "publish_claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "taken_down_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "takedown_reason_code" integer;--> statement-breakpoint
ALTER TABLE "collections" ADD COLUMN "takedown_tx_hash" text;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "taken_down_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "takedown_reason_code" integer;--> statement-breakpoint
ALTER TABLE "tokens" ADD COLUMN "takedown_tx_hash" text;--> statement-breakpoint
CREATE INDEX "compliance_actions_status_idx" ON "compliance_actions" USING btree ("status","id");