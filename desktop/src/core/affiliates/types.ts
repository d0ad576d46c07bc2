import type { LineCause, LineKind, LineState, PartnerOverride, PayoutMethod, ProgramRules, WiseDetails } from '@revtrail/shared/commission/index';

export type PartnerStatus = 'active' | 'paused' | 'closed';
export const PARTNER_STATUSES: readonly PartnerStatus[] = ['active', 'paused', 'closed'];

export interface Program {
  id: string;
  name: string;
  rules: ProgramRules;
  /** Charges before this earn nothing. */
  startsAt: number;
  createdAt: number;
}

export interface Partner {
  /** The partner id tracking links carry. */
  id: string;
  programId: string;
  name: string;
  email: string;
  paypalEmail: string | null;
  wise: WiseDetails | null;
  payoutMethod: PayoutMethod;
  country: string | null;
  status: PartnerStatus;
  ownVisitorIds: string[];
  override: PartnerOverride | null;
  createdAt: number;
  updatedAt: number;
}

export interface Binding {
  customerKey: string;
  partnerId: string;
  programId: string;
  rule: 'first_click' | 'last_click';
  touchpointId: string;
  touchpointAt: number;
  visitorId: string | null;
  firstChargeId: string;
  firstChargeAt: number;
  boundAt: number;
}

/** A ledger line with its current state (a reversal shows its commission's). */
export interface LedgerLine {
  id: string;
  kind: LineKind;
  cause: LineCause;
  partnerId: string;
  programId: string;
  customerKey: string;
  chargeId: string;
  touchpointId: string | null;
  sourceId: string;
  commissionId: string | null;
  /** The terms applied, as written when the commission was earned. */
  terms: ProgramRules;
  baseMinor: number;
  amountMinor: number;
  currency: string;
  occurredAt: number;
  availableAt: number;
  selfReferral: string | null;
  state: LineState;
  batchId: string | null;
  createdAt: number;
}

export interface BatchSummary {
  id: string;
  period: string;
  method: PayoutMethod;
  currency: string;
  timeZone: string;
  periodFrom: number;
  periodTo: number;
  totalMinor: number;
  itemCount: number;
  createdAt: number;
  reference: string | null;
  paidAt: number | null;
}
