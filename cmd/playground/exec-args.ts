// The command line of `npm run playground -- exec ...`, parsed. Pure, table-tested.

/** What to run where. */
export type ExecTarget =
  { readonly kind: 'pod'; readonly namespace: string; readonly name: string } | { readonly kind: 'node'; readonly name: string };

export type ParsedExec =
  | { readonly kind: 'ok'; readonly target: ExecTarget; readonly command: readonly string[] }
  | { readonly kind: 'error'; readonly message: string };

export const EXEC_USAGE = [
  'usage: npm run playground -- exec [-n <namespace>] <pod> -- <command> [args...]',
  '       npm run playground -- exec --node <node> -- <command> [args...]',
  '',
  "Runs <command> in a playground Pod's network namespace (with the cluster DNS in its resolv.conf) or in a simulated",
  "Node's (where kube-proxy's rules are), e.g.:",
  '  npm run playground -- exec web-7d4b9c-abcde -- curl -s http://web',
  '  npm run playground -- exec --node playground-node-1 -- nft list table ip kube-proxy',
].join('\n');

export function parseExecArgs(argv: readonly string[]): ParsedExec {
  const [verb, ...rest] = argv;
  if (verb !== 'exec') return { kind: 'error', message: verb === undefined ? EXEC_USAGE : `unknown command "${verb}"\n${EXEC_USAGE}` };
  const dash = rest.indexOf('--');
  if (dash < 0 || dash === rest.length - 1) return { kind: 'error', message: `exec needs "-- <command>"\n${EXEC_USAGE}` };
  const opts = rest.slice(0, dash);
  const command = rest.slice(dash + 1);
  let namespace = 'default';
  let node: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < opts.length; i++) {
    const a = opts[i] ?? '';
    const value = () => {
      const v = opts[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '-n' || a === '--namespace') namespace = value();
      else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
      else if (a === '--node') node = value();
      else if (a.startsWith('--node=')) node = a.slice('--node='.length);
      else if (a.startsWith('-')) return { kind: 'error', message: `unknown option ${a}\n${EXEC_USAGE}` };
      else positional.push(a);
    } catch (err) {
      return { kind: 'error', message: `${(err as Error).message}\n${EXEC_USAGE}` };
    }
  }
  if (node !== undefined) {
    if (positional.length > 0) return { kind: 'error', message: `give a Pod or --node, not both\n${EXEC_USAGE}` };
    return { kind: 'ok', target: { kind: 'node', name: node }, command };
  }
  if (positional.length !== 1) return { kind: 'error', message: `exec needs exactly one Pod name\n${EXEC_USAGE}` };
  return { kind: 'ok', target: { kind: 'pod', namespace, name: positional[0] ?? '' }, command };
}
