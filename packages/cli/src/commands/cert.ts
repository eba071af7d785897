// `kakunin cert inspect|verify`: read and check a JPKI certificate file.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  CrlChecker,
  CrlIndex,
  crlDer,
  LinkageClient,
  OcspClient,
  assertNotRevoked,
  describeKeyUsage,
  httpOcspFetcher,
  isJpkiError,
  parseCertificate,
  validate,
  type JpkiCertificate,
  type RevocationChecker,
  type RevocationStatus,
  type TrustStore,
  type ValidationMode,
  type X509Certificate,
} from '@kakunin/jpki';
import { CliError, EXIT, choice, parseDateOption, printJson } from '../output.js';
import { trustStoreWith } from '../trust-files.js';
import { isSimError, latestCertificate, openSandbox } from '@kakunin/sim';

const KIND_LABEL = {
  auth: 'auth (利用者証明用電子証明書)',
  sign: 'sign (署名用電子証明書)',
  unknown: 'unknown (not a JPKI profile)',
};

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readCertificate(file: string): JpkiCertificate {
  return parseCertificate(readFile(file));
}

const REVOCATION_MODES = ['ocsp', 'crl', 'none'] as const;

interface RevocationOptions {
  revocation?: string;
  ocspUrl?: string;
  crl?: string[];
}

/** The revocation checker the options ask for (CRLs are loaded and verified against the issuing anchor). */
function revocationChecker(o: RevocationOptions, issuer: X509Certificate, at: Date): RevocationChecker | undefined {
  const mode = o.revocation
    ? choice(o.revocation, REVOCATION_MODES, '--revocation')
    : o.crl?.length
      ? 'crl'
      : o.ocspUrl
        ? 'ocsp'
        : 'none';
  if (mode === 'none') return undefined;
  if (mode === 'ocsp') return new OcspClient({ fetcher: httpOcspFetcher(), ...(o.ocspUrl ? { url: o.ocspUrl } : {}) });
  if (!o.crl?.length) throw new CliError('--revocation crl needs --crl FILE (the CRL of the issuing CA, DER or PEM)');
  return new CrlChecker(o.crl.map((file) => CrlIndex.load(crlDer(readFile(file)), { issuer, at })));
}

function describeRevocation(s: RevocationStatus | undefined): string {
  if (!s) return 'revocation not checked';
  const fresh = s.nextUpdate ? `, fresh until ${s.nextUpdate.toISOString()}` : '';
  return `not revoked (${s.source}, thisUpdate ${s.thisUpdate?.toISOString() ?? 'unknown'}${fresh})`;
}

/** Generation of the issuing root: the trust store's label when the AKI names an anchor, else the J-LIS table. */
function generationOf(
  cert: JpkiCertificate,
  store: TrustStore,
): { label?: string; akiSerial?: string; akiKeyId?: string } {
  const anchor = cert.x509.isSelfIssued ? store.exact(cert) : store.namedByAki(cert);
  return { ...cert.issuerGeneration, label: anchor?.label ?? cert.issuerGeneration.label };
}

export function describe(cert: JpkiCertificate, store: TrustStore): Record<string, unknown> {
  const x = cert.x509;
  return {
    kind: cert.kind,
    isCA: cert.isCA,
    environment: cert.environment,
    medium: cert.medium,
    serial: x.serial,
    subject: x.subject.text,
    issuer: x.issuer.text,
    issuerGeneration: generationOf(cert, store),
    notBefore: x.notBefore.toISOString(),
    notAfter: x.notAfter.toISOString(),
    policies: x.policies,
    keyUsage: describeKeyUsage(x.keyUsage),
    publicKey: { algorithm: 'RSA', bits: x.publicKey.modulusBits, exponent: x.publicKey.exponent },
    ocspUrls: x.ocspUrls,
    crlDistributionPoints: x.crlDistributionPoints.map((n) => (typeof n === 'string' ? n : n.text)),
    municipalityHint: cert.municipalityHint ?? null,
    basic4: cert.basic4 ?? null,
    sha256: x.fingerprintSha256,
  };
}

function printText(d: Record<string, unknown>, cert: JpkiCertificate): void {
  const gen = d.issuerGeneration as { label?: string; akiSerial?: string; akiKeyId?: string };
  const lines: [string, string][] = [
    ['kind', `${KIND_LABEL[cert.kind]}${cert.isCA ? ', root CA' : ''}`],
    ['environment', cert.environment],
    ['medium', cert.medium],
    ['serial', `${cert.serial} (hex)`],
    ['subject', String(d.subject)],
    ['issuer', String(d.issuer)],
    [
      cert.isCA ? 'generation' : 'issuer generation',
      `${gen.label ?? 'unknown'}${gen.akiSerial ? ` (${cert.isCA ? 'serial' : 'AKI serial'} ${gen.akiSerial})` : ''}`,
    ],
    ['valid', `${d.notBefore} → ${d.notAfter}`],
    ['policy', (d.policies as string[]).join(', ') || '(none)'],
    ['key usage', String(d.keyUsage)],
    ['public key', `RSA-${cert.x509.publicKey.modulusBits}`],
  ];
  if (cert.x509.ocspUrls.length) lines.push(['OCSP', cert.x509.ocspUrls.join(', ')]);
  for (const dp of d.crlDistributionPoints as string[]) lines.push(['CRL DP', dp]);
  if (cert.municipalityHint)
    lines.push(['municipality hint', `${cert.municipalityHint} (from the subject CN; opaque, a hint only)`]);
  const b = cert.basic4;
  if (b) {
    lines.push([
      'name (氏名)',
      `${b.name}${b.nameSubstitute.includes('1') ? `  [substitute flags ${b.nameSubstitute}]` : ''}`,
    ]);
    lines.push(['sex (性別)', `${b.sex} (${b.sexCode})`]);
    lines.push([
      'birth date (生年月日)',
      `${b.birthDate} (${b.era.nameJa}${b.era.year ? `${b.era.year === 1 ? '元' : b.era.year}年` : ''}, era ${b.era.code})`,
    ]);
    lines.push([
      'address (住所)',
      `${b.address}${b.addressSubstitute.includes('1') ? `  [substitute flags ${b.addressSubstitute}]` : ''}`,
    ]);
  }
  lines.push(['SHA-256', cert.x509.fingerprintSha256]);
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  process.stdout.write(lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n') + '\n');
}

export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('inspect and verify JPKI certificates');

  cert
    .command('inspect')
    .description('print the parsed certificate: kind, environment, serial, issuer generation, validity, basic 4 info')
    .argument('<file>', 'certificate file (DER or PEM)')
    .option('--json', 'print one JSON object')
    .option('--trust <dir>', 'extra trust anchors (PEM/DER files) used to name the issuer generation')
    .action((file: string, opts: { json?: boolean; trust?: string }) => {
      const store = trustStoreWith(opts.trust);
      const c = readCertificate(file);
      const d = describe(c, store);
      if (opts.json) printJson(d);
      else printText(d, c);
    });

  cert
    .command('verify')
    .description(
      'validate the certificate: issuer by AKI and signature, validity, key usage, policy, critical extensions',
    )
    .argument('<file>', 'certificate file (DER or PEM)')
    .option('--at <date>', 'check validity at this time (ISO 8601; default now)')
    .option(
      '--mode <mode>',
      'production (J-LIS roots and production policies only) or sandbox (default: production, or sandbox when --trust is given)',
    )
    .option('--trust <dir>', 'extra trust anchors (PEM/DER files), e.g. the simulator roots from `kakunin sim roots`')
    .option('--kind <kind>', 'require auth or sign')
    .option('--revocation <source>', 'also check revocation: ocsp, crl or none (default none)')
    .option('--ocsp-url <url>', 'OCSP responder (default: the AIA URL in the certificate)')
    .option('--crl <file>', 'CRL file of the issuing CA (DER or PEM; repeatable)', (v: string, acc: string[] = []) => [
      ...acc,
      v,
    ])
    .option('--json', 'print one JSON object')
    .action(
      async (
        file: string,
        opts: { at?: string; mode?: string; trust?: string; kind?: string; json?: boolean } & RevocationOptions,
      ) => {
        const at = opts.at ? parseDateOption(opts.at, '--at') : new Date();
        const mode: ValidationMode = opts.mode
          ? choice(opts.mode, ['production', 'sandbox'] as const, '--mode')
          : opts.trust
            ? 'sandbox'
            : 'production';
        const kind = opts.kind ? choice(opts.kind, ['auth', 'sign'] as const, '--kind') : undefined;
        const store = trustStoreWith(opts.trust);
        const c = readCertificate(file);
        const gen = generationOf(c, store);
        const summary = `${c.kind} certificate, ${c.environment}, serial ${c.serial}, issuer generation ${gen.label ?? 'unknown'}${gen.akiSerial ? ` (serial ${gen.akiSerial})` : ''}`;
        try {
          const r = validate(c, { at, mode, trustStore: store, acceptAnchor: true, ...(kind ? { kind } : {}) });
          const checker = r.isAnchor ? undefined : revocationChecker(opts, r.anchor.certificate.x509, at);
          const revocation = checker
            ? await assertNotRevoked(checker, c.x509, r.anchor.certificate.x509, at)
            : undefined;
          if (opts.json) {
            printJson({
              valid: true,
              mode,
              at: at.toISOString(),
              kind: r.kind,
              environment: r.environment,
              medium: r.medium,
              generation: r.generation,
              isAnchor: r.isAnchor,
              serial: c.serial,
              revocation: revocation ?? null,
            });
          } else {
            process.stdout.write(
              `OK: ${r.isAnchor ? 'trust anchor' : 'valid'} — ${r.kind} certificate, ${r.environment}, medium ${r.medium}, serial ${c.serial}, issued by ${r.generation}; ${describeRevocation(revocation)}; checked at ${at.toISOString()} in ${mode} mode\n`,
            );
          }
        } catch (e) {
          if (!isJpkiError(e)) throw e;
          if (opts.json)
            printJson({
              valid: false,
              mode,
              at: at.toISOString(),
              kind: c.kind,
              environment: c.environment,
              generation: gen.label ?? null,
              serial: c.serial,
              ...e.toJSON(),
            });
          else process.stdout.write(`FAILED: ${summary}\n`);
          process.stderr.write(`kakunin: error ${e.name} (${e.code}): ${e.message}\n`);
          process.exitCode = EXIT.failed;
        }
      },
    );

  cert
    .command('latest')
    .description("print the newest certificate's serial in the renewal chain (証明書新旧紐付け) of FILE")
    .argument('<file>', 'certificate file (DER or PEM)')
    .option('--dir <dir>', 'ask the simulator sandbox in DIR directly')
    .option('--linkage-url <url>', 'ask a linkage service (e.g. the URL `kakunin sim serve` prints)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, o: { dir?: string; linkageUrl?: string; json?: boolean }) => {
      if (!o.dir === !o.linkageUrl) throw new CliError('give exactly one of --dir DIR or --linkage-url URL');
      const c = readCertificate(file);
      let answer: {
        latest: { serial: string; issuerId: string; revoked: boolean };
        chain: readonly { serial: string }[];
      };
      if (o.dir) {
        let found;
        try {
          found = latestCertificate(openSandbox(o.dir), c.serial);
        } catch (e) {
          if (isSimError(e)) throw new CliError(`${e.name} (${e.code}): ${e.message}`, EXIT.failed);
          throw e;
        }
        if (!found)
          throw new CliError(`certificate ${c.serial} was not issued by the sandbox at ${o.dir}`, EXIT.failed);
        answer = found;
      } else {
        try {
          answer = await new LinkageClient(o.linkageUrl!).latest(c.serial);
        } catch (e) {
          if ((e as { code?: string }).code === 'UNKNOWN_CERTIFICATE')
            throw new CliError((e as Error).message, EXIT.failed);
          throw e;
        }
      }
      if (o.json)
        printJson({
          serial: c.serial,
          latest: answer.latest.serial,
          issuerId: answer.latest.issuerId,
          revoked: answer.latest.revoked,
          chain: answer.chain.map((x) => x.serial),
        });
      else process.stdout.write(`${answer.latest.serial}\n`);
    });
}
