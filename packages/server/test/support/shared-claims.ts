// Reading back what a holder was shown and what an RP received, by claim name (issue 18 §1): the
// pages' lists (`<li data-claim>`), the signed statement's 提供する情報 block, and the claims of
// ID tokens and userinfo responses.

import { CLAIM_LABELS, RECORD_CLAIM, SHARED_CLAIM_NAMES, type SharedClaim } from '../../src/oidc/claims.js';

/** The claim names of a page's `#shared` list, in its order. */
export const listedClaims = (html: string): string[] =>
  [...html.matchAll(/<li data-claim="([^"]+)"/g)].map((m) => m[1]!);

/** The claims an RP received, by name, in the listing order: ID tokens and userinfo responses together. */
export function receivedNames(...sets: Record<string, unknown>[]): SharedClaim[] {
  const names = new Set<string>();
  for (const claims of sets) {
    if (claims.sub) names.add('sub');
    if (claims[RECORD_CLAIM]) names.add(RECORD_CLAIM);
    for (const vc of [claims.verified_claims ?? []].flat() as {
      verification: { evidence?: unknown };
      claims: Record<string, unknown>;
    }[]) {
      for (const name of Object.keys(vc.claims)) names.add(name);
      if (vc.verification.evidence) names.add('evidence');
    }
  }
  return SHARED_CLAIM_NAMES.filter((n) => names.has(n));
}

/**
 * The names a signed statement's 提供する情報 block lists, in its order (one indented
 * `ja / en` line each); throws on a line that is no claim's label or a statement without the block.
 */
export function statementNames(statement: string): SharedClaim[] {
  const lines = statement.split('\n');
  const start = lines.indexOf('提供する情報 / shared:');
  if (start < 0) throw new Error(`the statement has no 提供する情報 block:\n${statement}`);
  const names: SharedClaim[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    const name = SHARED_CLAIM_NAMES.find((n) => `  ${CLAIM_LABELS[n].ja} / ${CLAIM_LABELS[n].en}` === line);
    if (!name) throw new Error(`a statement line of no claim: ${line}`);
    names.push(name);
  }
  return names;
}

/** The payload of a JWT (an ID token), unverified: the test reads what the RP was sent. */
export const jwtPayload = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
