CREATE TABLE "audit_log" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor_user_id" bigint,
	"actor_role" text NOT NULL,
	"action" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_seq_check" CHECK ("audit_log"."seq" >= 1)
);
--> statement-breakpoint
CREATE TABLE "issuers" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kyc_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"outcome" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "kyc_attempts_outcome_check" CHECK ("kyc_attempts"."outcome" in ('verified', 'mismatch', 'unavailable', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "kyc_identities" (
	"user_id" bigint PRIMARY KEY NOT NULL,
	"name_cipher" text,
	"id_number_cipher" text,
	"name_masked" text NOT NULL,
	"id_number_masked" text NOT NULL,
	"commitment" text NOT NULL,
	"level" integer DEFAULT 1 NOT NULL,
	"provider" text NOT NULL,
	"provider_reference" text NOT NULL,
	"verified_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"retain_until" timestamp with time zone,
	"purged_at" timestamp with time zone,
	CONSTRAINT "kyc_level_check" CHECK ("kyc_identities"."level" between 1 and 255),
	CONSTRAINT "kyc_pii_present_unless_purged" CHECK (("kyc_identities"."purged_at" is null) = ("kyc_identities"."name_cipher" is not null and "kyc_identities"."id_number_cipher" is not null))
);
--> statement-breakpoint
CREATE TABLE "otp_challenges" (
	"phone_hash" text PRIMARY KEY NOT NULL,
	"code_hash" text,
	"expires_at" timestamp with time zone,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"sent_at" timestamp with time zone,
	CONSTRAINT "otp_failures_check" CHECK ("otp_challenges"."failures" >= 0)
);
--> statement-breakpoint
CREATE TABLE "registry_bindings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"address" text NOT NULL,
	"commitment" text NOT NULL,
	"level" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"tx_hash" text,
	"block_number" bigint,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "registry_bindings_status_check" CHECK ("registry_bindings"."status" in ('pending', 'confirmed'))
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"user_agent" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"phone_hash" text NOT NULL,
	"phone_cipher" text NOT NULL,
	"phone_masked" text NOT NULL,
	"role" text DEFAULT 'collector' NOT NULL,
	"issuer_id" bigint,
	"status" text DEFAULT 'active' NOT NULL,
	"erasure_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_role_check" CHECK ("users"."role" in ('collector', 'issuer_staff', 'operator')),
	CONSTRAINT "users_status_check" CHECK ("users"."status" in ('active', 'erasure_requested')),
	CONSTRAINT "users_issuer_staff_has_issuer" CHECK (("users"."role" = 'issuer_staff') = ("users"."issuer_id" is not null))
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"user_id" bigint PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"derivation_index" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wallets_derivation_index_check" CHECK ("wallets"."derivation_index" >= 0)
);
--> statement-breakpoint
ALTER TABLE "kyc_attempts" ADD CONSTRAINT "kyc_attempts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kyc_identities" ADD CONSTRAINT "kyc_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registry_bindings" ADD CONSTRAINT "registry_bindings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_issuer_id_issuers_id_fk" FOREIGN KEY ("issuer_id") REFERENCES "public"."issuers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "kyc_attempts_user_idx" ON "kyc_attempts" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "kyc_identities_commitment_key" ON "kyc_identities" USING btree ("commitment");--> statement-breakpoint
CREATE INDEX "registry_bindings_pending_idx" ON "registry_bindings" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_phone_hash_key" ON "users" USING btree ("phone_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_address_key" ON "wallets" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "wallets_derivation_index_key" ON "wallets" USING btree ("derivation_index");