// Sandbox mode: the simulated J-LIS plays J-LIS. The caller hands it in (StartOptions.simulatedJlis:
// `kakunin serve --sandbox` passes @kakunin/sim's startSimulatedJlis), so this package never loads
// the simulator: a production process has none of it. Its roots are trusted next to the real ones,
// and the real OCSP and linkage clients talk to its services over HTTP. The simulator's CRL of each
// root is a CRL source too, so the refresher runs in the sandbox as in production (as the fallback:
// OCSP stays the first check).

import {
  LinkageClient,
  RevocationPolicy,
  TrustStore,
  httpJsonFetcher,
  httpOcspFetcher,
  type RevocationChecker,
} from '@kakunin/jpki';
// Types only (erased): the simulator itself comes from the caller.
import type { Sandbox, SimulatedJlis } from '@kakunin/sim';
import { DEFAULTS, type CrlSourceConfig, type OcspConfig } from './config.js';
import type { UsageMeter } from './usage.js';
import { JpkiVerifier, configuredOcspClient } from './verifier.js';

export type { SimulatedJlis, SimulatedJlisOptions, StartSimulatedJlis } from '@kakunin/sim';

/** The simulated J-LIS and the verifier that trusts it. */
export interface SandboxJlis extends SimulatedJlis {
  readonly verifier: JpkiVerifier;
}

/** The simulator's full CRL of each root, served at `<services>/crl/<root id>.crl`. */
export function sandboxCrlSources(sandbox: Sandbox, servicesUrl: string): CrlSourceConfig[] {
  return sandbox.roots().map((r) => ({ url: `${servicesUrl}/crl/${r.id}.crl`, issuer: r.id }));
}

/**
 * The verifier of sandbox mode over a running simulated J-LIS. `crl`, when given, makes the CRL
 * checker of the simulator's CRL sources (the server's refresher); it answers when OCSP cannot.
 */
export function sandboxJlis(
  jlis: SimulatedJlis,
  ocsp: OcspConfig = DEFAULTS.ocsp,
  crl?: (trustStore: TrustStore, sources: CrlSourceConfig[]) => RevocationChecker | undefined,
  meter?: UsageMeter,
): SandboxJlis {
  const { sandbox, url } = jlis;
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
  return { ...jlis, verifier };
}
