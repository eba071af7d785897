// The adversarial catalogue: every attack the platform must refuse, with the typed error it must be
// refused with. Each case is exactly one test in one of the files next to this one, named
// `<id> <name> → <expected>` (see `title`); catalogue.test.ts checks that the two agree.
//
// `expected` is the stable code of the refusal: a jpki / server error code (what the holder
// protocol answers in `error.code`), a card error code, an OAuth error (`invalid_grant`, …), a
// webhook check reason (`mismatch`, `stale`, `malformed`), or, for the injection cases where the
// ceremony itself is legitimate, the property that must hold (`ESCAPED`, `MASKED`, `VERBATIM`).
//
// `level`: `platform` cases run end to end against a real sandbox platform (holder protocol / OIDC /
// admin console) and end by asserting that no `verified` record exists for the attacked ceremony;
// `verifier` cases call @kakunin/jpki directly; `card` cases drive @kakunin/card over a transport
// answering crafted APDU responses; `unit` cases call the function an RP or the platform runs;
// `http` cases (platform level) assert on the HTTP answers and connections themselves.

export type Layer = 'certificates' | 'revocation' | 'ceremonies' | 'oidc' | 'card' | 'webhooks' | 'injection' | 'secrets' | 'http';
export type Level = 'platform' | 'verifier' | 'card' | 'unit';

export interface AdversarialCase {
  readonly id: string;
  readonly name: string;
  readonly threat: string;
  readonly expected: string;
  readonly layer: Layer;
  readonly level: Level;
}

const c = (id: string, layer: Layer, level: Level, name: string, expected: string, threat: string): AdversarialCase => ({ id, name, threat, expected, layer, level });

export const CATALOGUE: readonly AdversarialCase[] = [
  // ---- certificates -------------------------------------------------------------------------
  c('A01', 'certificates', 'platform', 'forged certificate signature (basic 4 info edited, CA signature kept)', 'BAD_SIGNATURE', 'a holder edits the name on a genuine signing certificate to be accepted as someone else'),
  c('A02', 'certificates', 'platform', 'look-alike CA: same issuer name and AKI, signed by another key', 'BAD_SIGNATURE', 'an attacker CA copies the J-LIS name and authority key identifier so that an issuer chosen by name would pass'),
  c('A03', 'certificates', 'platform', 'holder signature made by another card', 'BAD_SIGNATURE', 'a genuine certificate paired with a signature from a different person\'s card (signature transplant)'),
  c('A04', 'certificates', 'platform', 'holder signature over a statement the attacker edited', 'BAD_SIGNATURE', 'the card signs other bytes than the platform issued (purpose or RP swapped in the statement)'),
  c('A05', 'certificates', 'platform', 'simulator certificate presented to a production-mode platform', 'UNTRUSTED_ISSUER', 'a sandbox/simulator card used against a production deployment'),
  c('A06', 'certificates', 'platform', 'JPKI test-hierarchy (JPKI-TEST) certificate in production mode, its root wrongly trusted', 'UNTRUSTED_ISSUER', 'a J-LIS test card accepted in production because an operator added the test root'),
  c('A07', 'certificates', 'platform', 'authentication certificate where a signing certificate is required', 'WRONG_KIND', 'the 4-digit-PIN auth certificate (no basic 4 info, no nonRepudiation) used for an identity verification'),
  c('A08', 'certificates', 'platform', 'signing certificate where an authentication certificate is required', 'WRONG_KIND', 'a login answered with the signing key, mixing the two JPKI credentials'),
  c('A09', 'certificates', 'platform', 'expired signing certificate still on the card', 'EXPIRED', 'a holder keeps using a card whose certificate passed its 5th birthday'),
  c('A10', 'certificates', 'platform', 'signing certificate not yet valid', 'NOT_YET_VALID', 'a certificate dated in the future (pre-issued or clock-skewed)'),
  c('A11', 'certificates', 'platform', 'unknown root generation (AKI names no trusted generation)', 'UNKNOWN_ISSUER_GENERATION', 'a certificate claiming a J-LIS root generation the trust store does not hold'),
  c('A12', 'certificates', 'platform', 'oversized certificate through the holder protocol', 'MALFORMED_SUBMISSION', 'resource exhaustion with a 20 KiB "certificate"'),
  c('A13', 'certificates', 'verifier', 'oversized DER given to the verifier', 'MALFORMED', 'a well-formed but oversized DER object reaching the parser'),
  c('A14', 'certificates', 'platform', 'deeply nested DER (thousands of SEQUENCE levels)', 'MALFORMED', 'stack exhaustion in a recursive DER parser'),
  c('A15', 'certificates', 'verifier', 'DER length overflow (4- and 5-byte lengths past the end)', 'MALFORMED', 'integer overflow / out-of-bounds reads from a forged length field'),
  c('A16', 'certificates', 'verifier', 'BER instead of DER (indefinite and non-minimal lengths)', 'MALFORMED', 'parser differentials and signature malleability through non-canonical encodings'),

  // ---- revocation ---------------------------------------------------------------------------
  c('A17', 'revocation', 'platform', 'revoked after a move (affiliationChanged)', 'REVOKED', 'a holder keeps using the signing certificate of their old address (異動等失効)'),
  c('A18', 'revocation', 'platform', 'revoked after the card was reported lost (keyCompromise)', 'REVOKED', 'a finder of a lost card (or a thief with the PIN) uses it'),
  c('A19', 'revocation', 'platform', 'revoked by renewal (superseded)', 'REVOKED', 'the old certificate of a renewed card is used'),
  c('A20', 'revocation', 'platform', 'revoked with every other CRL reason (CRL source)', 'REVOKED', 'unspecified, cACompromise, cessationOfOperation, certificateHold, privilegeWithdrawn and aACompromise entries are not treated as good'),
  c('A21', 'revocation', 'platform', 'certificate unknown to the J-LIS responder', 'REVOCATION_UNAVAILABLE', 'a certificate the registry never issued (OCSP "unknown") must fail closed, not pass'),
  c('A22', 'revocation', 'platform', 'OCSP replay: a captured "good" answer replayed after revocation', 'OCSP_NONCE_MISMATCH', 'a network attacker replays the responder\'s old answer for a certificate revoked since'),
  c('A23', 'revocation', 'platform', 'pre-produced OCSP answer without nonce replayed after revocation', 'OCSP_NONCE_MISMATCH', 'a cached RFC 5019 response (no nonce) served after the certificate was revoked'),
  c('A24', 'revocation', 'platform', 'forged OCSP responder (self-made responder certificate)', 'BAD_SIGNATURE', 'a network attacker answers "good" with a responder certificate the CA never issued'),
  c('A25', 'revocation', 'platform', 'delegated OCSP responder certificate without id-kp-OCSPSigning', 'BAD_SIGNATURE', 'any certificate the CA issued (e.g. a holder\'s) used to sign OCSP answers'),
  c('A26', 'revocation', 'platform', 'OCSP answer for another certificate (CertID swapped in transit)', 'OCSP_CERT_ID_MISMATCH', 'a network attacker asks about a good certificate and returns that answer for a revoked one'),
  c('A27', 'revocation', 'platform', 'stale OCSP answer (past nextUpdate)', 'REVOCATION_UNAVAILABLE', 'an outdated answer from a stuck responder or cache'),
  c('A28', 'revocation', 'platform', 'stale CRL (loaded, then not refreshed past nextUpdate)', 'REVOCATION_UNAVAILABLE', 'a CRL mirror that stopped updating hides new revocations'),
  c('A29', 'revocation', 'verifier', 'CRL signed by a look-alike CA (same name, other key)', 'BAD_SIGNATURE', 'a forged CRL omitting revoked serials'),
  c('A30', 'revocation', 'platform', 'forged OCSP answer is not papered over by a fresh CRL', 'BAD_SIGNATURE', 'downgrade: forge OCSP so the platform falls back to a (stale-for-this-cert) CRL'),

  // ---- ceremonies ---------------------------------------------------------------------------
  c('A31', 'ceremonies', 'platform', 'nonce replay: a used answer posted to a fresh ceremony', 'NONCE_REPLAYED', 'an answer captured from one ceremony reused in another'),
  c('A32', 'ceremonies', 'platform', 'a second answer to a finished ceremony', 'CEREMONY_FINISHED', 'overwriting the outcome of a ceremony after the fact'),
  c('A33', 'ceremonies', 'platform', 'nonce of another ceremony of the same RP', 'NONCE_CEREMONY_MISMATCH', 'splicing: the victim signs ceremony X, the attacker posts it to ceremony Y'),
  c('A34', 'ceremonies', 'platform', 'nonce issued for another RP (cross-RP)', 'NONCE_AUDIENCE_MISMATCH', 'a signature collected by RP B used to verify at RP A'),
  c('A35', 'ceremonies', 'platform', 'a nonce the platform never issued', 'NONCE_UNKNOWN', 'a pre-computed or guessed challenge'),
  c('A36', 'ceremonies', 'platform', 'expired ceremony', 'CEREMONY_EXPIRED', 'an answer collected long ago (stockpiled signatures)'),
  c('A37', 'ceremonies', 'platform', 'expired nonce on a ceremony still open', 'NONCE_EXPIRED', 'the nonce lifetime is enforced on its own, not only through the ceremony'),
  c('A38', 'ceremonies', 'platform', 'ceremony fixation: the victim answers the attacker\'s holder link', 'BAD_REQUEST', 'an attacker starts an authorization and sends the holder link to the victim; the victim\'s browser must not be able to continue or consent without the interaction cookie (oidc-provider SessionNotFound, shown as BAD_REQUEST)'),
  c('A39', 'ceremonies', 'platform', 'guessed ceremony id', 'CEREMONY_NOT_FOUND', 'enumerating ceremony capabilities'),
  c('A40', 'ceremonies', 'platform', 'the same answer posted four times at once (race)', 'CEREMONY_FINISHED|NONCE_REPLAYED', 'double spending an answer through concurrent requests: exactly one counts'),

  // ---- OIDC ---------------------------------------------------------------------------------
  c('A41', 'oidc', 'platform', 'code injection: RP A\'s code redeemed by RP B', 'invalid_grant', 'a code leaked from one client redeemed by another'),
  c('A42', 'oidc', 'platform', 'stolen code redeemed with another session\'s PKCE verifier', 'invalid_grant', 'authorization code injection into the attacker\'s session at the same RP'),
  c('A43', 'oidc', 'platform', 'code reuse (the first tokens are revoked)', 'invalid_grant', 'replay of an intercepted, already redeemed code'),
  c('A44', 'oidc', 'platform', 'PKCE downgrade: code_challenge_method=plain', 'invalid_request', 'a plain challenge equals the verifier, so an observer of the request can redeem the code'),
  c('A45', 'oidc', 'platform', 'PKCE omitted', 'invalid_request', 'an authorization without code_challenge'),
  c('A46', 'oidc', 'platform', 'redirect URI with an extra path', 'invalid_redirect_uri', 'prefix matching would send the code to an attacker-controlled path'),
  c('A47', 'oidc', 'platform', 'redirect URI on a different port', 'invalid_redirect_uri', 'another service on the same host receives the code'),
  c('A48', 'oidc', 'platform', 'redirect URI with an added query', 'invalid_redirect_uri', 'open-redirect parameters appended to the registered URI'),
  c('A49', 'oidc', 'platform', 'redirect URI with a trailing slash', 'invalid_redirect_uri', 'normalisation differences between registration and request'),
  c('A50', 'oidc', 'platform', 'redirect URI with userinfo (http://127.0.0.1:9@evil/)', 'invalid_redirect_uri', 'a URL whose text starts like the registered one but whose host is the attacker\'s'),
  c('A51', 'oidc', 'platform', 'redirect URI with a fragment', 'invalid_redirect_uri', 'fragments are forbidden in redirect URIs (RFC 6749 §3.1.2)'),
  c('A52', 'oidc', 'platform', 'token request with another redirect_uri than the authorization', 'invalid_grant', 'a code obtained for one redirect URI redeemed while claiming another'),

  // ---- card ---------------------------------------------------------------------------------
  c('A53', 'card', 'card', 'APDU response truncation (shorter than its status word)', 'TRUNCATED_RESPONSE', 'a hostile reader or relay cuts responses'),
  c('A54', 'card', 'card', 'TLV length overflow in the certificate EF', 'TRUNCATED_RESPONSE', 'a length of 16 MiB declared by a 300-byte EF (reads past the end, huge allocation)'),
  c('A55', 'card', 'card', 'certificate EF cut short (card answers 6B00)', 'TRUNCATED_RESPONSE', 'a certificate that ends before its declared length'),
  c('A56', 'card', 'card', 'truncated signature (255 of 256 bytes)', 'TRUNCATED_RESPONSE', 'a short signature forwarded to the platform as if complete'),
  c('A57', 'card', 'card', 'card-info TLV whose inner length runs past its parent', 'TRUNCATED_RESPONSE', 'forged lengths inside the basic 4 info record'),
  c('A58', 'card', 'card', 'token label of something that is not a My Number Card', 'NOT_A_MY_NUMBER_CARD', 'another smart card (or an emulator) posing as a JPKI token'),
  c('A59', 'card', 'card', 'a My Number in card responses never reaches data or logs', 'MASKED', 'a card (or relay) returning a 12-digit My Number in the card-info data'),

  // ---- webhooks -----------------------------------------------------------------------------
  c('A60', 'webhooks', 'unit', 'webhook signed with the wrong secret', 'mismatch', 'a forged revocation notice to an RP'),
  c('A61', 'webhooks', 'unit', 'webhook body tampered after signing', 'mismatch', 'a captured notice edited (other serial, other subject)'),
  c('A62', 'webhooks', 'unit', 'webhook replayed outside the tolerance window', 'stale', 'an old genuine notice replayed'),
  c('A63', 'webhooks', 'unit', 'webhook timestamp moved, HMAC kept', 'mismatch', 'refreshing the timestamp of a captured notice to pass the tolerance'),
  c('A64', 'webhooks', 'unit', 'webhook with a missing, malformed or unknown-scheme signature', 'malformed', 'stripping or downgrading the signature header'),

  // ---- injection ----------------------------------------------------------------------------
  c('A65', 'injection', 'platform', 'HTML/script in the name and address on the certificate', 'ESCAPED', 'stored XSS in the admin console through user-controlled certificate text'),
  c('A66', 'injection', 'platform', 'SQL in the name and address on the certificate', 'VERBATIM', 'SQL injection through the basic 4 info; the text must be stored as data and nothing executed'),
  c('A67', 'injection', 'platform', 'a My Number in the name and address on the certificate', 'MASKED', 'a My Number (ASCII, or full-width and grouped) smuggled into stored records through certificate text'),
  c('A68', 'injection', 'platform', 'HTML/script in the RP name and purpose on ceremony and consent pages', 'ESCAPED', 'stored XSS on the holder-facing pages through registration text'),
  c('A69', 'injection', 'platform', 'hostile text reaches the RP as JSON data in verified_claims', 'VERBATIM', 'the claims must carry the certificate text exactly, as JSON strings, never interpreted'),
  c('A70', 'injection', 'platform', 'SQL injection through the admin records filters', 'VERBATIM', 'a filter value is a bound parameter: it matches nothing and executes nothing'),
  c('A71', 'injection', 'platform', 'a My Number in certificate text is not kept unmasked in the ceremony row', 'MASKED', 'the record is masked, but the ceremony\'s result (kept in the database for the OIDC claims) holds the basic 4 info as read'),
  c('A72', 'injection', 'platform', 'a My Number in certificate text is not sent to the RP (verified_claims, ID token)', 'MASKED', 'the platform hands a My Number found in certificate text to the relying party'),
  // ---- security review (issue 15) ----------------------------------------------------------
  c('A73', 'http', 'platform', 'forged Host, X-Forwarded-Host and X-Forwarded-Proto on the discovery document', 'PUBLIC_URL', 'a client (or anyone in front of a shared cache) makes discovery name http://evil.example/token as the token endpoint, so that RPs send codes and client secrets there'),
  c('A74', 'http', 'platform', 'forged X-Forwarded-For from a client that is not a configured proxy', 'SOCKET_ADDRESS', 'a client writes any address into X-Forwarded-For to be logged as someone else and to get a fresh per-address failure budget for every guess'),
  c('A75', 'oidc', 'platform', 'malformed Basic client credentials (bad percent-encoding, no colon, not base64)', 'invalid_client', 'a crafted Authorization header at the token endpoint makes the platform fail with 500 and a stack trace in the log'),
  c('A76', 'http', 'platform', 'slow request body, slow headers, and more connections from one address than its limit', 'CLOSED', 'slowloris: a few clients trickle bytes into many sockets and hold every connection the platform can serve'),
  c('A77', 'ceremonies', 'platform', 'a hundred progress streams opened on one ceremony page', 'TOO_MANY_STREAMS', 'a browser or script holding one interaction cookie opens server-sent-event streams without limit, each polling the database twice a second, until the platform spends its CPU and connections on them'),
  c('A78', 'http', 'platform', 'a response without security headers (oidc-provider\'s own error pages, the front page, JSON answers)', 'HEADERS_SET', 'clickjacking and MIME sniffing through a page the platform renders without X-Frame-Options, CSP frame-ancestors and nosniff (an authorization error page framed by another site)'),
  c('A79', 'http', 'platform', 'ceremony page whose CSP allows inline script', 'NO_UNSAFE_INLINE', 'any HTML injection on the ceremony page (RP name, purpose, advice text) would run as script because the CSP allows \'unsafe-inline\''),
  c('A80', 'ceremonies', 'platform', 'statement_detail with invisible, line-separator, C1 or bidirectional characters', 'INVALID_REQUEST', 'an RP hides or reorders part of the text the holder signs (U+2028, U+0085, zero-width and bidi marks) so that a device shows other words than the signed bytes'),
  c('A81', 'oidc', 'platform', 'claims named after Object.prototype members (constructor, toString)', 'NOT_RELEASED', 'an inherited property taken for a known claim releases verified_claims with an empty claims object'),
  c('A82', 'certificates', 'platform', 'a trust anchor posted as the holder certificate', 'INVALID_BASIC_CONSTRAINTS', 'a J-LIS (or simulator) root certificate presented as an end entity, refused only late at revocation'),
  c('A83', 'certificates', 'verifier', 'a CA certificate (cA or keyCertSign) issued under a trusted root, as an end entity', 'INVALID_BASIC_CONSTRAINTS', 'an intermediate or cross certificate used as a holder certificate'),
  c('A84', 'secrets', 'platform', 'a copy of the database holds no usable secret (client secrets, admin token, private keys)', 'SEALED', 'anyone who can read the database (a dump, a backup, a read-only DBA) mints ID tokens, signs webhooks or authenticates as an RP or the admin'),
  c('A85', 'oidc', 'platform', 'client secret guessing at the token endpoint', 'temporarily_unavailable', 'hundreds of wrong client secrets a second for one client (or from one address) until one passes'),
  c('A86', 'oidc', 'platform', 'admin token guessing at the console sign-in and the admin API', 'TOO_MANY_ATTEMPTS', 'unlimited guesses of the admin token from one address'),
  c('A87', 'oidc', 'platform', 'client authenticated with another method than registered, or with a secret plus extra text', 'invalid_client', 'a client_secret_post client accepted with Basic credentials whose password is "secret:junk" (a lax parser and method)'),
  c('A88', 'oidc', 'unit', 'redirect URI with a Unicode (IDN) host', 'STORED_AS_PUNYCODE', 'a homograph host (ｅxample, а of Cyrillic) registered as given and shown to operators as a trusted name'),
  c('A89', 'oidc', 'unit', 'redirect URI with userinfo or a wildcard host', 'INVALID_REQUEST', 'registration of https://user@host/ or https://*.example/ that would match or look like other hosts'),
];

/** The test title of a case: `A01 forged … → BAD_SIGNATURE`. */
export function title(id: string): string {
  const found = CATALOGUE.find((x) => x.id === id);
  if (!found) throw new Error(`no adversarial case ${id}`);
  return `${found.id} ${found.name} → ${found.expected}`;
}

export function expected(id: string): string {
  const found = CATALOGUE.find((x) => x.id === id);
  if (!found) throw new Error(`no adversarial case ${id}`);
  return found.expected;
}
