// Which legal provision a verification method falls under, by framework and date. The item letters
// of 犯収法施行規則6条1項1号 move between amendments, so records never use a letter as an identifier:
// methods have semantic ids and the letter printed in a record comes from this table, with the
// confidence of its source (docs: /work/shared/spec/japanese-rules.md §1, §2, §4).

export type RecordMethod = 'jpki_signature' | 'jpki_user_authentication';
export const RECORD_METHODS: readonly RecordMethod[] = ['jpki_signature', 'jpki_user_authentication'];

/** How sure we are of the article and item for that period (spec tags [C], [S], [U]). */
export type CitationConfidence = 'confirmed' | 'secondary' | 'unconfirmed';

/** Framework `*` is the fallback for every framework without its own row. */
export interface Citation {
  method: RecordMethod;
  framework: string;
  /** First day in force, Japan time (YYYY-MM-DD). */
  effectiveFrom: string;
  /** First day no longer in force (exclusive), or null while current. */
  effectiveTo: string | null;
  law: string;
  article: string;
  item: string | null;
  textJa: string;
  confidence: CitationConfidence;
  source: string;
  /** What a reader of the record should know about this row (disputes, open questions). */
  note?: string;
}

export const METHOD_LABELS_JA: Record<RecordMethod, string> = {
  jpki_signature:
    '公的個人認証(署名用電子証明書及び当該電子証明書により確認される電子署名が行われた情報の送信を受ける方法)',
  jpki_user_authentication: '公的個人認証(利用者証明用電子証明書による利用者証明・当人認証)',
};

const HANSHU_RULES = '犯罪による収益の移転防止に関する法律施行規則(犯収法施行規則)';
const JPKI_LAW = '電子署名等に係る地方公共団体情報システム機構の認証業務に関する法律(公的個人認証法)';
const KEITAI_LAW =
  '携帯音声通信事業者による契約者等の本人確認等及び携帯音声通信役務の不正な利用の防止に関する法律(携帯電話不正利用防止法)';

export const CITATIONS: readonly Citation[] = [
  {
    method: 'jpki_signature',
    framework: 'jp_aml',
    effectiveFrom: '2020-04-01',
    effectiveTo: '2027-04-01',
    law: HANSHU_RULES,
    article: '第6条第1項第1号',
    item: 'ワ',
    textJa:
      '公的個人認証法に基づき機構が発行した署名用電子証明書及び当該署名用電子証明書により確認される電子署名が行われた特定取引等に関する情報の送信を受ける方法',
    confidence: 'confirmed',
    source: 'houritsushoku.com「自然人の本人確認方法(非対面・郵便等)」; PocketSign Verify docs「第6条1号1項 ワ方式」',
    note: 'Smartphone (移動端末設備用) signature certificates count from 2023-05-11. A カード代替電磁的記録 item inserted in 2025 may have shifted this letter before 2027 (one source reads カ for the e-Gov text of 2026-04-15) [U].',
  },
  {
    method: 'jpki_signature',
    framework: 'jp_aml',
    effectiveFrom: '2027-04-01',
    effectiveTo: null,
    law: HANSHU_RULES,
    article: '第6条第1項第1号',
    item: 'ル',
    textJa:
      '公的個人認証法に基づき機構が発行した署名用電子証明書及び当該署名用電子証明書により確認される電子署名が行われた特定取引等に関する情報の送信を受ける方法(令和7年8省共同命令第3号による改正後)',
    confidence: 'unconfirmed',
    source:
      '令和7年8省共同命令第3号 (promulgated 2025-06-24, in force 2027-04-01); letter per morshedi.se「現行ワ方式はル方式と改称」',
    note: 'Sources conflict on the letter (ル per morshedi.se; カ per kotoba-lang/ekyc). Check NPA anbun02.pdf and the e-Gov text 420M60000F5A001 before relying on it.',
  },
  {
    method: 'jpki_signature',
    framework: 'jp_mpiupa',
    effectiveFrom: '2006-04-01',
    effectiveTo: null,
    law: KEITAI_LAW,
    article: '第3条第1項',
    item: null,
    textJa:
      '総務省令で定める方法(署名用電子証明書及び当該電子証明書により確認される電子署名が行われた情報の送信を受ける方法)による本人特定事項(氏名、住居及び生年月日)の確認',
    confidence: 'secondary',
    source: '携帯法3条1項 (ledmonster/japanese-law doc/H17/H17HO031.rst); 総務省「携帯電話不正利用防止法とは」',
    note: "The 施行規則 article and item of the JPKI method, before and after the 2026-04-01 amendment, are not confirmed [U]; the start date is the law's entry into force [U].",
  },
  {
    method: 'jpki_signature',
    framework: '*',
    effectiveFrom: '2016-01-01',
    effectiveTo: null,
    law: JPKI_LAW,
    article: '第17条第1項',
    item: null,
    textJa:
      '署名検証者による署名用電子証明書の有効性(失効の有無)の確認及び当該電子証明書の公開鍵に対応する秘密鍵による電子署名であることの確認',
    confidence: 'secondary',
    source:
      'J-LIS「失効情報等の提供に関する各種手続きについて」(17条1項の署名検証者); iuris.jp 公的個人認証法 第二十一条, 第五十二条',
    note: 'Art. 17(1) defines who may be a 署名検証者 [C]; the verification duty itself is Art. 19, whose text was not retrieved [U].',
  },
  {
    method: 'jpki_user_authentication',
    framework: '*',
    effectiveFrom: '2016-01-01',
    effectiveTo: null,
    law: JPKI_LAW,
    article: '第38条の4',
    item: null,
    textJa:
      '利用者証明検証者による利用者証明用電子証明書の有効性(失効の有無)の確認による当人認証(犯収法の取引時確認の方法ではない)',
    confidence: 'secondary',
    source:
      'iuris.jp 公的個人認証法 第三十八条の四; J-LIS「失効情報等の提供に関する各種手続きについて」(36条1項の利用者証明検証者)',
    note: 'Authentication of a person already identified, not identity verification. Article text as in force 2024 [C]; its start date is the My Number Card launch [U].',
  },
];

const JST_MS = 9 * 3600_000;
/** The Japan-time calendar date of an instant (YYYY-MM-DD). */
export const jstDate = (at: Date): string => new Date(at.getTime() + JST_MS).toISOString().slice(0, 10);

const inForce = (c: Citation, day: string): boolean =>
  c.effectiveFrom <= day && (c.effectiveTo === null || day < c.effectiveTo);

/**
 * The citation of `method` under `framework` on the Japan-time date of `at`. Never throws: a
 * framework without its own row (municipal ones, unknown ones, or a date before the framework's
 * first row) gets the generic 公的個人認証法 citation.
 */
export function citationFor(
  method: RecordMethod,
  framework: string,
  at: Date,
  table: readonly Citation[] = CITATIONS,
): Citation {
  const day = Number.isNaN(at.getTime()) ? jstDate(new Date()) : jstDate(at);
  const rows = table.filter((c) => c.method === method);
  const own = rows.find((c) => c.framework === framework && inForce(c, day));
  if (own) return own;
  const generic = rows.filter((c) => c.framework === '*');
  const fallback = generic.find((c) => inForce(c, day)) ?? generic[0] ?? rows[0];
  if (fallback) return fallback;
  // Only reachable with a custom table that lacks the method: still a citation, flagged as such.
  return {
    method,
    framework,
    effectiveFrom: day,
    effectiveTo: null,
    law: JPKI_LAW,
    article: '',
    item: null,
    textJa: METHOD_LABELS_JA[method] ?? String(method),
    confidence: 'unconfirmed',
    source: 'no citation table row',
  };
}

/** The provision as one line, e.g. `犯罪による…施行規則 第6条第1項第1号ワ`. */
export const citationReference = (c: Citation): string => `${c.law} ${c.article}${c.item ?? ''}`.trim();
