// Card-verifiable certificates (CVC) of the 券面 APs (spec §9.4) and the pinned CA keys that sign them.
//
//   7F21 { 5F4E <body: issuer key id (16) ‖ subject key id (16) ‖ 90 e ‖ 91 n>, 5F37 <signature> }
//
// The signature is RSASSA-PKCS1-v1_5 / SHA-256 over the 5F4E value. A CVC is trusted only when its
// 16-byte issuer key id equals a pinned anchor's id and the anchor's key verifies it.

import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { IntegrityCheckFailed } from './errors.js';
import { readTlv, readTlvs } from './tlv.js';

export interface CvcAnchor {
  /** The 16-byte 証明者鍵ID the CVC names as its issuer. */
  readonly keyId: Uint8Array;
  readonly publicKey: KeyObject;
  readonly label: string;
  readonly environment: 'production' | 'test' | 'simulator';
}

export interface Cvc {
  readonly issuerKeyId: Uint8Array;
  readonly subjectKeyId: Uint8Array;
  readonly publicKey: KeyObject;
  readonly modulus: Uint8Array;
  readonly exponent: Uint8Array;
  /** The signed body (value of 5F4E). */
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const stripZeros = (b: Uint8Array): Uint8Array => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};

/** An RSA public key from its big-endian modulus and exponent. */
export function rsaPublicKey(modulus: Uint8Array, exponent: Uint8Array = Uint8Array.of(1, 0, 1)): KeyObject {
  return createPublicKey({
    key: { kty: 'RSA', n: b64url(stripZeros(modulus)), e: b64url(stripZeros(exponent)) },
    format: 'jwk',
  });
}

/** Key id layout: 7 ASCII digits ‖ 08 05 ‖ 3 ASCII digits ‖ 4 bytes (spec §9.4). */
export function cvcKeyId(digits7: string, digits3 = '001', tail: Uint8Array = new Uint8Array(4)): Uint8Array {
  if (!/^[0-9]{7}$/.test(digits7) || !/^[0-9]{3}$/.test(digits3) || tail.length !== 4)
    throw new TypeError('key id: 7 digits, 3 digits, 4 tail bytes');
  return Uint8Array.from([...Buffer.from(digits7, 'ascii'), 0x08, 0x05, ...Buffer.from(digits3, 'ascii'), ...tail]);
}

/** Readable key id, e.g. `5000033/001` (with the tail in hex when it is not zero). */
export function keyIdText(id: Uint8Array): string {
  const b = Buffer.from(id);
  if (
    b.length === 16 &&
    /^[0-9]{7}$/.test(b.subarray(0, 7).toString('latin1')) &&
    /^[0-9]{3}$/.test(b.subarray(9, 12).toString('latin1'))
  ) {
    const tail = b.subarray(12).toString('hex').toUpperCase();
    return `${b.subarray(0, 7).toString('latin1')}/${b.subarray(9, 12).toString('latin1')}${tail === '00000000' ? '' : `/${tail}`}`;
  }
  return b.toString('hex').toUpperCase();
}

/** Parses EF 0004 (a CVC, possibly followed by filler). Throws IntegrityCheckFailed / TruncatedResponse. */
export function parseCvc(ef: Uint8Array): Cvc {
  const outer = readTlv(ef, 0, 'CVC');
  if (outer.tag !== 0x7f21)
    throw new IntegrityCheckFailed(`EF 0004 does not start with a CVC (tag ${outer.tag.toString(16).toUpperCase()})`);
  const parts = readTlvs(outer.value, 'CVC');
  const body = parts.find((t) => t.tag === 0x5f4e);
  const sig = parts.find((t) => t.tag === 0x5f37);
  if (!body || !sig) throw new IntegrityCheckFailed('the CVC lacks its body (5F4E) or signature (5F37)');
  if (body.length < 32 + 4) throw new IntegrityCheckFailed(`the CVC body is only ${body.length} bytes`);
  const keyTlvs = readTlvs(body.value.subarray(32), 'CVC public key');
  const e = keyTlvs.find((t) => t.tag === 0x90);
  const n = keyTlvs.find((t) => t.tag === 0x91);
  if (!e || !n) throw new IntegrityCheckFailed('the CVC body lacks the RSA exponent (90) or modulus (91)');
  let publicKey: KeyObject;
  try {
    publicKey = rsaPublicKey(n.value, e.value);
  } catch (err) {
    throw new IntegrityCheckFailed(`the CVC public key is not a usable RSA key: ${(err as Error).message}`);
  }
  return {
    issuerKeyId: body.value.slice(0, 16),
    subjectKeyId: body.value.slice(16, 32),
    publicKey,
    modulus: n.value.slice(),
    exponent: e.value.slice(),
    body: body.value.slice(),
    signature: sig.value.slice(),
  };
}

export function rsaSha256Verify(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Verifies a CVC against the anchors; returns the anchor used. Unknown issuer id or bad signature → IntegrityCheckFailed. */
export function verifyCvc(cvc: Cvc, anchors: readonly CvcAnchor[]): CvcAnchor {
  const anchor = anchors.find((a) => sameBytes(a.keyId, cvc.issuerKeyId));
  if (!anchor) {
    throw new IntegrityCheckFailed(`the CVC issuer key ${keyIdText(cvc.issuerKeyId)} is not a pinned CVC CA key`, {
      issuerKeyId: keyIdText(cvc.issuerKeyId),
    });
  }
  if (!rsaSha256Verify(anchor.publicKey, cvc.body, cvc.signature)) {
    throw new IntegrityCheckFailed(`the CVC signature does not verify with ${anchor.label}`, {
      issuerKeyId: keyIdText(cvc.issuerKeyId),
    });
  }
  return anchor;
}

// Production CA moduli (e = 65537), from shared/jpki-trust/card-info-cvc-ca-moduli.txt (soltia48/myna-card ca.rs).
const PRODUCTION_MODULI = {
  '5000033':
    'D24615F63525E740C87E83ED64787E76D10A1F8652EBE1EA28934D35CE3BF07716F5B79E2BCB2AE2B91B4F4C9FFB602497F596D659AF9D0A14B45CDD738EF56249349B8CC7DB32F2D433BD39BCC44F503E881D56C149ECD5155C1CE7461FC3AC4F55D0A39CCAAADFAE5B8AFA11CCF91BEDC774023D11CA6EBA99004F81C541A7D67DDED8C724D6E20B10A3DEAAE8C43C137CCD71B263740E8979752DE4D5676329CABCBD7F3A77FC48A6F8E61D399B4AC66684A9FDFC99ECEF900DD6FF7F0FDD39E23D163F8A468C62DBEAE00906DFAD5A89B45CA5B7353DC998A80D3803EDA794B55F99F535D1C39A243C8352AD602D926C389D2816C941349EE24E4F41597F',
  '5000023':
    'B2F740F0AD86D17CF3F537D23B4B3C65A3CB58474D857F55D0B9BC0411B1CB0849068DE332A50D63B3E6921C9CCBE6156496EFB04BE8FFCC74FDE9A228A36AD7EDCE9793204E35973DC911108365002C40169E0B60018DFB99E1E2310D9A110FF0FC269F1F220C63B8A1510DE5A6898220C78908FC280D8AA95D5D113B7CF00700F3FF5AD8B3D6AD2EB53C7D563498B4A938DEFFC9BDA32BF4146C1B07EF870D99EB35DE5D70AC18715874277A13151D217D04D42E97923923A40FBC7D06FAA8338CCBE876620F9B8EF4471CD4B9E29D4EA621E0FB8F1DC04B487210097DBAAF3D8E0550C76A5B97CF202FA47C7A2622F1C084E65C13D13B8E7AB226F5F51F87',
  '5000020':
    'B62D081145D34ACEB022BC2F0A08D8B390E42FFEEEC93472F675EC33507BBCE982C22F33B7304CF17639CE75A1D0FD1E75FFAD86B0D72CCCF0D0B05136DDB7261400C0160C713872E1E83C48A2A00818147FEFBF0B09F643EE4B328419E8763767ADBEAEBA88D49C3B44A5B8F8AD794FCF64A4161A9FE8B97660FCA4694114594D4B8498FE1E52502086ABC1B0EDA004D39D95193B4031AB0C516008BBAFFC49AC6A2EBE544EF49EA3B790CD13F133896DF8DA63E15CE8AC0DC276F76F080B723E6648F10A6FB7B08E5C69DCDFADD52F7B5B6D1740CF8E356BC685B31D7C455680CD95D3B4B20EA8094F00660AE774EEBAB2875487A1210CA87221A0B63A3E83',
} as const;

let production: CvcAnchor[] | undefined;

/** Every production CVC CA key known (券面入力補助AP 5000033, 券面事項確認AP 5000023, MF root 5000020). */
export function productionCvcCaKeys(): readonly CvcAnchor[] {
  production ??= [
    {
      keyId: cvcKeyId('5000033'),
      publicKey: rsaPublicKey(Buffer.from(PRODUCTION_MODULI['5000033'], 'hex')),
      label: 'J-LIS 5000033 (券面入力補助AP CVC CA)',
      environment: 'production',
    },
    {
      keyId: cvcKeyId('5000023'),
      publicKey: rsaPublicKey(Buffer.from(PRODUCTION_MODULI['5000023'], 'hex')),
      label: 'J-LIS 5000023 (券面事項確認AP CVC CA)',
      environment: 'production',
    },
    {
      keyId: cvcKeyId('5000020', '001', Uint8Array.of(0, 0, 0, 0xa8)),
      publicKey: rsaPublicKey(Buffer.from(PRODUCTION_MODULI['5000020'], 'hex')),
      label: 'J-LIS 5000020 (MF CVC root)',
      environment: 'production',
    },
  ];
  return production;
}

/** The anchors trusted by default for the 券面事項入力補助AP: only the production key 5000033. */
export function cardInfoCvcAnchors(): readonly CvcAnchor[] {
  return productionCvcCaKeys().filter((a) => a.label.startsWith('J-LIS 5000033'));
}
