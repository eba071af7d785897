// What the ceremony page hands its script (browser/ceremony.ts) in the JSON block #ceremony-config.
// Its own module: the page (Node) and the script (DOM) are type-checked as separate programs.

export interface CeremonyScriptConfig {
  base: string;
  lang: 'ja' | 'en';
  agentUrl: string | null;
  holderUrl: string;
  /** Title and next step of each error code, in the page's language. */
  advice: Record<string, { title: string; next: string }>;
}
