// The simulated J-LIS as one running thing: the sandbox (DATA_DIR/sim, created on first use), its
// OCSP responder, CRLs and linkage API on a free loopback port (or in another process, `kakunin sim
// serve`, given its URL), and a watch on its state. The platform takes it from its caller in
// sandbox mode (`kakunin serve --sandbox` hands it `startSimulatedJlis`), so a production server
// never loads this package.

import { existsSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { isSimError, type SimError } from './errors.js';
import { certificateStatus, initSandbox, openSandbox, type CertificateStatus, type Sandbox } from './sandbox.js';
import { startSimServices, type SimServices } from './services/index.js';
import type { CertificateRecord } from './state.js';
import { municipalityOfAddress } from './municipalities.js';

export interface SimulatedJlisOptions {
  /** The sandbox directory; created (roots, residents, cards) when it holds none yet. */
  dir: string;
  /** Services already served by another process (`kakunin sim serve`): use them, start none here. */
  servicesUrl?: string;
  /** Progress lines for slow steps (first sandbox creation). */
  onProgress?: (line: string) => void;
}

export interface SimulatedJlis {
  readonly sandbox: Sandbox;
  /** The services of this process; undefined when another process serves them. */
  readonly services: SimServices | undefined;
  /** Base URL of the OCSP responder (`/ocsp`), CRLs (`/crl/<root id>.crl`) and linkage API (no trailing slash). */
  readonly url: string;
  /**
   * Calls `listener` when the simulator's state changes (a life event, from this process or from
   * `kakunin sim event` in another), with a token naming the change (state.json's mtime): the same
   * in every process watching the same directory.
   */
  onChange(listener: (token: string) => void): () => void;
  /** The token of the state as it is now (what onChange would pass). */
  changeToken(): string;
  /** The 5-digit code of the simulated municipality an address is in (the digital ID credential's). */
  municipalityCode(address: string): string | undefined;
  /** A certificate's status now (the admin console's simulator page). */
  certificateStatus(record: CertificateRecord): CertificateStatus;
  /** Whether `e` is the simulator refusing a change (unknown person, invalid event…), not a fault. */
  isSimError(e: unknown): e is SimError;
  close(): Promise<void>;
}

export type StartSimulatedJlis = (options: SimulatedJlisOptions) => Promise<SimulatedJlis>;

export const startSimulatedJlis: StartSimulatedJlis = async ({ dir, servicesUrl, onProgress }) => {
  let sandbox: Sandbox;
  if (existsSync(join(dir, 'state.json'))) {
    sandbox = openSandbox(dir);
  } else {
    onProgress?.(`creating the simulated J-LIS in ${dir} (roots, residents, cards; a few seconds)…`);
    sandbox = await initSandbox({ dir });
  }
  const services = servicesUrl ? undefined : await startSimServices({ sandbox });
  const url = servicesUrl?.replace(/\/+$/, '') ?? services!.url;
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
    url,
    onChange,
    changeToken,
    certificateStatus: (record) => certificateStatus(record),
    municipalityCode: (address) => municipalityOfAddress(address)?.code,
    isSimError,
    close: async () => {
      for (const w of watchers) w.close();
      await services?.close();
    },
  };
};
