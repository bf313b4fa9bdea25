import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DeviceIdSchema } from '../../devices/index.js';

const BROKER_URL_PATTERN = /^(mqtts?|wss?):\/\/[^\s]+$/;

export const BrokerUrlSchema = z
  .string()
  .regex(
    BROKER_URL_PATTERN,
    'must be an mqtt://, mqtts://, ws:// or wss:// address, e.g. mqtt://localhost:1883',
  );

export const FleetDeviceSchema = z.looseObject({
  deviceId: DeviceIdSchema,
  secret: z.string().min(1, 'must not be empty'),
});
export type FleetDevice = z.infer<typeof FleetDeviceSchema>;

/** The credentials file the platform issues (`npm run credentials -- --out fleet.json`); extra fields are kept out of the way. */
export const FleetFileSchema = z
  .looseObject({
    url: BrokerUrlSchema.optional(),
    devices: z.array(FleetDeviceSchema).min(1, 'must list at least one device'),
  })
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.devices.forEach((device, index) => {
      const first = seen.get(device.deviceId);
      if (first === undefined) seen.set(device.deviceId, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['devices', index, 'deviceId'],
          message: `"${device.deviceId}" is already listed at devices[${first}]; a client id can be connected only once`,
        });
    });
  });
export type FleetFile = z.infer<typeof FleetFileSchema>;

export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
}

/** Parses a fleet file's text; `source` names it in errors. */
export function parseFleetFile(text: string, source: string): FleetFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FleetFileError(`${source} is not valid JSON: ${reason}`);
  }
  const parsed = FleetFileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
    throw new FleetFileError(
      `${source} is not a valid fleet file:\n${lines.join('\n')}\n` +
        'expected {"url"?: "mqtt://host:1883", "devices": [{"deviceId": "...", "secret": "..."}]}',
    );
  }
  return parsed.data;
}

export async function loadFleetFile(path: string): Promise<FleetFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FleetFileError(`cannot read fleet file ${path}: ${reason}`);
  }
  return parseFleetFile(text, path);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}
