CREATE TABLE "edition_slots" (
	"collection_id" bigint NOT NULL,
	"edition_no" integer NOT NULL,
	"status" text DEFAULT 'available' NOT NULL,
	"order_id" bigint,
	CONSTRAINT "edition_slots_collection_id_edition_no_pk" PRIMARY KEY("collection_id","edition_no"),
	CONSTRAINT "edition_slots_status_check" CHECK ("edition_slots"."status" in ('available', 'reserved', 'sold')),
	CONSTRAINT "edition_slots_order_check" CHECK (("edition_slots"."status" = 'available') = ("edition_slots"."order_id" is null)),
	CONSTRAINT "edition_slots_edition_check" CHECK ("edition_slots"."edition_no" >= 1)
);
--> statement-breakpoint
CREATE TABLE "order_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_id" bigint NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_no" text NOT NULL,
	"user_id" bigint NOT NULL,
	"collection_id" bigint NOT NULL,
	"commitment" text NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_fen" integer NOT NULL,
	"amount_fen" integer NOT NULL,
	"status" text DEFAULT 'created' NOT NULL,
	"idempotency_key" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_status_check" CHECK ("orders"."status" in ('created', 'paid', 'minting', 'minted', 'expired', 'refunded')),
	CONSTRAINT "orders_quantity_check" CHECK ("orders"."quantity" >= 1),
	CONSTRAINT "orders_amount_check" CHECK ("orders"."amount_fen" = "orders"."quantity" * "orders"."unit_price_fen" and "orders"."unit_price_fen" >= 0),
	CONSTRAINT "orders_paid_has_time" CHECK (("orders"."status" in ('created', 'expired')) = ("orders"."paid_at" is null))
);
--> statement-breakpoint
CREATE TABLE "purchase_counts" (
	"collection_id" bigint NOT NULL,
	"commitment" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "purchase_counts_collection_id_commitment_pk" PRIMARY KEY("collection_id","commitment"),
	CONSTRAINT "purchase_counts_count_check" CHECK ("purchase_counts"."count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "edition_slots" ADD CONSTRAINT "edition_slots_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_events" ADD CONSTRAINT "order_events_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_counts" ADD CONSTRAINT "purchase_counts_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "edition_slots_available_idx" ON "edition_slots" USING btree ("collection_id","status");--> statement-breakpoint
CREATE INDEX "edition_slots_order_idx" ON "edition_slots" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "order_events_order_idx" ON "order_events" USING btree ("order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_order_no_key" ON "orders" USING btree ("order_no");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_idempotency_key" ON "orders" USING btree ("user_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "orders_user_idx" ON "orders" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "orders_expiry_idx" ON "orders" USING btree ("status","expires_at");