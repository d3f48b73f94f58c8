CREATE INDEX "edition_slots_free_idx" ON "edition_slots" USING btree ("collection_id","edition_no") WHERE "edition_slots"."status" = 'available';--> statement-breakpoint
-- Ends the statement that calls it, and with it the statement's implicit transaction: a reservation batch
-- (one statement) refuses itself this way when one of its attempts may not go through with the others.
CREATE FUNCTION "reservation_batch_refused"("reason" text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'reservation batch refused: %', "reason" USING ERRCODE = 'SZ001';
END
$$;
