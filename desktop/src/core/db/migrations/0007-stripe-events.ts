export default `-- Invoice payments: since API version 2025-03-31 (basil) a charge no longer names its invoice; the invoice's
-- payments do (by PaymentIntent). The charge's invoice_id is filled from here, whichever arrives first.
CREATE TABLE stripe_invoice_payments (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  invoice_id TEXT NOT NULL,
  payment_intent_id TEXT,
  charge_id TEXT,
  status TEXT NOT NULL,
  amount_paid_minor INTEGER,
  currency TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX stripe_invoice_payments_intent ON stripe_invoice_payments (payment_intent_id);
CREATE INDEX stripe_charges_intent ON stripe_charges (payment_intent_id);

-- Objects to read again by id: named by an event (a subscription canceled, a dispute closed, an old charge
-- refunded), or, when events are out of reach, by the state they were last seen in. Written in the same
-- transaction as the events checkpoint and deleted in the same transaction as the re-read row, so a killed
-- sync loses no hint.
CREATE TABLE stripe_hints (
  object_type TEXT NOT NULL,
  id TEXT NOT NULL,
  since INTEGER NOT NULL,
  PRIMARY KEY (object_type, id)
) WITHOUT ROWID;
`;
