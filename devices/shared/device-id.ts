import { z } from 'zod';

/**
 * A device id is the device's MQTT username, client id and topic segment at once, so it must be a
 * valid topic level ([MQTT-4.7.1] forbids `+`, `#` and `/` inside a level) and fit the 23-byte
 * client-id length every MQTT 3.1.1 broker must accept ([MQTT-3.1.3-5]).
 */
export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,22}$/;

export const DeviceIdSchema = z
  .string()
  .regex(
    DEVICE_ID_PATTERN,
    'lower-case letters, digits and "-", 2 to 23 characters, starting with a letter or digit',
  );

export type DeviceId = z.infer<typeof DeviceIdSchema>;

export function isDeviceId(value: string): value is DeviceId {
  return DEVICE_ID_PATTERN.test(value);
}
