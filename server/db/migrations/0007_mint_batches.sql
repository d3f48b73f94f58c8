CREATE TABLE "mint_batches" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" bigint NOT NULL,
	"contract_address" text NOT NULL,
	"expected_first_token_id" integer NOT NULL,
	"token_count" integer NOT NULL,
	"status" text DEFAULT 'planned' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"tx_hash" text,
	"block_number" bigint,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mint_batches_status_check" CHECK ("mint_batches"."status" in ('planned', 'confirmed', 'abandoned')),
	CONSTRAINT "mint_batches_count_check" CHECK ("mint_batches"."token_count" >= 1)
);
--> statement-breakpoint
ALTER TABLE "mint_jobs" ADD COLUMN "batch_id" bigint;--> statement-breakpoint
ALTER TABLE "mint_jobs" ADD COLUMN "first_token_id" integer;--> statement-breakpoint
ALTER TABLE "mint_jobs" ADD COLUMN "parked_reason" text;--> statement-breakpoint
ALTER TABLE "mint_batches" ADD CONSTRAINT "mint_batches_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mint_batches_open_idx" ON "mint_batches" USING btree ("status","collection_id");--> statement-breakpoint
CREATE UNIQUE INDEX "mint_batches_one_planned_per_collection" ON "mint_batches" USING btree ("collection_id") WHERE "mint_batches"."status" = 'planned';--> statement-breakpoint
ALTER TABLE "mint_jobs" ADD CONSTRAINT "mint_jobs_batch_check" CHECK (("mint_jobs"."status" in ('sent', 'minted')) = ("mint_jobs"."batch_id" is not null));--> statement-breakpoint
ALTER TABLE "mint_jobs" ADD CONSTRAINT "mint_jobs_token_check" CHECK (("mint_jobs"."status" = 'minted') = ("mint_jobs"."first_token_id" is not null));