import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIP, isCanonicalIP, isIP, isSpecialEndpointIP, parseIP } from './ip-address.ts';

// Expectations follow Go's net/netip, which the API server's CEL ip library uses.

describe('isIP and isCanonicalIP', () => {
  const cases: { given: string; want: { valid: boolean; canonical: boolean } }[] = [
    { given: '192.0.2.10', want: { valid: true, canonical: true } },
    { given: '0.0.0.0', want: { valid: true, canonical: true } },
    { given: '255.255.255.255', want: { valid: true, canonical: true } },
    { given: '192.0.2.256', want: { valid: false, canonical: false } },
    { given: '192.0.2.010', want: { valid: false, canonical: false } }, // leading zero
    { given: '192.0.2', want: { valid: false, canonical: false } },
    { given: '192.0.2.1.', want: { valid: false, canonical: false } },
    { given: ' 192.0.2.1', want: { valid: false, canonical: false } },
    { given: '2001:db8::10', want: { valid: true, canonical: true } },
    { given: '2001:DB8::10', want: { valid: true, canonical: false } },
    { given: '2001:db8:0:0:0:0:0:10', want: { valid: true, canonical: false } },
    { given: '2001:0db8::10', want: { valid: true, canonical: false } },
    { given: '2001:db8:0:1:0:0:0:1', want: { valid: true, canonical: false } }, // longest run is compressed
    { given: '2001:db8:0:1::1', want: { valid: true, canonical: true } },
    { given: '2001:db8::1:0:0:1', want: { valid: true, canonical: true } }, // first of equal runs
    { given: '2001:db8:0:0:1::1', want: { valid: true, canonical: false } },
    { given: '2001:db8:1:1:1:1:0:1', want: { valid: true, canonical: true } }, // a single zero group stays
    { given: '2001:db8:1:1:1:1::1', want: { valid: true, canonical: false } },
    { given: '::', want: { valid: true, canonical: true } },
    { given: '::1', want: { valid: true, canonical: true } },
    { given: '1::', want: { valid: true, canonical: true } },
    { given: '::102:304', want: { valid: true, canonical: true } },
    { given: '::1.2.3.4', want: { valid: true, canonical: false } }, // embedded IPv4 notation
    { given: '::ffff:192.0.2.1', want: { valid: false, canonical: false } }, // IPv4-mapped
    { given: 'fe80::1%eth0', want: { valid: false, canonical: false } }, // zone
    { given: '1:2:3:4:5:6:7:8:9', want: { valid: false, canonical: false } },
    { given: '1:2:3:4:5:6:7:8::', want: { valid: false, canonical: false } },
    { given: '1::2::3', want: { valid: false, canonical: false } },
    { given: '12345::', want: { valid: false, canonical: false } },
    { given: 'api.example.com', want: { valid: false, canonical: false } },
    { given: '', want: { valid: false, canonical: false } },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.given)} is ${c.want.valid ? '' : 'not '}valid${c.want.valid ? `, ${c.want.canonical ? '' : 'not '}canonical` : ''}`, () => {
      assert.deepEqual({ valid: isIP(c.given), canonical: isCanonicalIP(c.given) }, c.want);
    });
  }

  it('formats the canonical form of any accepted spelling', () => {
    const ip = parseIP('2001:0DB8:0000:0000:0001:0000:0000:0001');
    assert.ok(ip);
    assert.equal(formatIP(ip), '2001:db8::1:0:0:1');
  });
});

describe('isSpecialEndpointIP', () => {
  const cases: { given: string; want: boolean }[] = [
    { given: '0.0.0.0', want: true },
    { given: '127.0.0.1', want: true },
    { given: '127.255.0.9', want: true },
    { given: '169.254.169.254', want: true }, // cloud metadata: link-local
    { given: '224.0.0.251', want: true }, // link-local multicast (mDNS)
    { given: '224.0.1.1', want: false }, // multicast, not link-local
    { given: '10.0.0.1', want: false },
    { given: '192.0.2.10', want: false },
    { given: '::', want: true },
    { given: '::1', want: true },
    { given: 'fe80::1', want: true },
    { given: 'febf::1', want: true },
    { given: 'fec0::1', want: false },
    { given: 'ff02::1', want: true },
    { given: 'ff12::1', want: true }, // transient-flag link-local multicast
    { given: 'ff05::1', want: false },
    { given: '2001:db8::10', want: false },
    { given: 'not-an-ip', want: false },
  ];
  for (const c of cases) {
    it(`${c.given} is ${c.want ? '' : 'not '}refused in endpoints`, () => {
      assert.equal(isSpecialEndpointIP(c.given), c.want);
    });
  }
});
