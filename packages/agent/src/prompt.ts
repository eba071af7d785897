// `pinPrompt: 'terminal'`: the PIN is typed on the agent's own terminal (masked), never in a page.

export interface PinQuestion {
  /** `auth`: 4-digit PIN; `sign`: 6–16 character password. */
  kind: 'auth' | 'sign';
  rpName: string;
  purpose: string;
  ceremonyKind: 'login' | 'identity';
  /** Identity ceremonies: the text being signed. */
  statement?: string;
}

/** Raised when the holder cancels (Ctrl-C or an empty line at the prompt). */
export class PinCancelled extends Error {
  readonly code = 'PIN_CANCELLED';
  constructor() {
    super('PIN entry was cancelled');
    this.name = 'PinCancelled';
  }
}

/** A masked prompt on this process's terminal: '*' per character, backspace works, Ctrl-C or an empty line cancels. */
export function terminalPinPrompt(q: PinQuestion): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  if (!stdin.isTTY)
    return Promise.reject(new Error('standard input is not a terminal: run the agent with --prompt page'));
  const lines = [
    '',
    `${q.ceremonyKind === 'login' ? 'ログイン / login' : '本人確認 / identity verification'} for ${q.rpName}`,
    `purpose: ${q.purpose}`,
    ...(q.statement ? ['text to be signed:', ...q.statement.split('\n').map((l) => `  ${l}`)] : []),
  ];
  out.write(`${lines.join('\n')}\n`);
  const question =
    q.kind === 'auth'
      ? 'Auth PIN (利用者証明用暗証番号, 4 digits): '
      : 'Signing password (署名用暗証番号, 6–16 characters): ';
  return readMasked(question);
}

/**
 * Reads one secret on this process's terminal (standard input in raw mode, echo on standard error):
 * '*' per character, backspace works; Ctrl-C, Esc or an empty line rejects with PinCancelled.
 */
export function readMasked(question: string): Promise<string> {
  const stdin = process.stdin;
  const out = process.stderr;
  return new Promise((resolve, reject) => {
    out.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (cancelled: boolean): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      out.write('\n');
      if (cancelled || value === '') reject(new PinCancelled());
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(false);
        if (ch === '\u0003' || ch === '\u001b') return finish(true);
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0) {
            value = value.slice(0, -1);
            out.write('\b \b');
          }
        } else if (ch >= ' ') {
          value += ch;
          out.write('*');
        }
      }
    };
    stdin.on('data', onData);
  });
}
