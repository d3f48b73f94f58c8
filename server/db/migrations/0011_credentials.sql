CREATE TABLE "credential_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"purpose" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credential_nonces_purpose_check" CHECK ("credential_nonces"."purpose" in ('issue', 'present'))
);
--> statement-breakpoint
CREATE TABLE "credentials" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"list_id" integer NOT NULL,
	"idx" integer NOT NULL,
	"holder_thumbprint" text NOT NULL,
	"key_id" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoke_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credentials_idx_check" CHECK ("credentials"."idx" >= 0 and "credentials"."list_id" >= 1)
);
--> statement-breakpoint
ALTER TABLE "kyc_identities" DROP CONSTRAINT "kyc_pii_present_unless_purged";--> statement-breakpoint
ALTER TABLE "credential_nonces" ADD CONSTRAINT "credential_nonces_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credential_nonces_user_idx" ON "credential_nonces" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_list_idx_key" ON "credentials" USING btree ("list_id","idx");--> statement-breakpoint
CREATE INDEX "credentials_user_idx" ON "credentials" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "kyc_identities" ADD CONSTRAINT "kyc_pii_present_unless_purged" CHECK (case when "kyc_identities"."provider" like 'credential:%' then "kyc_identities"."name_cipher" is null and "kyc_identities"."id_number_cipher" is null else ("kyc_identities"."purged_at" is null) = ("kyc_identities"."name_cipher" is not null and "kyc_identities"."id_number_cipher" is not null) end);