// Sandbox mode: the simulated J-LIS (DATA_DIR/sim) plays J-LIS. Its roots are trusted next to the
// real ones, its OCSP responder and linkage API run in this process on a free loopback port (or in
// another process, `kakunin sim serve`, given its URL), and the real OCSP and linkage clients talk
// to them over HTTP. The simulator's CRL of each root is a CRL source too, so the refresher runs
// in the sandbox as in production (as the fallback: OCSP stays the first check).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LinkageClient, RevocationPolicy, TrustStore, type RevocationChecker } from '@kakunin/jpki';
import { initSandbox, openSandbox, startSimServices, type Sandbox, type SimServices } from '@kakunin/sim';
import { DEFAULTS, type CrlSourceConfig, type OcspConfig } from './config.js';
import { JpkiVerifier, configuredOcspClient } from './verifier.js';

export interface SandboxJlis {
  sandbox: Sandbox;
  /** The services of this process; undefined when another process serves them. */
  services: SimServices | undefined;
  verifier: JpkiVerifier;
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
  const ocspClient = configuredOcspClient({ ocsp, fallbackUrl: `${url}/ocsp`, trustStore });
  const crlChecker = crl?.(trustStore, sandboxCrlSources(sandbox, url));
  const verifier = new JpkiVerifier({
    mode: 'sandbox',
    trustStore,
    revocation: crlChecker ? new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp: ocspClient, crl: crlChecker }) : ocspClient,
    linkage: new LinkageClient(url),
  });
  return { sandbox, services, verifier, close: async () => services?.close() };
}
