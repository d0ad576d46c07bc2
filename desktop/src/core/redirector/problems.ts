import type { CoreContext } from '../context';
import type { RedirectorError } from './client';

/** What a setup screen that talks to the redirector says in its own terms (redirectorProblem). */
export interface RedirectorSetupTerms {
  /** The endpoint an older redirector lacks: "Telegram endpoint". */
  endpoint: string;
  /** What a refusal refused: "the bot". */
  refused: string;
  /** The refusal's detail as it may be shown (secrets taken out where the request held one). */
  detail?: (text: string) => string;
  /** Where the redirector's address is seen, for a server that is not a Revtrail redirector; none: not said. */
  addressStep?: { app: string; cli: string };
}

/** A redirector failure said in the terms of a setup screen (never an HTTP verb or path). */
export function redirectorProblem(ctx: Pick<CoreContext, 'step'>, e: RedirectorError, url: string, terms: RedirectorSetupTerms): string {
  const shown = new URL(url).host;
  switch (e.kind) {
    case 'unauthorized':
      return `The redirector at ${shown} refused the sync token: paste the current one ${ctx.step({ app: 'on the Set up screen', cli: 'with `revtrail connect redirector`' })}.`;
    case 'unavailable':
      return `The redirector at ${shown} did not answer: check it is running (and this computer is online), then try again.`;
    case 'missing':
      return `The redirector at ${shown} has no ${terms.endpoint} yet: it is older than this Revtrail. Update it (deploy the current version).`;
    case 'foreign':
      return `${shown} did not answer as a Revtrail redirector: check the redirector address${terms.addressStep ? ` ${ctx.step(terms.addressStep)}` : ''}.`;
    case 'rejected': {
      const text = e.detail ?? e.message;
      return `The redirector at ${shown} refused ${terms.refused}: ${terms.detail ? terms.detail(text) : text}`;
    }
  }
}
