// A life event reaches the demos by itself, as a newcomer meets it with `npm start` running: the
// holder opens a wallet, then `kakunin sim event --person … move` (the real command, in its own
// process) revokes the signing certificate at the simulated J-LIS. Nobody runs the monitor: the
// platform sees the simulator's change, fetches its new CRL, finds the watched certificate in it and
// sends the signed webhook; the wallet is frozen within 10 s.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WALLET_RP, startWallet } from '../wallet/index.js';
import {
  attr,
  eventually,
  residents,
  startDemo,
  startPlatform,
  Visitor,
  type Harness,
  type RunningTestDemo,
} from './support.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/kakunin.js', import.meta.url));

let h: Harness;
let wallet: RunningTestDemo;
beforeAll(async () => {
  h = await startPlatform();
  wallet = await startDemo(h, WALLET_RP, startWallet);
}, 120_000);
afterAll(async () => {
  await wallet?.close();
  await h?.close();
});

it("`kakunin sim event --person … move` freezes the holder's wallet within 10 s, with no monitor run and no restart", async () => {
  const [person] = residents(h.p, 'fukui') as [string];
  const v = new Visitor(h);
  const home = await v.go(wallet.demo.url);
  const landed = await v.ceremony(await v.submit(home, 'create-wallet-form'), person, 'sign');
  expect(attr(landed.body, 'wallet-status', 'data-status')).toBe('active');

  const moved = spawnSync(
    process.execPath,
    [BIN, 'sim', 'event', '--person', person, 'move', '--municipality-code', '18207', '--dir', h.p.sandbox.dir],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(moved.status, moved.stderr).toBe(0);
  const at = Date.now();
  await eventually(
    `the wallet of ${person} to be frozen`,
    async () =>
      attr((await v.go(`${wallet.demo.url}/wallet`)).body, 'wallet-status', 'data-status') === 'frozen'
        ? true
        : undefined,
    10_000,
  );
  expect(Date.now() - at).toBeLessThan(10_000);
}, 120_000);
