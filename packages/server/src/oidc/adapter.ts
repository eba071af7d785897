// oidc-provider's storage adapter on Kakunin's database, so that sessions, interactions, codes and
// grants are shared by every server process. Clients come from the relying-party registry.

import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/sql.js';
import { clientMetadata, findRelyingParty } from '../relying-parties.js';
import { PRE_AUTHORIZED_GRANT, WALLET_CLIENT_ID } from '../credentials/domain.js';

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

/** `clientSecret`: the per-process secret oidc-provider is to compare (see client-auth.ts). */
export function adapterFactory(db: Database, clientSecret: (clientId: string) => string): (model: string) => Adapter {
  return (model: string) => new DatabaseAdapter(db, model, clientSecret);
}

class DatabaseAdapter implements Adapter {
  private readonly db: Database;
  private readonly model: string;
  private readonly clientSecret: (clientId: string) => string;
  constructor(db: Database, model: string, clientSecret: (clientId: string) => string) {
    this.db = db;
    this.model = model;
    this.clientSecret = clientSecret;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.db.query(
      `INSERT INTO oidc_store (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [
        this.model,
        id,
        payload as Record<string, unknown>,
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresAt,
      ],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.model === 'Client') {
      const rp = await findRelyingParty(this.db, id);
      if (!rp || rp.disabledAt) return undefined;
      if (rp.clientId === WALLET_CLIENT_ID) {
        // The platform's wallet client is public (no secret: PKCE) and native (a loopback redirect on any port).
        const { client_secret: _secret, ...metadata } = clientMetadata(rp, '');
        return {
          ...metadata,
          application_type: 'native',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', PRE_AUTHORIZED_GRANT],
        } as AdapterPayload;
      }
      return clientMetadata(rp, this.clientSecret(rp.clientId)) as AdapterPayload;
    }
    return this.findWhere('id = $2', id);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findWhere('user_code = $2', userCode);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findWhere('uid = $2', uid);
  }

  async consume(id: string): Promise<void> {
    await this.db.query('UPDATE oidc_store SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_store WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_store WHERE grant_id = $1', [grantId]);
  }

  private async findWhere(where: string, value: string): Promise<AdapterPayload | undefined> {
    const [row] = await this.db.query<Row>(
      `SELECT payload, consumed_at FROM oidc_store WHERE model = $1 AND ${where} AND (expires_at IS NULL OR expires_at > now())`,
      [this.model, value],
    );
    if (!row) return undefined;
    // consumed is what oidc-provider checks for code reuse (and then revokes the grant).
    return row.consumed_at
      ? { ...row.payload, consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) }
      : row.payload;
  }
}
