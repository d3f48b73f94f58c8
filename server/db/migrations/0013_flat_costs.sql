CREATE TABLE "edition_stock" (
	"collection_id" bigint NOT NULL,
	"shard" integer NOT NULL,
	"available" integer DEFAULT 0 NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	"sold" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "edition_stock_collection_id_shard_pk" PRIMARY KEY("collection_id","shard")
);
--> statement-breakpoint
DROP INDEX "mint_batches_one_planned_per_collection";--> statement-breakpoint
ALTER TABLE "mint_batches" ADD COLUMN "nonce" integer;--> statement-breakpoint
ALTER TABLE "edition_stock" ADD CONSTRAINT "edition_stock_collection_id_collections_id_fk" FOREIGN KEY ("collection_id") REFERENCES "public"."collections"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "registry_bindings_address_idx" ON "registry_bindings" USING btree ("address");--> statement-breakpoint
CREATE UNIQUE INDEX "mint_batches_one_planned_per_start" ON "mint_batches" USING btree ("collection_id","expected_first_token_id") WHERE "mint_batches"."status" = 'planned';--> statement-breakpoint
CREATE INDEX "mint_jobs_batch_idx" ON "mint_jobs" USING btree ("batch_id");--> statement-breakpoint
-- The stock counter of each collection, kept with its slots: once per statement, the slots a statement
-- inserted, changed or deleted are summed by collection and added to this connection's shard.
CREATE FUNCTION "edition_stock_apply"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO edition_stock (collection_id, shard, available, reserved, sold)
    SELECT collection_id, pg_backend_pid() % 16, count(*) FILTER (WHERE status = 'available'),
      count(*) FILTER (WHERE status = 'reserved'), count(*) FILTER (WHERE status = 'sold')
    FROM new_slots GROUP BY collection_id ORDER BY collection_id
    ON CONFLICT (collection_id, shard) DO UPDATE SET available = edition_stock.available + excluded.available,
      reserved = edition_stock.reserved + excluded.reserved, sold = edition_stock.sold + excluded.sold;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO edition_stock (collection_id, shard, available, reserved, sold)
    SELECT collection_id, pg_backend_pid() % 16, sum(available), sum(reserved), sum(sold)
    FROM (
      SELECT collection_id, (status = 'available')::int AS available, (status = 'reserved')::int AS reserved,
        (status = 'sold')::int AS sold FROM new_slots
      UNION ALL
      SELECT collection_id, -(status = 'available')::int, -(status = 'reserved')::int, -(status = 'sold')::int
      FROM old_slots
    ) AS delta
    GROUP BY collection_id
    HAVING sum(available) <> 0 OR sum(reserved) <> 0 OR sum(sold) <> 0
    ORDER BY collection_id
    ON CONFLICT (collection_id, shard) DO UPDATE SET available = edition_stock.available + excluded.available,
      reserved = edition_stock.reserved + excluded.reserved, sold = edition_stock.sold + excluded.sold;
  ELSE
    INSERT INTO edition_stock (collection_id, shard, available, reserved, sold)
    SELECT collection_id, pg_backend_pid() % 16, -count(*) FILTER (WHERE status = 'available'),
      -count(*) FILTER (WHERE status = 'reserved'), -count(*) FILTER (WHERE status = 'sold')
    FROM old_slots GROUP BY collection_id ORDER BY collection_id
    ON CONFLICT (collection_id, shard) DO UPDATE SET available = edition_stock.available + excluded.available,
      reserved = edition_stock.reserved + excluded.reserved, sold = edition_stock.sold + excluded.sold;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "edition_stock_on_insert" AFTER INSERT ON "edition_slots"
  REFERENCING NEW TABLE AS new_slots FOR EACH STATEMENT EXECUTE FUNCTION "edition_stock_apply"();
--> statement-breakpoint
CREATE TRIGGER "edition_stock_on_update" AFTER UPDATE ON "edition_slots"
  REFERENCING OLD TABLE AS old_slots NEW TABLE AS new_slots FOR EACH STATEMENT EXECUTE FUNCTION "edition_stock_apply"();
--> statement-breakpoint
CREATE TRIGGER "edition_stock_on_delete" AFTER DELETE ON "edition_slots"
  REFERENCING OLD TABLE AS old_slots FOR EACH STATEMENT EXECUTE FUNCTION "edition_stock_apply"();
--> statement-breakpoint
-- The platform's slots so far, counted once.
INSERT INTO "edition_stock" (collection_id, shard, available, reserved, sold)
SELECT collection_id, 0, count(*) FILTER (WHERE status = 'available'), count(*) FILTER (WHERE status = 'reserved'),
  count(*) FILTER (WHERE status = 'sold')
FROM "edition_slots" GROUP BY collection_id;
