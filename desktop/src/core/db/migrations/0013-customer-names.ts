export default `-- Whether the screens may show customers by their Stripe name or email (off by default). Revtrail keeps no names
-- and no emails: when on, they are read from Stripe when a screen shows the customer and held in memory only.
ALTER TABLE data_settings ADD COLUMN customer_names INTEGER NOT NULL DEFAULT 0;
`;
