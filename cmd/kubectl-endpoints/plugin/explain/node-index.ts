import type { Node } from '../../../../api/core/v1.ts';
import type { NodeLookup } from '../../../../controllers/endpointslice/desired.ts';
import type { NodeKnowledge } from './readiness.ts';
import type { Lookup, NodeDetail } from './snapshot.ts';

// The Nodes as both consumers need them: the EndpointSlice controller's lookup (which skips Pods on unknown Nodes) and
// the readiness breakdown (which names a NotReady Node). When Nodes could not be read, the lookup pretends every named
// Node exists, so that no Pod is reported as being on a missing Node on no evidence.

/** Node access for one explanation. */
export interface NodeIndex {
  /** False when the Nodes could not be read: node rules are then skipped. */
  readonly known: boolean;
  /** For the controllers' pure functions. */
  readonly lookup: NodeLookup;
  /** What is known about the Node named `name` ("" is never a Node). */
  knowledge(name: string): NodeKnowledge;
}

/** Builds the index from what the snapshot read. */
export function nodeIndex(nodes: Lookup<readonly Readonly<NodeDetail>[]>): NodeIndex {
  if (nodes.kind === 'unavailable') {
    const stubs = new Map<string, Node>();
    return {
      known: false,
      lookup: {
        get: (name) => {
          let stub = stubs.get(name);
          if (stub === undefined) {
            stub = { metadata: { name, resourceVersion: '' } };
            stubs.set(name, stub);
          }
          return stub;
        },
      },
      knowledge: () => ({ kind: 'unavailable' }),
    };
  }
  const byName = new Map(nodes.value.map((n) => [n.metadata.name, n]));
  return {
    known: true,
    lookup: { get: (name) => byName.get(name) },
    knowledge: (name) => {
      const node = byName.get(name);
      return node === undefined ? { kind: 'absent' } : { kind: 'known', node };
    },
  };
}
