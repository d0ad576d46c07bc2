import { z } from 'zod';
import { SLUG_MAX_LENGTH, isSlug } from '../ids';
import { TRACKING_VALUE_MAX, UTM_KEYS, type Utm } from '../tracking-params';
import { destinationProblem } from '../url';

export const CHANNEL_MAX_LENGTH = 64;
export const CAMPAIGN_MAX_LENGTH = 128;
const PARTNER_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

const utmSchema = z
  .object(Object.fromEntries(UTM_KEYS.map((k) => [k, z.string().min(1).max(TRACKING_VALUE_MAX)])) as Record<
    (typeof UTM_KEYS)[number],
    z.ZodString
  >)
  .partial()
  .strict();

/** Body of PUT /api/v1/links/:slug, as the desktop sends it. */
export const linkInputSchema = z
  .object({
    destination: z.string().superRefine((value, ctx) => {
      const problem = destinationProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    channel: z.string().trim().min(1).max(CHANNEL_MAX_LENGTH),
    campaign: z.string().trim().min(1).max(CAMPAIGN_MAX_LENGTH).nullable().optional(),
    partnerId: z.string().regex(PARTNER_ID_RE, 'partnerId: 1-64 letters, digits, _ or -').nullable().optional(),
    utm: utmSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export type LinkInput = z.infer<typeof linkInputSchema>;

export const slugSchema = z
  .string()
  .max(SLUG_MAX_LENGTH, `slug is longer than ${SLUG_MAX_LENGTH} characters`)
  .refine(isSlug, 'slug: 1-64 letters, digits, _ or -, starting with a letter or digit, and not a reserved path');

/** A tracking link as the redirector stores and serves it. */
export interface Link {
  slug: string;
  destination: string;
  channel: string;
  campaign: string | null;
  partnerId: string | null;
  utm: Utm;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export function linkFromInput(slug: string, input: LinkInput, at: number, previous?: Link): Link {
  return {
    slug,
    destination: input.destination,
    channel: input.channel,
    campaign: input.campaign ?? null,
    partnerId: input.partnerId ?? null,
    utm: input.utm ?? {},
    enabled: input.enabled ?? true,
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
}
