import { createHash } from 'node:crypto';

// Crockford's base 32: no I, L, O or U, so a label read aloud or typed back is not mistaken.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A short readable name for a customer in place of its Stripe id or email hash: "Customer 4F2A9C", the
 * same for the same customer on every screen and every run (30 bits of the key's SHA-256: two of 10,000
 * customers share one about once in 20 workspaces of that size, and each row still opens its own journey).
 */
export function customerLabel(customerKey: string): string {
  const digest = createHash('sha256').update(customerKey).digest();
  let bits = digest.readUInt32BE(0) >>> 2;
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = ALPHABET[bits & 31]! + out;
    bits >>>= 5;
  }
  return `Customer ${out}`;
}
