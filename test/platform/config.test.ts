import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../services/config.js';

describe('configuration', () => {
  it('uses the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      HTTP_PORT: 3000,
      MQTT_PORT: 1883,
      DATA_DIR: './data',
      TZ_DEFAULT: 'Asia/Ho_Chi_Minh',
      HEARTBEAT_INTERVAL_S: 30,
      HEARTBEAT_MISSED_LIMIT: 3,
      MQTT_MAX_PACKET_BYTES: 262_144,
      INFLUX_API: 'v2',
      LOG_LEVEL: 'info',
    });
  });

  it('names every bad variable with its value in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        HTTP_PORT: 'eighty',
        TZ_DEFAULT: 'Mars/Olympus',
        HEARTBEAT_INTERVAL_S: '1',
        MQTT_URL: 'not a url',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('HTTP_PORT'))).toContain('"eighty"');
    expect(problems.find((p) => p.startsWith('TZ_DEFAULT'))).toContain('not an IANA time zone');
    expect(problems.find((p) => p.startsWith('HEARTBEAT_INTERVAL_S'))).toBeDefined();
    expect(problems.find((p) => p.startsWith('MQTT_URL'))).toBeDefined();
  });

  it('refuses HTTPS settings that do not go together, naming each', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ TLS_CERT_FILE: '/etc/ssl/loa.pem' })).toEqual([
      'TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE go together',
    ]);
    expect(problems({ TLS_CERT_FILE: '/a.pem', TLS_KEY_FILE: '/a.key', TLS_SELF_SIGNED: 'true' })[0]).toMatch(
      /^TLS_SELF_SIGNED: not with TLS_CERT_FILE/,
    );
    expect(problems({ MEDIA_HTTP_PORT: '8080' })[0]).toMatch(/^MEDIA_HTTP_PORT: only with HTTPS/);
    expect(problems({ TLS_SELF_SIGNED: 'true', MEDIA_HTTP_PORT: '8080' })).toEqual([]);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ HTTP_PORT: '', MQTT_URL: '' });
    expect(config.HTTP_PORT).toBe(3000);
    expect(config.MQTT_URL).toBeUndefined();
  });

  it('asks for what InfluxDB 2.x needs when INFLUX_URL is set, and keeps history embedded without it', () => {
    expect(loadConfig({}).INFLUX_URL).toBeUndefined();
    expect(loadConfig({})).toMatchObject({ HISTORY_RAW_DAYS: 31, HISTORY_RETENTION_DAYS: 400 });
    expect(() => loadConfig({ INFLUX_URL: 'http://influx:8086' })).toThrow(
      /INFLUX_TOKEN: required[\s\S]*INFLUX_ORG: required/,
    );
    expect(loadConfig({ INFLUX_URL: 'http://influx:8086', INFLUX_API: 'v1' })).toMatchObject({
      INFLUX_API: 'v1',
      INFLUX_BUCKET: 'smart_commune',
    });
  });
});
