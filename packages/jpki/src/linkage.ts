// Linkage client (証明書新旧紐付け / 証明書紐付け): follows renewal links to the newest certificate.
// The wire format is Kakunin's own (J-LIS's interface is not public): docs/simulator-services.md.

import { RevocationUnavailable } from './errors.js';

export interface LinkedCertificate {
  readonly serial: string;
  readonly issuerId: string;
}

export interface LatestCertificate extends LinkedCertificate {
  readonly kind: string;
  readonly medium: string;
  readonly revoked: boolean;
  /** DER, when the service returns it. */
  readonly certificate?: Buffer;
}

export interface LinkageAnswer {
  /** The serial asked about. */
  readonly serial: string;
  readonly latest: LatestCertificate;
  /** Old → new, starting with the serial asked about. */
  readonly chain: readonly LinkedCertificate[];
}

/** GETs a URL and returns the status and parsed JSON body (throw on transport errors). */
export type JsonFetcher = (url: string) => Promise<{ status: number; body: unknown }>;

export function httpJsonFetcher(timeoutMs = 5000): JsonFetcher {
  return async (url) => {
    const res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  };
}

export class UnknownLinkedCertificate extends Error {
  readonly code = 'UNKNOWN_CERTIFICATE';
  constructor(serial: string) {
    super(`the linkage service does not know certificate ${serial}`);
    this.name = 'UnknownLinkedCertificate';
  }
}

/** 証明書紐付け: the authentication and signing certificates that now belong together (either may be absent). */
export interface CertificatePair {
  readonly auth: LinkedCertificate | null;
  readonly sign: LinkedCertificate | null;
}

export class LinkageClient {
  private readonly baseUrl: string;
  private readonly fetcher: JsonFetcher;
  constructor(baseUrl: string, fetcher: JsonFetcher = httpJsonFetcher()) {
    this.baseUrl = baseUrl;
    this.fetcher = fetcher;
  }

  /** The newest certificate in the renewal chain of `serial` (optionally of one issuer). */
  async latest(serial: string, issuer?: string): Promise<LinkageAnswer> {
    const url = new URL('linkage/latest', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    url.searchParams.set('serial', serial);
    if (issuer) url.searchParams.set('issuer', issuer);
    let res: { status: number; body: unknown };
    try {
      res = await this.fetcher(url.toString());
    } catch (e) {
      throw new RevocationUnavailable(`the linkage service ${url.origin} did not answer: ${(e as Error).message}`);
    }
    if (res.status === 404) throw new UnknownLinkedCertificate(serial);
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null) {
      throw new RevocationUnavailable(`the linkage service answered HTTP ${res.status}`);
    }
    const body = res.body as { serial?: unknown; latest?: Record<string, unknown>; chain?: unknown };
    const latest = body.latest;
    if (!latest || typeof latest.serial !== 'string' || !Array.isArray(body.chain))
      throw new RevocationUnavailable('the linkage service sent an answer of the wrong shape');
    return {
      serial: String(body.serial ?? serial),
      latest: {
        serial: latest.serial,
        issuerId: String(latest.issuerId ?? ''),
        kind: String(latest.kind ?? ''),
        medium: String(latest.medium ?? ''),
        revoked: latest.revoked === true,
        ...(typeof latest.certificate === 'string' ? { certificate: Buffer.from(latest.certificate, 'base64') } : {}),
      },
      chain: (body.chain as { serial?: unknown; issuerId?: unknown }[]).map((c) => ({
        serial: String(c.serial),
        issuerId: String(c.issuerId ?? ''),
      })),
    };
  }

  /** The auth ↔ sign pairing that now holds for the holder of `serial`. */
  async pair(serial: string): Promise<CertificatePair> {
    const url = new URL('linkage/pair', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    url.searchParams.set('serial', serial);
    let res: { status: number; body: unknown };
    try {
      res = await this.fetcher(url.toString());
    } catch (e) {
      throw new RevocationUnavailable(`the linkage service ${url.origin} did not answer: ${(e as Error).message}`);
    }
    if (res.status === 404) throw new UnknownLinkedCertificate(serial);
    if (res.status !== 200 || typeof res.body !== 'object' || res.body === null)
      throw new RevocationUnavailable(`the linkage service answered HTTP ${res.status}`);
    const body = res.body as {
      auth?: { serial?: unknown; issuerId?: unknown } | null;
      sign?: { serial?: unknown; issuerId?: unknown } | null;
    };
    const one = (c: { serial?: unknown; issuerId?: unknown } | null | undefined): LinkedCertificate | null =>
      c && typeof c.serial === 'string' ? { serial: c.serial, issuerId: String(c.issuerId ?? '') } : null;
    return { auth: one(body.auth), sign: one(body.sign) };
  }
}
