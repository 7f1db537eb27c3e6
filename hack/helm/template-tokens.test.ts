import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TemplateTokens } from './template-tokens.ts';

describe('TemplateTokens', () => {
  it('swaps inline tokens inside scalars and expands block tokens under their key, indented for nindent', () => {
    const t = new TemplateTokens();
    const name = t.inline('{{ include "c.fullname" . }}');
    const labels = t.block((indent) => [`{{- include "c.labels" . | nindent ${indent} }}`, 'tier: web']);
    const args = t.block((indent) => [`{{- include "c.args" . | nindent ${indent} }}`]);
    const text = [`metadata:`, `  name: ${name}-metrics`, `  labels: ${labels}`, `containers:`, `  - args: ${args}`].join('\n');
    assert.equal(
      t.resolve(text),
      [
        'metadata:',
        '  name: {{ include "c.fullname" . }}-metrics',
        '  labels:',
        '    {{- include "c.labels" . | nindent 4 }}',
        '    tier: web',
        'containers:',
        '  - args:',
        '      {{- include "c.args" . | nindent 6 }}',
      ].join('\n'),
    );
  });

  it('refuses to leave a block token that is not alone on its key line', () => {
    const t = new TemplateTokens();
    const block = t.block(() => ['x']);
    assert.throws(() => t.resolve(`- [${block}]`), /template token __HELM_0__ was not resolved/);
  });
});
