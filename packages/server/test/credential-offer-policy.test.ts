// Who may make credential offers: an RP holding an offer's pre-authorized code could redeem it
// itself, so the operator names the RPs (credentialOfferClients); the sandbox allows every RP.

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { createOffer } from '../src/credentials/offers.js';
import { CredentialOffersNotAllowed } from '../src/errors.js';
import type { Queryable } from '../src/db/sql.js';

const noDatabase = {
  query: () => Promise.reject(new Error('the policy is checked before the database is asked')),
} as unknown as Queryable;

describe('credential offer policy', () => {
  it('reads credentialOfferClients from the environment (a list) and refuses a wrong type in the file', () => {
    expect(
      loadConfig({ mode: 'sandbox' }, { KAKUNIN_CREDENTIAL_OFFER_CLIENTS: 'city-portal, library' })
        .credentialOfferClients,
    ).toEqual(['city-portal', 'library']);
    expect(loadConfig({ mode: 'sandbox' }, {}).credentialOfferClients).toBeUndefined();
    expect(() => loadConfig({ mode: 'sandbox', credentialOfferClients: 5 as never }, {})).toThrow(ConfigError);
  });

  it('an RP not named is refused with CREDENTIAL_OFFERS_NOT_ALLOWED (403) before anything is looked up', async () => {
    const offer = (allowed: string[]) =>
      createOffer(noDatabase, {
        issuer: 'https://kakunin.example.jp',
        rpClientId: 'rp_bank',
        recordId: 'rec_1',
        allowed,
      });
    await expect(offer([])).rejects.toThrow(CredentialOffersNotAllowed);
    await expect(offer(['rp_city'])).rejects.toMatchObject({ code: 'CREDENTIAL_OFFERS_NOT_ALLOWED', status: 403 });
    // Named (or "*"): past the policy, to the database.
    await expect(offer(['rp_bank'])).rejects.toThrow('the policy is checked before the database is asked');
    await expect(offer(['*'])).rejects.toThrow('the policy is checked before the database is asked');
  });
});
