// First step of `npm test`: checks that this machine has what the tests use beyond the npm packages,
// and stops at once with the exact command that installs it instead of failing minutes later in
// some test. Plain JavaScript with no dependencies, so it runs before (and without) `npm ci`.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';

const SETUP = 'sudo bash scripts/setup-test-env.sh';
const missing = [];

const major = Number(process.versions.node.split('.')[0]);
if (!existsSync('node_modules/.bin/tsx')) {
  missing.push({ what: 'the npm packages (node_modules)', fix: 'npm ci' });
} else if (major !== 24 && existsSync('node_modules/.bin/node')) {
  missing.push({
    what: `Node.js 24 (this is ${process.version}): start the tests with \`npm test\`, which puts node_modules/.bin/node (Node.js 24) first on PATH`,
  });
} else if (major !== 24) {
  missing.push({
    what: `Node.js 24 (this is ${process.version}; the node-linux-* package was not installed for this platform)`,
    fix: 'npm ci, or install Node.js 24',
  });
}

const has = (...paths) => paths.some((p) => existsSync(p));
const anyIn = (dir, pattern) => existsSync(dir) && readdirSync(dir).some((f) => pattern.test(f));
if (!has('/usr/sbin/pcscd', '/usr/bin/pcscd'))
  missing.push({ what: 'pcscd (the PC/SC tests run a real one)', fix: SETUP });
if (!anyIn('/usr/lib/pcsc/drivers/serial', /^libifdvpcd\.so/))
  missing.push({ what: 'vsmartcard-vpcd (the virtual reader)', fix: SETUP });
if (!has('/usr/bin/chromium')) missing.push({ what: "Debian's chromium (the browser tests)", fix: SETUP });
if (!has('/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf', '/usr/share/fonts/truetype/fonts-japanese-gothic.ttf')) {
  missing.push({ what: 'a Japanese font (fonts-ipafont-gothic) for the browser tests', fix: SETUP });
}
if (!existsSync('/usr/bin/openssl')) missing.push({ what: 'openssl (tests compare results with it)', fix: SETUP });
if (
  !existsSync('/usr/lib/postgresql') ||
  !readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
) {
  missing.push({ what: "PostgreSQL's server binaries (the fault tests run a private cluster)", fix: SETUP });
}
if (existsSync('node_modules')) {
  try {
    createRequire(`${process.cwd()}/packages/card/`)('smartcard');
  } catch {
    missing.push({ what: 'the smartcard PC/SC binding (built only where libpcsclite-dev was installed)', fix: SETUP });
  }
}

const pgUrl = new URL(process.env.KAKUNIN_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const reachable = await new Promise((resolve) => {
  const socket = connect({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  const done = (ok) => {
    socket.destroy();
    resolve(ok);
  };
  socket.setTimeout(2000, () => done(false));
  socket.once('connect', () => done(true));
  socket.once('error', () => done(false));
});
if (!reachable)
  missing.push({ what: `PostgreSQL at ${pgUrl.host} (set KAKUNIN_TEST_POSTGRES to use another)`, fix: SETUP });

if (missing.length) {
  process.stderr.write(
    `npm test cannot run on this machine yet; missing:\n${missing.map((m) => `  - ${m.what}`).join('\n')}\n`,
  );
  const fixes = [...new Set(missing.flatMap((m) => (m.fix ? [m.fix] : [])))];
  if (fixes.length)
    process.stderr.write(`Run ${fixes.map((f) => `\`${f}\``).join(', then ')}, then \`npm test\` again.\n`);
  process.exit(1);
}
process.stdout.write(`test environment: Node.js ${process.version}, PC/SC, Chromium, PostgreSQL at ${pgUrl.host}\n`);
