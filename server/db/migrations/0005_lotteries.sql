CREATE TABLE "lotteries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"collection_id" bigint NOT NULL,
	"registration_ends_at" timestamp with time zone NOT NULL,
	"winners_count" integer NOT NULL,
	"seed_commitment" text NOT NULL,
	"seed" text NOT NULL,
	"revealed" boolean DEFAULT false NOT NULL,
	"anchor" text,
	"drawn_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lotteries_winners_check" CHECK ("lotteries"."winners_count" >= 1),
	CONSTRAINT "lotteries_drawn_check" CHECK (("lotteries"."drawn_at" is null) = ("lotteries"."anchor" is null) and ("lotteries"."drawn_at" is null) = (not "lotteries"."revealed"))
);
--> statement-breakpoint
CREATE TABLE "lottery_entries" (
	"lottery_id" bigint NOT NULL,
	"commitment" text NOT NULL,
	"user_id" bigint NOT NULL,
	"won" boolean DEFAULT false NOT NULL,
	"registered_at" timestamp with time zone NOT NULL,
	CONSTRAINT "lottery_entries_lottery_id_commitment_pk" PRIMARY KEY("lottery_id","commitment")
);
--> statement-breakpoint
ALTER TABLE "lotteries" ADD CONSTRAINT "lotteries_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lottery_entries" ADD CONSTRAINT "lottery_entries_lottery_id_lotteries_id_fk" FOREIGN KEY ("lottery_id") REFERENCES "public"."lotteries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lottery_entries" ADD CONSTRAINT "lottery_entries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lotteries_collection_key" ON "lotteries" USING btree ("collection_id");