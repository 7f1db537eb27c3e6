// The two messages of grpc.health.v1.Health/Check (grpc/grpc-proto: grpc/health/v1/health.proto), encoded by hand:
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { ServingStatus status = 1; }  // UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3
// Each has one field, so a protobuf code generator would add a dependency for a dozen lines. Pure.

/** The serving status of a health response. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** Encodes a HealthCheckRequest (field 1, length-delimited; omitted when empty, as proto3 does). */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...varint(bytes.length)]), bytes]);
}

/** Decodes a HealthCheckResponse; unknown fields are skipped. Throws on a malformed message. */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let status = ServingStatus.UNKNOWN as number;
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      if (b === undefined || shift > 28) throw new Error('malformed varint in HealthCheckResponse');
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      const v = readVarint();
      if (field === 1) status = v;
    } else if (wire === 2) {
      const length = readVarint(); // read before adding: `i += readVarint()` would add to the old i
      i += length;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else {
      throw new Error(`unsupported wire type ${wire} in HealthCheckResponse`);
    }
    if (i > buf.length) throw new Error('truncated HealthCheckResponse');
  }
  return status;
}

/** Encodes a HealthCheckResponse (for test servers). */
export function encodeHealthCheckResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...varint(status)]);
}

/** Decodes a HealthCheckRequest (for test servers). */
export function decodeHealthCheckRequest(buf: Buffer): string {
  if (buf.length === 0) return '';
  if (buf[0] !== 0x0a) throw new Error('unexpected field in HealthCheckRequest');
  let len = 0;
  let shift = 0;
  let i = 1;
  for (;;) {
    const b = buf[i++];
    if (b === undefined) throw new Error('truncated HealthCheckRequest');
    len |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return buf.subarray(i, i + len).toString('utf8');
}
