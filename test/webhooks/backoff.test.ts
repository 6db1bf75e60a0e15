import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryDelayMs, signWebhook } from '../../src/services/webhookDelivery.ts';

describe('webhook backoff and signature', () => {
  const options = { retryBaseMs: 1000, retryMaxMs: 60_000 };

  it('doubles per attempt, with up to half of each delay random, and never passes the cap', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const full = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      const delays = Array.from({ length: 200 }, () => retryDelayMs(attempt, options));
      assert.ok(delays.every((d) => d >= full / 2 && d <= full), `attempt ${attempt}: ${Math.min(...delays)}..${Math.max(...delays)} within ${full / 2}..${full}`);
      assert.ok(new Set(delays).size > 1, `attempt ${attempt} is jittered`);
    }
    assert.ok(retryDelayMs(1000, options) <= 60_000, 'a huge attempt number does not overflow the cap');
  });

  it("honours a receiver's Retry-After, within the cap", () => {
    assert.ok(retryDelayMs(1, options, 30_000) >= 30_000);
    assert.equal(retryDelayMs(1, options, 10 * 3_600_000), 60_000);
  });

  it('signs "<timestamp>.<body>" with HMAC-SHA256 (a known answer from openssl)', () => {
    // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    assert.equal(signWebhook('whsec_test', 1_700_000_000, '{"a":1}'), `v1=${KNOWN}`);
  });
});

/** Computed with openssl, independently of Tether's code. */
const KNOWN = '38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789';
