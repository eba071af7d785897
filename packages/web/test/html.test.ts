// Html is safe by construction: `html` takes markup (Html), numbers and literals of the code only, so
// a plain string has to go through escapeHtml or tr; the @ts-expect-error lines are checked by
// `npm run typecheck`, the rest at run time.
import { describe, expect, it } from 'vitest';
import { errorBox, escapeHtml, html, joinHtml, page, raw, table, tr } from '../src/index.js';

const userText: string = '<script>alert("x")</script> & co';

describe('html', () => {
  it('writes Html as it is, numbers, lists of Html, and nothing for null or undefined', () => {
    const items = ['a<', 'b&'].map((s) => html`<li>${escapeHtml(s)}</li>`);
    expect(html`<ul>${items}</ul>${3}${null}${undefined}`).toBe('<ul><li>a&lt;</li><li>b&amp;</li></ul>3');
    expect(html`<p${Math.random() < 2 ? ' class="x"' : ''}>${tr('en', 'ja', 'Tom & Jerry')}</p>`).toBe(
      '<p class="x">Tom &amp; Jerry</p>',
    );
    expect(joinHtml([html`<b>1</b>`, html`<b>2</b>`], '\n')).toBe('<b>1</b>\n<b>2</b>');
  });

  it('refuses a plain string at compile time: text goes in escaped', () => {
    // Type-checked, never run.
    const refused = (): unknown[] => [
      // @ts-expect-error a string from outside is not Html
      html`<p>${userText}</p>`,
      // @ts-expect-error nor a list of them
      html`<ul>${[userText]}</ul>`,
      // @ts-expect-error nor a boolean (it would print "false")
      html`<p>${userText.length > 3}</p>`,
      // @ts-expect-error a page body is Html
      page('en', 'title', userText),
      // @ts-expect-error table cells are Html
      table(tr('en', 'c', 'c'), [tr('en', 'h', 'h')], [[userText]]),
    ];
    expect(typeof refused).toBe('function');
    expect(html`<p>${escapeHtml(userText)}</p>`).toBe(
      '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co</p>',
    );
  });

  it('raw takes trusted markup as it is', () => {
    expect(html`<div>${raw('<svg></svg>')}</div>`).toBe('<div><svg></svg></div>');
  });

  it('the error box escapes the code it is handed (it was written unescaped before)', () => {
    const box = errorBox('en', { code: '<img src=x onerror=alert(1)>"' });
    expect(box).not.toContain('<img');
    expect(box).toContain('data-error-code="&lt;img src=x onerror=alert(1)&gt;&quot;"');
    expect(box).toContain('<code>&lt;img src=x onerror=alert(1)&gt;&quot;</code>');
  });
});
