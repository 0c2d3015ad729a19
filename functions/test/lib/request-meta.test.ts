import { describe, expect, it } from 'vitest';
import { clientIp } from '#lib/request-meta.ts';

describe('clientIp', () => {
  it('is the address API Gateway saw when no proxy is trusted (locally, or API Gateway reached directly)', () => {
    expect(clientIp('203.0.113.7', '198.51.100.1, 203.0.113.7', 0)).toBe('203.0.113.7');
  });

  it('behind one trusted proxy (CloudFront) is the entry before the last of X-Forwarded-For', () => {
    expect(clientIp('130.176.1.1', '198.51.100.23, 130.176.1.1', 1)).toBe('198.51.100.23');
  });

  it('ignores what the client itself put in front of the header', () => {
    expect(clientIp('130.176.1.1', '10.0.0.1, 1.2.3.4, 198.51.100.23, 130.176.1.1', 1)).toBe('198.51.100.23');
  });

  it('falls back to the source address when the header is missing, too short or not an address', () => {
    expect(clientIp('130.176.1.1', undefined, 1)).toBe('130.176.1.1');
    expect(clientIp('130.176.1.1', '130.176.1.1', 1)).toBe('130.176.1.1');
    expect(clientIp('130.176.1.1', 'evil, 130.176.1.1', 1)).toBe('130.176.1.1');
    expect(clientIp('130.176.1.1', '2001:db8::5, 130.176.1.1', 1)).toBe('2001:db8::5');
  });
});
