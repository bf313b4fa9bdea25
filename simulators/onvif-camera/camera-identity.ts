import { createHash } from 'node:crypto';

/** What a camera is, independent of whether it is up: survives reboots and restarts. */
export interface CameraIdentity {
  name: string;
  location: string;
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
  /** WS-Discovery endpoint reference (WS-Discovery 2005/04 §2.6), stable per name and seed. */
  uuid: string;
}

/** Vietnamese to ASCII for scopes and the snapshot overlay: strip tone and vowel marks, đ→d. */
export function asciiFold(text: string): string {
  return text
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** A scope path segment: ONVIF Core §7.3.2.2 scopes are URIs, so spaces become `_` (as cameras do). */
export function scopeSegment(text: string): string {
  return encodeURIComponent(asciiFold(text).trim().replace(/\s+/g, '_'));
}

export function deriveIdentity(input: {
  name: string;
  location: string;
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  seed: number;
}): CameraIdentity {
  const hash = createHash('sha1').update(`${input.seed}:${input.name}`).digest('hex');
  // RFC 4122 §4.3 name-based layout (version 5, variant 10xx).
  const variant = ((Number.parseInt(hash.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  const uuid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-5${hash.slice(13, 16)}-${variant}${hash.slice(18, 20)}-${hash.slice(20, 32)}`;
  return {
    name: input.name,
    location: input.location,
    manufacturer: input.manufacturer,
    model: input.model,
    firmwareVersion: input.firmwareVersion,
    serialNumber: `SC${hash.slice(0, 10).toUpperCase()}`,
    hardwareId: `${input.model}-HW1`,
    uuid,
  };
}

/** The scopes a camera advertises in ProbeMatch and GetScopes (ONVIF Core §7.3.2.2). */
export function cameraScopes(identity: CameraIdentity): string[] {
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/name/${scopeSegment(identity.name)}`,
    `onvif://www.onvif.org/hardware/${scopeSegment(identity.model)}`,
    `onvif://www.onvif.org/location/${scopeSegment(identity.location)}`,
  ];
}
