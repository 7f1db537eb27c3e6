// Placeholders for Helm template text inside a YAML document that is still edited as YAML: a value is replaced by a
// token (a plain scalar the YAML library prints as is), the document is printed, then each token is swapped for its
// template text. Inline tokens stand for a scalar (`name: {{ include "x.fullname" . }}-metrics`); block tokens stand for
// a whole map or list value and expand to lines indented under their key, the shape Helm's `nindent` expects.

/** Renders the lines of a block value, given the column its entries start at. */
export type BlockRenderer = (indent: number) => readonly string[];

const TOKEN = /__HELM_(\d+)__/g;
const BLOCK_LINE = /^(\s*(?:- )*)([^\s#][^:]*): __HELM_(\d+)__$/;

/** Hands out tokens for one file and resolves them in the printed text. Not shared between files. */
export class TemplateTokens {
  readonly #inline = new Map<number, string>();
  readonly #block = new Map<number, BlockRenderer>();
  #next = 0;

  /** A token that becomes `text` where it appears (alone or inside a longer scalar). */
  inline(text: string): string {
    const id = this.#next++;
    this.#inline.set(id, text);
    return `__HELM_${id}__`;
  }

  /** A token for a map or list value: `key: TOKEN` becomes `key:` followed by the renderer's lines. */
  block(render: BlockRenderer): string {
    const id = this.#next++;
    this.#block.set(id, render);
    return `__HELM_${id}__`;
  }

  /** Replaces every token in `text`; throws when one is left (a block token not alone on its key's line). */
  resolve(text: string): string {
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const block = BLOCK_LINE.exec(line);
      const render = block === null ? undefined : this.#block.get(Number(block[3]));
      if (block !== null && render !== undefined) {
        const [, prefix = '', key = ''] = block;
        const indent = prefix.length + 2;
        out.push(`${prefix}${key}:`, ...render(indent).map((l) => `${' '.repeat(indent)}${l}`));
        continue;
      }
      out.push(line.replace(TOKEN, (token, id: string) => this.#inline.get(Number(id)) ?? token));
    }
    const resolved = out.join('\n');
    const left = /__HELM_\d+__/.exec(resolved);
    if (left !== null) throw new Error(`template token ${left[0]} was not resolved (a block token must be the only value on its line)`);
    return resolved;
  }
}
