CREATE TABLE "collections" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"issuer_id" bigint NOT NULL,
	"title" text NOT NULL,
	"description" text NOT NULL,
	"creator" text NOT NULL,
	"story" text NOT NULL,
	"media_sha256" text NOT NULL,
	"edition_size" integer NOT NULL,
	"price_fen" integer NOT NULL,
	"sale_starts_at" timestamp with time zone NOT NULL,
	"sale_ends_at" timestamp with time zone NOT NULL,
	"per_person_limit" integer NOT NULL,
	"lock_days" integer NOT NULL,
	"regift_days" integer NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"rejection_reason" text,
	"contract_address" text,
	"publish_tx_hash" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "collections_status_check" CHECK ("collections"."status" in ('draft', 'submitted', 'approved', 'rejected', 'published')),
	CONSTRAINT "collections_edition_size_check" CHECK ("collections"."edition_size" between 1 and 16777215),
	CONSTRAINT "collections_price_check" CHECK ("collections"."price_fen" >= 0),
	CONSTRAINT "collections_limit_check" CHECK ("collections"."per_person_limit" >= 1),
	CONSTRAINT "collections_lock_check" CHECK ("collections"."lock_days" >= 180 and "collections"."regift_days" >= "collections"."lock_days"),
	CONSTRAINT "collections_window_check" CHECK ("collections"."sale_ends_at" > "collections"."sale_starts_at"),
	CONSTRAINT "collections_rejection_has_reason" CHECK (("collections"."status" = 'rejected') = ("collections"."rejection_reason" is not null)),
	CONSTRAINT "collections_published_has_contract" CHECK (("collections"."status" = 'published') = ("collections"."contract_address" is not null))
);
--> statement-breakpoint
CREATE TABLE "media" (
	"sha256" text PRIMARY KEY NOT NULL,
	"mime_type" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"issuer_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "media_sha256_check" CHECK ("media"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "media_size_check" CHECK ("media"."size_bytes" > 0),
	CONSTRAINT "media_type_check" CHECK ("media"."mime_type" in ('image/png', 'image/jpeg', 'image/webp', 'image/gif', 'video/mp4', 'model/gltf-binary'))
);
--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "credit_code" text;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "status" text DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "applicant_user_id" bigint;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "rejection_reason" text;--> statement-breakpoint
ALTER TABLE "issuers" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "collections" ADD CONSTRAINT "collections_media_sha256_media_sha256_fk" FOREIGN KEY ("media_sha256") REFERENCES "public"."media"("sha256") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media" ADD CONSTRAINT "media_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "collections_issuer_idx" ON "collections" USING btree ("issuer_id");--> statement-breakpoint
CREATE INDEX "collections_status_idx" ON "collections" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "collections_contract_key" ON "collections" USING btree ("contract_address");--> statement-breakpoint
CREATE UNIQUE INDEX "issuers_credit_code_key" ON "issuers" USING btree ("credit_code");--> statement-breakpoint
ALTER TABLE "issuers" ADD CONSTRAINT "issuers_status_check" CHECK ("issuers"."status" in ('pending', 'approved', 'rejected'));--> statement-breakpoint
ALTER TABLE "issuers" ADD CONSTRAINT "issuers_rejection_has_reason" CHECK (("issuers"."status" = 'rejected') = ("issuers"."rejection_reason" is not null));