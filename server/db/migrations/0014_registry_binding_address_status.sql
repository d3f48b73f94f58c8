DROP INDEX "registry_bindings_address_idx";--> statement-breakpoint
CREATE INDEX "registry_bindings_address_status_idx" ON "registry_bindings" USING btree ("address","status");