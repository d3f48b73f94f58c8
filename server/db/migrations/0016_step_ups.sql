CREATE TABLE "step_ups" (
	"session_id" text NOT NULL,
	"purpose" text NOT NULL,
	"code_hash" text,
	"code_expires_at" timestamp with time zone,
	"granted_until" timestamp with time zone,
	"spent_at" timestamp with time zone,
	CONSTRAINT "step_ups_session_id_purpose_pk" PRIMARY KEY("session_id","purpose"),
	CONSTRAINT "step_ups_purpose_check" CHECK ("step_ups"."purpose" in ('export', 'gift', 'kyc'))
);
--> statement-breakpoint
ALTER TABLE "step_ups" ADD CONSTRAINT "step_ups_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;