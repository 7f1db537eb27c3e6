import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { formatIP, parseIP } from '../../api/v1alpha1/ip-address.ts';

// A tiny authoritative DNS server over UDP on 127.0.0.1, for tests of the resolver: it answers A and AAAA from a
// table the test edits (with the TTLs the test chooses), and can be told to fail a name (SERVFAIL, NXDOMAIN, REFUSED)
// or to stay silent so the client times out. Names not in the table get NXDOMAIN; a known name without records of the
// asked type gets an empty NOERROR answer (NODATA). Only what resolvers send is parsed: one question per query.

/** One address record. */
export interface DnsTestRecord {
  readonly address: string;
  readonly ttl: number;
}

/** How the server treats queries for a name. */
export type DnsTestBehaviour = 'answer' | 'SERVFAIL' | 'NXDOMAIN' | 'REFUSED' | 'timeout';

/** A query the server received. */
export interface DnsTestQuery {
  readonly name: string;
  readonly type: 'A' | 'AAAA' | number;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const MAX_QUERY_LOG = 1000;

function normalise(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Parses the question of a query; undefined when the packet is not one we answer. */
function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[i];
    if (len === undefined || len > 63) return undefined; // no compression in questions
    i++;
    if (len === 0) break;
    if (i + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', i, i + len));
    i += len;
  }
  if (i + 4 > msg.length) return undefined;
  return { name: normalise(labels.join('.')), type: msg.readUInt16BE(i), end: i + 4 };
}

function rdata(address: string, type: number): Buffer | undefined {
  const ip = parseIP(address);
  if (ip === undefined || (type === TYPE_A) !== (ip.family === 4)) return undefined;
  return Buffer.from(ip.bytes);
}

/**
 * The test DNS server. {@link TestDnsServer.start} binds it; {@link TestDnsServer.server} is what a resolver's
 * `setServers` takes. Edits apply to the next query. Not for production: no TCP, no truncation, no EDNS.
 */
export class TestDnsServer {
  readonly #socket: Socket;
  readonly #records = new Map<string, { a: DnsTestRecord[]; aaaa: DnsTestRecord[] }>();
  readonly #behaviour = new Map<string, DnsTestBehaviour>();
  readonly #queries: DnsTestQuery[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#answer(msg, rinfo));
    socket.on('error', () => {}); // a send to a vanished client is not the test's problem
  }

  /** Binds a new server on 127.0.0.1 and a free port. */
  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new TestDnsServer(socket);
  }

  /** `127.0.0.1:port`, for `Resolver.setServers`. */
  get server(): string {
    const { address, port } = this.#socket.address();
    return `${address}:${port}`;
  }

  /** Sets the records of `name` (replacing earlier ones); either list may be empty. */
  set(name: string, records: { a?: readonly DnsTestRecord[]; aaaa?: readonly DnsTestRecord[] }): void {
    for (const r of [...(records.a ?? []), ...(records.aaaa ?? [])]) {
      if (parseIP(r.address) === undefined) throw new Error(`not an IP address: ${r.address}`);
    }
    this.#records.set(normalise(name), { a: [...(records.a ?? [])], aaaa: [...(records.aaaa ?? [])] });
  }

  /** Removes `name`: it gets NXDOMAIN from now on. */
  delete(name: string): void {
    this.#records.delete(normalise(name));
  }

  /** Makes queries for `name` fail or go unanswered; 'answer' restores normal answers. */
  behave(name: string, behaviour: DnsTestBehaviour): void {
    this.#behaviour.set(normalise(name), behaviour);
  }

  /** Queries received so far (the most recent 1000), oldest first. */
  get queries(): readonly DnsTestQuery[] {
    return this.#queries;
  }

  /** Unbinds the socket. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(msg: Buffer, rinfo: RemoteInfo): void {
    const q = parseQuestion(msg);
    if (q === undefined) return;
    this.#queries.push({ name: q.name, type: q.type === TYPE_A ? 'A' : q.type === TYPE_AAAA ? 'AAAA' : q.type });
    if (this.#queries.length > MAX_QUERY_LOG) this.#queries.shift();
    const behaviour = this.#behaviour.get(q.name) ?? 'answer';
    if (behaviour === 'timeout') return;
    const entry = this.#records.get(q.name);
    let rcode: number = RCODE.NOERROR;
    let answers: DnsTestRecord[] = [];
    if (behaviour !== 'answer') rcode = RCODE[behaviour];
    else if (entry === undefined) rcode = RCODE.NXDOMAIN;
    else if (q.type === TYPE_A) answers = entry.a;
    else if (q.type === TYPE_AAAA) answers = entry.aaaa;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // id
    const opcode = msg.readUInt16BE(2) & 0x7800;
    const rd = msg.readUInt16BE(2) & 0x0100;
    header.writeUInt16BE(0x8000 | opcode | 0x0400 | rd | rcode, 2); // QR, AA
    header.writeUInt16BE(1, 4);
    const records: Buffer[] = [];
    for (const r of answers) {
      const data = rdata(r.address, q.type);
      if (data === undefined) continue;
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question
      rr.writeUInt16BE(q.type, 2);
      rr.writeUInt16BE(CLASS_IN, 4);
      rr.writeUInt32BE(r.ttl >>> 0, 6);
      rr.writeUInt16BE(data.length, 10);
      records.push(rr, data);
    }
    header.writeUInt16BE(records.length / 2, 6);
    this.#socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...records]), rinfo.port, rinfo.address);
  }
}

/** The canonical text of an address, as the resolver reports it (for assertions). */
export function canonicalIP(address: string): string {
  const ip = parseIP(address);
  if (ip === undefined) throw new Error(`not an IP address: ${address}`);
  return formatIP(ip);
}
