import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_CAMERA_NETWORKS } from '../devices/onvif-camera/address-policy.js';

const port = z.coerce.number().int().min(0).max(65_535);
const optionalUrl = z.url().optional();
/** `10.0.0.0/8`, `fc00::/7` or a single address. */
const isNetwork = (value: string) => {
  const [address, bits, ...rest] = value.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
};

/** Every environment variable the platform reads, validated once at boot (DESIGN.md "Configuration"). */
export const ConfigSchema = z.object({
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: port.default(3000),
  MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  MQTT_PORT: port.default(1883),
  MQTT_URL: optionalUrl.describe('external broker; when set, no broker is embedded'),
  MQTT_MAX_PACKET_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(268_435_455)
    .default(256 * 1024),
  REDIS_URL: optionalUrl.describe(
    'redis:// shared by several instances: leases for the singleton loops, presence, console events and, for the embedded broker, pub/sub and sessions (docs/scale-out.md)',
  ),
  CLUSTER_LEASE_MS: z.coerce
    .number()
    .int()
    .min(300)
    .max(60_000)
    .default(5000)
    .describe(
      'with REDIS_URL: how long a dead instance keeps its leases and its devices look connected (docs/scale-out.md)',
    ),
  MQTT_INTERNAL_USERNAME: z.string().min(1).default('_platform'),
  MQTT_INTERNAL_PASSWORD: z.string().min(16).optional(),
  MQTT_DYNSEC: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      "with MQTT_URL: keep Mosquitto's dynamic security plugin in step with the registry (docs/scale-out.md)",
    ),
  EMQX_HOOK_TOKEN: z
    .string()
    .min(32)
    .optional()
    .describe(
      "the bearer token EMQX's HTTP authentication and authorization backends send (docs/scale-out.md)",
    ),
  EMQX_HOOK_TOKEN_PREVIOUS: z.string().min(32).optional().describe('the token being rotated out'),
  EMQX_HOOK_TOKEN_PREVIOUS_UNTIL: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('when EMQX_HOOK_TOKEN_PREVIOUS stops being accepted'),
  EMQX_HOOK_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(60).max(10_000_000).default(120_000),
  DATA_DIR: z.string().min(1).default('./data'),
  KEYS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe(
      "where the platform's keys are kept (download-link signing, sealed camera passwords and webhook secrets); default DATA_DIR. Instances sharing DATABASE_URL need the same keys",
    ),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .describe(
      'postgres://user:pass@host/db: the state of every store is kept there, each instance keeping a copy in DATA_DIR (docs/scale-out.md)',
    ),
  TZ_DEFAULT: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'not an IANA time zone')
    .default('Asia/Ho_Chi_Minh'),
  ADMIN_PASSWORD: z.string().min(12).optional(),
  HEARTBEAT_INTERVAL_S: z.coerce.number().int().min(5).max(3600).default(30),
  HEARTBEAT_MISSED_LIMIT: z.coerce.number().int().min(1).max(20).default(3),
  INFLUX_URL: optionalUrl.describe('InfluxDB for history; without it history is kept in DATA_DIR'),
  INFLUX_TOKEN: z
    .string()
    .optional()
    .describe('v2/v3: an API token; v1: "user:password" when authentication is enabled'),
  INFLUX_ORG: z.string().optional().describe('v2: the organisation (3.x ignores it)'),
  INFLUX_BUCKET: z
    .string()
    .min(1)
    .default('smart_commune')
    .describe('v2: the bucket; v1: the database, or "database/retention-policy"'),
  INFLUX_API: z.enum(['v2', 'v1']).default('v2'),
  HISTORY_RAW_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(31)
    .describe('embedded store: days of raw points before they become hourly aggregates'),
  HISTORY_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(400)
    .describe('embedded store: days of hourly aggregates and presence history'),
  HISTORY_BUFFER_POINTS: z.coerce
    .number()
    .int()
    .min(100)
    .max(10_000_000)
    .default(100_000)
    .describe('points held while the history store is unreachable; beyond it the oldest are dropped'),
  CAMERA_DISCOVERY_INTERFACE: z
    .string()
    .optional()
    .describe('network interface WS-Discovery probes from (e.g. eth0); default the default route'),
  CAMERA_NETWORKS: z
    .string()
    .default(DEFAULT_CAMERA_NETWORKS.join(','))
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((networks) => networks.every(isNetwork), 'comma-separated addresses or CIDR networks')
    .describe('networks cameras may be reached on (SSRF guard); default the private LAN ranges'),
  CAMERA_POLL_INTERVAL_S: z.coerce.number().int().min(5).max(3600).default(30),
  CAMERA_POLL_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(16)
    .describe('cameras polled at once during a health sweep'),
  CAMERA_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3000),
  CAMERA_OFFLINE_AFTER_POLLS: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(3)
    .describe('consecutive unanswered polls before a camera is offline'),
  CAMERA_RECOVERY_POLLS: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(2)
    .describe('consecutive good polls that confirm a camera is back'),
  HISTORY_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(5000),
  HISTORY_FLUSH_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
  SEED_PRESET: z.enum(['none', 'huong-dao', 'phu-tho-pilots']).default('none'),
  PUBLIC_BASE_URL: optionalUrl.describe(
    'how devices reach the HTTP port (media downloads); default http://<HTTP_HOST>:<port>',
  ),
  MEDIA_MAX_MB: z.coerce.number().min(1).max(2048).default(50),
  /** Largest firmware image accepted for upload (services/firmware). */
  FIRMWARE_MAX_MB: z.coerce.number().min(1).max(1024).default(64),
  /** Disk space held back in DATA_DIR so an emergency bulletin is recorded on a disk that filled up. */
  /** Audit entries older than this are archived to DATA_DIR/audit-archive and removed (0: kept forever). */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(400),
  DISK_RESERVE_MB: z.coerce.number().int().min(0).max(4096).default(32),
  DISPATCH_LEAD_S: z.coerce.number().int().min(5).max(3600).default(120),
  LATE_START_GRACE_S: z.coerce.number().int().min(0).max(3600).default(60),
  SESSION_MAX_H: z.coerce.number().min(0.1).max(720).default(12),
  SESSION_IDLE_MIN: z.coerce.number().min(1).max(1440).default(120),
  COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  CONSOLE_TILE_URL: z
    .string()
    .regex(/^https?:\/\/[^/]+\/.*\{z\}.*/, 'a tile URL template such as https://tile.example/{z}/{x}/{y}.png')
    .optional()
    .describe('Leaflet tile URL template for the console map; without it markers sit on a plain background'),
  CONSOLE_TILE_ATTRIBUTION: z.string().optional().describe("the tile server's attribution, shown on the map"),
  LOGIN_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).max(10_000).default(30),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('behind a reverse proxy: take client addresses and HTTPS from X-Forwarded-* headers'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TLS_CERT_FILE: z.string().min(1).optional().describe('PEM certificate (chain): HTTP_PORT serves HTTPS'),
  TLS_KEY_FILE: z.string().min(1).optional().describe('PEM private key of TLS_CERT_FILE'),
  TLS_SELF_SIGNED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('HTTPS with a certificate issued by a local authority kept in DATA_DIR/tls (docs/https.md)'),
  LIVE_MAX_MIN: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(120)
    .describe('the longest live talk; it ends by itself then'),
  LIVE_SILENCE_S: z.coerce
    .number()
    .int()
    .min(2)
    .max(600)
    .default(10)
    .describe('without audio from the console this long (a lost connection), a live talk ends everywhere'),
  STATION_DEAD_AIR_S: z.coerce
    .number()
    .int()
    .min(3)
    .max(600)
    .default(20)
    .describe('a relayed station silent this long switches the relay to its fallback'),
  STATION_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).default(10_000),
  STATION_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('let stations be fetched from this PC (a stream server running beside the platform)'),
  WEBHOOK_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('let webhooks be sent over plain http (a provincial system on the LAN); default https only'),
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('let webhooks be sent to private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)'),
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('let webhooks be sent to this PC (a receiver running beside the platform)'),
  SMTP_URL: z
    .url({ protocol: /^smtps?$/ })
    .optional()
    .describe(
      'e-mail notifications: smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465',
    ),
  SMTP_FROM: z
    .string()
    .min(3)
    .max(320)
    .optional()
    .describe('the sender of e-mail notifications, e.g. "Đài truyền thanh xã <loa@xa.gov.vn>"'),
  TELEGRAM_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.telegram.org'),
  TELEGRAM_BOT_TOKEN: z.string().min(8).optional().describe('the Telegram bot that sends notifications'),
  ZALO_API_BASE: z.url({ protocol: /^https?$/ }).default('https://openapi.zalo.me'),
  ZALO_ACCESS_TOKEN: z.string().min(8).optional().describe("the Zalo Official Account's access token"),
  TTS_COMMAND: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(' ').filter(Boolean) : undefined))
    .describe(
      'a program that reads text on stdin and writes a WAV to {out} ({voice}, {dialect} filled in); default eSpeak NG',
    ),
  MEDIA_HTTP_PORT: port
    .optional()
    .describe('with HTTPS: a plain-HTTP port that serves only media downloads, for clusters without TLS'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Values never repeated in an error message: they hold a password or a token. */
const SECRET_KEYS = new Set([
  'EMQX_HOOK_TOKEN',
  'EMQX_HOOK_TOKEN_PREVIOUS',
  'DATABASE_URL',
  'SMTP_URL',
  'TELEGRAM_BOT_TOKEN',
  'ZALO_ACCESS_TOKEN',
]);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; empty strings count as unset so `FOO=` in a .env file means "default". */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const result = ConfigSchema.safeParse({ ...relevant, ...asEnvironment(overrides) });
  if (result.success) {
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0) throw new ConfigError(problems);
  }
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const shown = key in relevant && !SECRET_KEYS.has(key) ? ` (got "${relevant[key]}")` : '';
        return `${key}: ${issue.message}${shown}`;
      }),
    );
  }
  return result.data;
}

/**
 * Overrides are typed as the parsed configuration, but go through the same schema as the
 * environment: a list (CORS_ORIGINS) or a flag (TRUST_PROXY) goes back to its environment spelling.
 */
function asEnvironment(overrides: Partial<Config>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(overrides).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.join(',') : typeof value === 'boolean' ? String(value) : value,
    ]),
  );
}

/** Rules that involve more than one variable. */
function crossFieldProblems(config: Config): string[] {
  const problems: string[] = [];
  if (config.INFLUX_URL && config.INFLUX_API === 'v2') {
    if (!config.INFLUX_TOKEN) problems.push('INFLUX_TOKEN: required with INFLUX_URL and INFLUX_API=v2');
    if (!config.INFLUX_ORG) problems.push('INFLUX_ORG: required with INFLUX_URL and INFLUX_API=v2');
  }
  if (!config.TLS_CERT_FILE !== !config.TLS_KEY_FILE)
    problems.push('TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE go together');
  if (config.TLS_CERT_FILE && config.TLS_SELF_SIGNED)
    problems.push('TLS_SELF_SIGNED: not with TLS_CERT_FILE (use one or the other)');
  if (config.MEDIA_HTTP_PORT !== undefined && !config.TLS_CERT_FILE && !config.TLS_SELF_SIGNED)
    problems.push(
      'MEDIA_HTTP_PORT: only with HTTPS (TLS_CERT_FILE or TLS_SELF_SIGNED); HTTP_PORT already serves media',
    );
  if (!config.SMTP_URL !== !config.SMTP_FROM) problems.push('SMTP_FROM: SMTP_URL and SMTP_FROM go together');
  if (config.MQTT_DYNSEC && !config.MQTT_URL)
    problems.push(
      'MQTT_DYNSEC: only with MQTT_URL (an external Mosquitto); the embedded broker checks the registry itself',
    );
  if (config.EMQX_HOOK_TOKEN_PREVIOUS && !config.EMQX_HOOK_TOKEN_PREVIOUS_UNTIL)
    problems.push(
      'EMQX_HOOK_TOKEN_PREVIOUS_UNTIL: required with EMQX_HOOK_TOKEN_PREVIOUS (when the old token stops working)',
    );
  if (
    config.EMQX_HOOK_TOKEN_PREVIOUS_UNTIL &&
    Date.parse(config.EMQX_HOOK_TOKEN_PREVIOUS_UNTIL) - Date.now() > 31 * 86_400_000
  )
    problems.push('EMQX_HOOK_TOKEN_PREVIOUS_UNTIL: at most 31 days ahead; a rotation should not linger');
  if (config.EMQX_HOOK_TOKEN_PREVIOUS && !config.EMQX_HOOK_TOKEN)
    problems.push('EMQX_HOOK_TOKEN_PREVIOUS: only with EMQX_HOOK_TOKEN (the token that replaces it)');
  return problems;
}
