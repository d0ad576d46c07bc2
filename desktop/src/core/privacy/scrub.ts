import type { SubjectKind } from './erased-repo';
import { tombstoneId } from './erased-repo';

type Erased = (kind: SubjectKind, value: string | null | undefined) => boolean;

/** Only the allowed keys of a Stripe metadata object, as stored JSON: merchants put names and phone numbers there. */
export function keptMetadata(metadata: Record<string, string> | null | undefined, keys: readonly string[]): string {
  return JSON.stringify(Object.fromEntries(Object.entries(metadata ?? {}).filter(([k]) => keys.includes(k))));
}

/** The metadata without values naming an erased visitor. */
function withoutErased(metadataJson: string, erased: Erased): string {
  const entries = Object.entries(JSON.parse(metadataJson) as Record<string, string>);
  const kept = entries.filter(([, v]) => !erased('visitor', v));
  return kept.length === entries.length ? metadataJson : JSON.stringify(Object.fromEntries(kept));
}

interface ChargeFields {
  customerId: string | null;
  billingEmailHash: string | null;
  receiptEmailHash: string | null;
  visitorId: string | null;
  metadataJson: string;
}

/**
 * A charge as it may be stored once its person was erased: the money stays (an accounting record), the person
 * goes. The customer becomes its tombstone id (so a customer's later renewals still group for attribution and
 * commissions), the emails and visitor id go, and a guest charge of an erased email takes that email's tombstone.
 */
export function scrubCharge<R extends ChargeFields>(row: R, erased: Erased): R {
  const customerErased = erased('customer', row.customerId);
  const emailErased = [row.billingEmailHash, row.receiptEmailHash].find((h) => erased('email', h)) ?? null;
  const visitorErased = erased('visitor', row.visitorId);
  if (!customerErased && emailErased === null && !visitorErased && withoutErased(row.metadataJson, erased) === row.metadataJson) return row;
  const customerId = customerErased ? tombstoneId('customer', row.customerId!) : (row.customerId ?? (emailErased ? tombstoneId('email', emailErased) : null));
  const dropEmails = customerErased || emailErased !== null;
  return {
    ...row,
    customerId,
    billingEmailHash: dropEmails ? null : row.billingEmailHash,
    receiptEmailHash: dropEmails ? null : row.receiptEmailHash,
    visitorId: visitorErased || dropEmails ? null : row.visitorId,
    metadataJson: dropEmails ? '{}' : withoutErased(row.metadataJson, erased),
  };
}

/** A subscription or invoice of an erased customer keeps its money and takes the customer's tombstone id. */
export function scrubCustomerRef<R extends { customerId: string | null; metadataJson?: string }>(row: R, erased: Erased): R {
  if (erased('customer', row.customerId)) {
    return { ...row, customerId: tombstoneId('customer', row.customerId!), ...(row.metadataJson === undefined ? {} : { metadataJson: '{}' }) };
  }
  return row.metadataJson === undefined ? row : { ...row, metadataJson: withoutErased(row.metadataJson, erased) };
}
