// Sandbox mode: the simulated J-LIS (DATA_DIR/sim) plays J-LIS. Its roots are trusted next to the
// real ones, its OCSP responder and linkage API run in this process on a free loopback port (or in
// another process, `kakunin sim serve`, given its URL), and the real OCSP and linkage clients talk
// to them over HTTP. The simulator's CRL of each root is a CRL source too, so the refresher runs
// in the sandbox as in production (as the fallback: OCSP stays the first check).

import { existsSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import {
  LinkageClient,
  RevocationPolicy,
  TrustStore,
  httpJsonFetcher,
  httpOcspFetcher,
  type RevocationChecker,
} from '@kakunin/jpki';
import { initSandbox, openSandbox, startSimServices, type Sandbox, type SimServices } from '@kakunin/sim';
import { DEFAULTS, type CrlSourceConfig, type OcspConfig } from './config.js';
import type { UsageMeter } from './usage.js';
import { JpkiVerifier, configuredOcspClient } from './verifier.js';

export interface SandboxJlis {
  sandbox: Sandbox;
  /** The services of this process; undefined when another process serves them. */
  services: SimServices | undefined;
  verifier: JpkiVerifier;
  /**
   * Calls `listener` when the simulator's state changes (a life event, from this process or from
   * `kakunin sim event` in another), with a token naming the change (state.json's mtime): the same
   * in every process watching the same directory.
   */
  onChange(listener: (token: string) => void): () => void;
  /** The token of the state as it is now (what onChange would pass). */
  changeToken(): string;
  close(): Promise<void>;
}

/** The simulator's full CRL of each root, served at `<services>/crl/<root id>.crl`. */
export function sandboxCrlSources(sandbox: Sandbox, servicesUrl: string): CrlSourceConfig[] {
  return sandbox.roots().map((r) => ({ url: `${servicesUrl}/crl/${r.id}.crl`, issuer: r.id }));
}

/**
 * `crl`, when given, makes the CRL checker of the simulator's CRL sources (the server's refresher);
 * it answers when OCSP cannot.
 */
export async function startSandboxJlis(
  dir: string,
  onProgress?: (line: string) => void,
  servicesUrl?: string,
  ocsp: OcspConfig = DEFAULTS.ocsp,
  crl?: (trustStore: TrustStore, sources: CrlSourceConfig[]) => RevocationChecker | undefined,
  meter?: UsageMeter,
): Promise<SandboxJlis> {
  let sandbox: Sandbox;
  if (existsSync(join(dir, 'state.json'))) {
    sandbox = openSandbox(dir);
  } else {
    onProgress?.(`creating the simulated J-LIS in ${dir} (roots, residents, cards; a few seconds)…`);
    sandbox = await initSandbox({ dir });
  }
  const services = servicesUrl ? undefined : await startSimServices({ sandbox });
  const url = servicesUrl?.replace(/\/+$/, '') ?? services!.url;
  const trustStore = TrustStore.jlis();
  for (const root of sandbox.roots()) trustStore.add(root.der, { label: root.id, medium: root.medium });
  const ocspFetcher = httpOcspFetcher(ocsp.timeoutMs);
  const ocspClient = configuredOcspClient({
    ocsp,
    fallbackUrl: `${url}/ocsp`,
    trustStore,
    fetcher: meter ? meter.ocspFetcher(ocspFetcher) : ocspFetcher,
  });
  const crlChecker = crl?.(trustStore, sandboxCrlSources(sandbox, url));
  const verifier = new JpkiVerifier({
    mode: 'sandbox',
    trustStore,
    revocation: crlChecker
      ? new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: ocspClient, crl: crlChecker })
      : ocspClient,
    linkage: new LinkageClient(url, meter ? meter.jsonFetcher(httpJsonFetcher()) : undefined),
  });
  const watchers = new Set<ReturnType<typeof watch>>();
  const changeToken = (): string => String(statSync(join(sandbox.dir, 'state.json')).mtimeMs);
  const onChange = (listener: (token: string) => void): (() => void) => {
    let timer: NodeJS.Timeout | undefined;
    // state.json is replaced by a rename: watch the directory, and wait for the writes to settle.
    const watcher = watch(sandbox.dir, (_event, file) => {
      if (file !== 'state.json') return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          listener(changeToken());
        } catch {
          // Mid-rename: the next event follows.
        }
      }, 100);
    });
    watcher.unref();
    watchers.add(watcher);
    return () => {
      clearTimeout(timer);
      watcher.close();
      watchers.delete(watcher);
    };
  };
  return {
    sandbox,
    services,
    verifier,
    onChange,
    changeToken,
    close: async () => {
      for (const w of watchers) w.close();
      await services?.close();
    },
  };
}
