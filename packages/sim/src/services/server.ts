// HTTP server of the simulated J-LIS on 127.0.0.1: OCSP, CRLs, linkage. See docs/simulator-services.md.

import { statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../sandbox.js';
import { distributionPointText, distributionPointsOf, sandboxCrl } from './crl.js';
import { certificatePair, latestCertificate } from './linkage.js';
import { OCSP_MALFORMED, OcspResponder } from './ocsp.js';

export interface SimServicesOptions {
  sandbox: Sandbox;
  /** Default 0 (a free port). */
  port?: number;
  host?: string;
  /** Called once per request, e.g. to log it. */
  onRequest?: (line: string) => void;
  /** The time CRLs are issued at (thisUpdate); tests move it forward to see a newer CRL published. */
  clock?: () => Date;
}

export interface SimServices {
  readonly url: string;
  readonly ocsp: OcspResponder;
  /** Requests answered so far, by service (what a J-LIS bill would count): tests reconcile usage with it. */
  readonly served: { ocsp: number; crl: number; linkage: number };
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const CRL_TTL_MS = 5_000;

export async function startSimServices(o: SimServicesOptions): Promise<SimServices> {
  const { sandbox } = o;
  const ocsp = await OcspResponder.open(sandbox);
  // Life events applied by another process rewrite state.json: re-read it only when it changed.
  let seen = -1;
  const refresh = (): void => {
    const mtime = statSync(join(sandbox.dir, 'state.json')).mtimeMs;
    if (mtime !== seen) {
      seen = mtime;
      sandbox.reload();
      ocsp.invalidate(); // also when this process applied the event itself (reload() then has nothing new)
    }
  };
  const crlCache = new Map<string, { der: Buffer; at: number; revision: number; thisUpdate: number }>();
  const served = { ocsp: 0, crl: 0, linkage: 0 };
  const clock = o.clock ?? (() => new Date());

  const crlOf = (issuerId: string, municipalityCode?: string): Buffer => {
    refresh();
    const key = `${issuerId}/${municipalityCode ?? ''}`;
    const hit = crlCache.get(key);
    const now = clock();
    if (hit && hit.revision === sandbox.revision && now.getTime() - hit.at >= 0 && now.getTime() - hit.at < CRL_TTL_MS)
      return hit.der;
    // A CRL published after a change is always newer than the one before, even within the same second.
    const thisUpdate = new Date(
      Math.max(
        Math.floor(now.getTime() / 1000) * 1000,
        hit && hit.revision !== sandbox.revision ? hit.thisUpdate + 1000 : 0,
      ),
    );
    const der = sandboxCrl(sandbox, issuerId, { thisUpdate, ...(municipalityCode ? { municipalityCode } : {}) });
    crlCache.set(key, { der, at: now.getTime(), revision: sandbox.revision, thisUpdate: thisUpdate.getTime() });
    return der;
  };

  const send = (res: ServerResponse, status: number, type: string, body: Buffer | string): void => {
    res.writeHead(status, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown): void =>
    send(res, status, 'application/json', JSON.stringify(body));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/ocsp' || path === '/ocsp/' || path.startsWith('/ocsp/')) {
      let request: Buffer;
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > MAX_BODY) return send(res, 413, 'application/ocsp-response', OCSP_MALFORMED);
          chunks.push(chunk as Buffer);
        }
        request = Buffer.concat(chunks);
      } else if (req.method === 'GET') {
        request = Buffer.from(decodeURIComponent(path.slice('/ocsp/'.length)), 'base64');
      } else {
        return json(res, 405, { error: 'method_not_allowed' });
      }
      refresh();
      served.ocsp++;
      return send(res, 200, 'application/ocsp-response', ocsp.respond(request));
    }
    if (req.method !== 'GET') return json(res, 405, { error: 'method_not_allowed' });
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/crl/index.json') {
      const base = `http://${req.headers.host ?? 'localhost'}`;
      return json(
        res,
        200,
        sandbox.roots().flatMap((r) => [
          {
            issuerId: r.id,
            kind: r.kind,
            medium: r.medium,
            generation: r.generation,
            distributionPoint: null,
            url: `${base}/crl/${r.id}.crl`,
          },
          ...distributionPointsOf(sandbox, r.id).map((code) => ({
            issuerId: r.id,
            kind: r.kind,
            medium: r.medium,
            generation: r.generation,
            distributionPoint: distributionPointText(sandbox, r.id, code),
            url: `${base}/crl/${r.id}/${code}.crl`,
          })),
        ]),
      );
    }
    const crl = /^\/crl\/([A-Za-z0-9-]+)(?:\/(\d{5}))?\.crl$/.exec(path);
    if (crl) {
      if (!sandbox.roots().some((r) => r.id === crl[1]))
        return json(res, 404, { error: 'unknown_issuer', issuerId: crl[1] });
      if (crl[2] && !distributionPointsOf(sandbox, crl[1]!).includes(crl[2]))
        return json(res, 404, { error: 'unknown_distribution_point', municipalityCode: crl[2] });
      served.crl++;
      return send(res, 200, 'application/pkix-crl', crlOf(crl[1]!, crl[2]));
    }
    if (path === '/linkage/latest' || path === '/linkage/pair') {
      const serial = url.searchParams.get('serial') ?? '';
      if (!/^[0-9A-Fa-f]{1,40}$/.test(serial))
        return json(res, 400, { error: 'invalid_serial', message: 'serial must be hex' });
      refresh();
      served.linkage++;
      const answer =
        path === '/linkage/latest'
          ? latestCertificate(sandbox, serial, url.searchParams.get('issuer') ?? undefined)
          : certificatePair(sandbox, serial);
      return answer ? json(res, 200, answer) : json(res, 404, { error: 'unknown_certificate', serial });
    }
    return json(res, 404, { error: 'not_found', path });
  }

  const server = createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () =>
      o.onRequest?.(`${req.method} ${req.url?.slice(0, 80)} ${res.statusCode} ${Date.now() - started}ms`),
    );
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'internal_error', message: (e as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    ocsp,
    served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
