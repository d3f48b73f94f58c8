CREATE TABLE "lottery_draws" (
	"lottery_id" bigint PRIMARY KEY NOT NULL,
	"seed" text NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"entries_hash" text NOT NULL,
	"entry_count" integer NOT NULL,
	"winners_hash" text NOT NULL,
	"drawn_by" bigint,
	"drawn_at" timestamp with time zone NOT NULL,
	CONSTRAINT "lottery_draws_block_check" CHECK ("lottery_draws"."block_number" >= 0)
);
--> statement-breakpoint
ALTER TABLE "lottery_draws" ADD CONSTRAINT "lottery_draws_lottery_id_lotteries_id_fk" FOREIGN KEY ("lottery_id") REFERENCES "public"."lotteries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lottery_draws" ADD CONSTRAINT "lottery_draws_drawn_by_users_id_fk" FOREIGN KEY ("drawn_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lotteries" RENAME COLUMN "seed" TO "seed_sealed";--> statement-breakpoint
-- Lotteries opened before this migration kept their seed in plain text: they stay readable (NOT VALID), every new one is sealed.
ALTER TABLE "lotteries" ADD CONSTRAINT "lotteries_seed_sealed_check" CHECK ("lotteries"."seed_sealed" like 'v1.%') NOT VALID;