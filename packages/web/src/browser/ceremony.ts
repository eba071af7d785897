// The ceremony page's script, run by the browser: served as JavaScript at CEREMONY_SCRIPT_PATH (see
// ../scripts.ts) so that the page's CSP needs no 'unsafe-inline'; type-checked with the DOM library
// by ./tsconfig.json. It follows the progress over server-sent events (polling as fallback) and
// shows the same-device button only when the local agent answers from 127.0.0.1. Its settings come
// from the page's JSON block #ceremony-config.

import type { CeremonyScriptConfig } from '../ceremony-script-config.js';

interface Status {
  state: string;
  stage?: string;
  card_error?: CardError | null;
}

interface CardError {
  code: string;
  remaining?: number;
}

const STAGES = ['waiting', 'reading', 'verifying', 'done'] as const;
type Stage = (typeof STAGES)[number];

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the ceremony page has no #${id}`);
  return el;
}

function main(): void {
  const c = JSON.parse(byId('ceremony-config', HTMLScriptElement).textContent ?? '') as CeremonyScriptConfig;
  const ja = c.lang === 'ja';
  const progress = byId('progress', HTMLElement);
  const steps = document.querySelectorAll<HTMLLIElement>('#steps li');
  const text: Record<Stage, string> = {
    waiting: ja ? 'カードの操作を待っています…' : 'Waiting for your card…',
    reading: ja ? 'カードを読み取っています…' : 'Reading the card…',
    verifying: ja ? '電子証明書を確認しています…' : 'Verifying the certificate…',
    done: ja ? '確認できました。次へ進みます…' : 'Verified. Continuing…',
  };
  let done = false;

  function mark(stage: string): void {
    const n = STAGES.indexOf(stage as Stage);
    steps.forEach((step, i) => {
      step.className = i < n ? 'done' : i === n ? 'current' : '';
      if (i === n) step.setAttribute('aria-current', 'step');
      else step.removeAttribute('aria-current');
    });
    progress.setAttribute('data-stage', stage);
    progress.textContent = text[stage as Stage] ?? '';
  }

  function cardError(e: CardError | null | undefined): void {
    const box = byId('card-error', HTMLElement);
    box.replaceChildren();
    if (!e) return;
    const a = c.advice[e.code] ?? { title: e.code, next: '' };
    const d = document.createElement('div');
    d.className = 'box error';
    d.setAttribute('data-error-code', e.code);
    const h = document.createElement('h2');
    h.textContent = a.title;
    d.appendChild(h);
    if (typeof e.remaining === 'number') {
      const r = document.createElement('p');
      r.textContent = ja ? `残り${e.remaining}回` : `${e.remaining} ${e.remaining === 1 ? 'try' : 'tries'} left`;
      d.appendChild(r);
    }
    const next = document.createElement('p');
    next.textContent = a.next;
    d.appendChild(next);
    box.appendChild(d);
  }

  function show(s: Status): void {
    if (done) return;
    progress.setAttribute('data-state', s.state);
    if (s.state === 'completed') {
      done = true;
      mark('done');
      location.href = `${c.base}/continue`;
      return;
    }
    if (s.state === 'failed' || s.state === 'expired') {
      done = true;
      location.href = `${c.base}/error`;
      return;
    }
    mark(s.stage || 'waiting');
    cardError(s.card_error);
  }

  function poll(): void {
    if (done) return;
    fetch(`${c.base}/status`, { credentials: 'same-origin' })
      .then((r) => r.json() as Promise<Status>)
      .then(show)
      .catch(() => undefined)
      .then(() => {
        if (!done) setTimeout(poll, 1000);
      });
  }

  if (window.EventSource) {
    const es = new EventSource(`${c.base}/events`);
    es.onmessage = (m: MessageEvent<string>) => {
      show(JSON.parse(m.data) as Status);
      if (done) es.close();
    };
    es.onerror = () => {
      es.close();
      if (!done) poll();
    };
  } else poll();

  const agentUrl = c.agentUrl;
  if (agentUrl) {
    fetch(`${agentUrl}/v1/hello`)
      .then((r) => (r.ok ? (r.json() as Promise<{ agent?: string }>) : null))
      .then((hello) => {
        if (hello?.agent !== 'kakunin-agent') return;
        byId('same-device-box', HTMLElement).hidden = false;
        byId('same-device', HTMLButtonElement).addEventListener('click', () => {
          fetch(`${agentUrl}/v1/ceremonies`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ holder_url: c.holderUrl, return_url: `${location.origin}${c.base}?lang=${c.lang}` }),
          })
            .then((r) => r.json() as Promise<{ confirm_url?: string; error?: string }>)
            .then((j) => {
              if (!j.confirm_url) throw new Error(j.error ?? 'agent');
              location.href = j.confirm_url;
            })
            .catch(() => cardError({ code: 'AGENT_UNAVAILABLE' }));
        });
      })
      .catch(() => undefined);
  }
}

main();
