import { describe, expect, it } from 'vitest';
import { lanAddress, mediaBaseUrl } from '../../services/media/media-base-url.js';
import { startTestPlatform } from '../support/platform-harness.js';

/*
 * Clusters download media from the URL in their play commands. With PUBLIC_BASE_URL unset, a
 * platform listening on every interface used to name 127.0.0.1, which no real cluster can reach.
 */
describe('where clusters download media from', () => {
  const nic = (address: string, internal = false) => ({
    address,
    family: 'IPv4' as const,
    internal,
    netmask: '255.255.255.0',
    mac: '00:00:00:00:00:00',
    cidr: `${address}/24`,
  });

  it("uses this PC's LAN address when PUBLIC_BASE_URL is unset and HTTP listens on every interface", () => {
    const lan = lanAddress({
      lo: [nic('127.0.0.1', true)],
      docker0: [nic('203.0.113.5')],
      eth0: [nic('192.168.1.10')],
    });
    expect(lan).toBe('192.168.1.10');
    expect(mediaBaseUrl({ HTTP_HOST: '0.0.0.0' }, 3000, lan)).toEqual({
      url: 'http://192.168.1.10:3000',
      source: 'lan-address',
      warning: null,
    });
  });

  it('says plainly that clusters cannot download when there is no LAN address to use', () => {
    const base = mediaBaseUrl({ HTTP_HOST: '0.0.0.0' }, 3000, lanAddress({ lo: [nic('127.0.0.1', true)] }));
    expect(base).toMatchObject({ url: 'http://127.0.0.1:3000', source: 'loopback' });
    expect(base.warning).toMatch(/PUBLIC_BASE_URL/);
  });

  it('keeps PUBLIC_BASE_URL, or the address HTTP listens on, when given', () => {
    expect(mediaBaseUrl({ HTTP_HOST: '0.0.0.0', PUBLIC_BASE_URL: 'http://loa.xa.vn/' }, 3000, null).url).toBe(
      'http://loa.xa.vn',
    );
    expect(mediaBaseUrl({ HTTP_HOST: '10.0.0.7' }, 8080, null)).toMatchObject({
      url: 'http://10.0.0.7:8080',
      source: 'http-host',
    });
  });

  it('shows the choice on /healthz', async () => {
    const t = await startTestPlatform();
    try {
      const health = (await t.api('/healthz', { as: 'anonymous' })).body;
      expect(health.media).toEqual({ baseUrl: t.httpUrl, source: 'http-host', warning: null });
    } finally {
      await t.close();
    }
  });
});
