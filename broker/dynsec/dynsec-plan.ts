import { DEVICE_TOPIC_KINDS, TOPIC_ROOT, topicFor } from '../../devices/index.js';

/*
 * Mosquitto's dynamic security plugin (2.0) as the policy of broker/acl.ts. Its ACL topics take no
 * `%c`/`%u` substitution (the acl_file's `pattern` lines have it; dynsec roles do not before 2.1),
 * so each device gets a role of its own naming its literal topics: `publishClientSend` on its
 * state, heartbeat, ack and event; `subscribeLiteral` on its command topic (literal, so a filter
 * such as `sc/v1/+/cmd` that would also match other devices' commands is refused with SUBACK 0x80)
 * and `publishClientReceive` on it. Everything else falls to the plugin's default access, which
 * denies publishing and subscribing.
 */

/** The `$CONTROL` topic of the plugin's command API and the topic it answers on. */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

export const DEVICE_ROLE_PREFIX = 'sc-device-';
export const PLATFORM_ROLE = 'sc-platform';
/** Marks the broker clients this platform manages (and may delete) among any others. */
const MANAGED_MARK = 'smart-commune device';

export type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

export interface DynsecAcl {
  acltype: AclType;
  topic: string;
  allow: boolean;
  priority?: number;
}

export interface DynsecRole {
  rolename: string;
  acls?: DynsecAcl[];
}

export interface DynsecClient {
  username: string;
  clientid?: string;
  textname?: string;
  textdescription?: string;
  disabled?: boolean;
  roles?: { rolename: string; priority?: number }[];
}

/** One command of the plugin's API (plugins/dynamic-security/README.md in Mosquitto). */
export type DynsecCommand = { command: string } & Record<string, unknown>;

export const deviceRole = (deviceId: string) => `${DEVICE_ROLE_PREFIX}${deviceId}`;

export function deviceAcls(deviceId: string): DynsecAcl[] {
  return [
    ...DEVICE_TOPIC_KINDS.map((kind) => ({
      acltype: 'publishClientSend' as const,
      topic: topicFor(deviceId, kind),
      allow: true,
    })),
    { acltype: 'subscribeLiteral', topic: topicFor(deviceId, 'cmd'), allow: true },
    { acltype: 'publishClientReceive', topic: topicFor(deviceId, 'cmd'), allow: true },
  ];
}

/** The platform reads and writes the whole protocol root, as in broker/acl.ts. */
export function platformAcls(): DynsecAcl[] {
  const root = `${TOPIC_ROOT}/#`;
  return [
    { acltype: 'publishClientSend', topic: root, allow: true },
    { acltype: 'publishClientReceive', topic: root, allow: true },
    { acltype: 'subscribePattern', topic: root, allow: true },
    { acltype: 'unsubscribePattern', topic: root, allow: true },
  ];
}

/**
 * What the client's description records: which credential the plugin holds for it. The registry
 * keeps only a hash of the secret, so after a restart this is how the platform knows whether the
 * password in the plugin is the current one.
 */
export function credentialStamp(issuedAt: number | null): string {
  return `${MANAGED_MARK}; ${issuedAt === null ? 'no credential' : `credential issued ${new Date(issuedAt).toISOString()}`}`;
}

/** When the credential a client's description records was issued: null for none or unreadable. */
export function stampedIssuedAt(client: DynsecClient): number | null {
  const issued = /credential issued (\S+)$/.exec(client.textdescription ?? '')?.[1];
  const at = issued === undefined ? Number.NaN : Date.parse(issued);
  return Number.isNaN(at) ? null : at;
}

export function isManaged(client: DynsecClient): boolean {
  return client.textdescription?.startsWith(MANAGED_MARK) === true;
}

/** A registered device as the plugin should know it. */
export interface DesiredDevice {
  id: string;
  name: string;
  /** When its current secret was issued; null when it has none. */
  issuedAt: number | null;
  /** The plaintext secret issued in this process and not yet acknowledged by the plugin. */
  pendingSecret?: { secret: string; issuedAt: number } | undefined;
}

const sameAcls = (a: DynsecAcl[] | undefined, b: DynsecAcl[]) => {
  const key = (acl: DynsecAcl) => `${acl.acltype}\u0000${acl.topic}\u0000${acl.allow}`;
  const have = new Set((a ?? []).map(key));
  return have.size === b.length && b.every((acl) => have.has(key(acl)));
};

/**
 * The commands that bring one device's role and client from what the plugin holds to what the
 * registry says. Only what differs is sent: the plugin disconnects a client whose record is
 * modified, so a no-op reconcile must not touch connected devices.
 */
export function planDevice(
  desired: DesiredDevice,
  current: { client: DynsecClient | null; role: DynsecRole | null },
): DynsecCommand[] {
  const rolename = deviceRole(desired.id);
  const acls = deviceAcls(desired.id);
  const commands: DynsecCommand[] = [];
  if (!current.role) commands.push({ command: 'createRole', rolename, acls });
  else if (!sameAcls(current.role.acls, acls)) commands.push({ command: 'modifyRole', rolename, acls });

  const pending = desired.pendingSecret;
  const client = current.client;
  if (!client) {
    commands.push({
      command: 'createClient',
      username: desired.id,
      clientid: desired.id,
      textname: desired.name,
      textdescription: credentialStamp(pending ? pending.issuedAt : null),
      roles: [{ rolename }],
      // Without a password the client exists but nobody can log in as it.
      ...(pending ? { password: pending.secret } : {}),
    });
    return commands;
  }
  const change: Record<string, unknown> = {};
  const roles = client.roles ?? [];
  if (roles.length !== 1 || roles[0]?.rolename !== rolename) change.roles = [{ rolename }];
  if (client.clientid !== desired.id) change.clientid = desired.id;
  if (pending) {
    change.password = pending.secret;
    change.textdescription = credentialStamp(pending.issuedAt);
  }
  if (Object.keys(change).length > 0)
    commands.push({ command: 'modifyClient', username: desired.id, ...change });
  const stamp = pending ? credentialStamp(pending.issuedAt) : client.textdescription;
  const upToDate = stamp === credentialStamp(desired.issuedAt);
  // A password older than the registry's secret must stop working: the new one was issued by
  // another process (or before a restart) and is known here only as a hash.
  if (!upToDate && !client.disabled) commands.push({ command: 'disableClient', username: desired.id });
  // With a new secret, enabled even if it looked enabled: another instance may have disabled the
  // old password since it was read, which the new one overtakes.
  if (upToDate && (client.disabled || pending))
    commands.push({ command: 'enableClient', username: desired.id });
  return commands;
}

/** A device no longer registered: its client (which the plugin disconnects) and its role go. */
export function planRemoval(deviceId: string, current: { client: boolean; role: boolean }): DynsecCommand[] {
  return [
    ...(current.client ? [{ command: 'deleteClient', username: deviceId }] : []),
    ...(current.role ? [{ command: 'deleteRole', rolename: deviceRole(deviceId) }] : []),
  ];
}

/** The platform's own account: the role that lets it read and write the protocol root. */
export function planPlatform(
  username: string,
  current: { client: DynsecClient | null; role: DynsecRole | null },
): DynsecCommand[] {
  const acls = platformAcls();
  const commands: DynsecCommand[] = [];
  if (!current.role) commands.push({ command: 'createRole', rolename: PLATFORM_ROLE, acls });
  else if (!sameAcls(current.role.acls, acls))
    commands.push({ command: 'modifyRole', rolename: PLATFORM_ROLE, acls });
  if (current.client && !(current.client.roles ?? []).some((r) => r.rolename === PLATFORM_ROLE))
    commands.push({ command: 'addClientRole', username, rolename: PLATFORM_ROLE });
  return commands;
}

/** Everything a full reconcile sends, from the plugin's lists and the registry's devices. */
export function planReconcile(input: {
  platformUser: string;
  devices: DesiredDevice[];
  clients: DynsecClient[];
  roles: DynsecRole[];
}): { commands: DynsecCommand[]; conflicts: string[] } {
  const clients = new Map(input.clients.map((c) => [c.username, c]));
  const roles = new Map(input.roles.map((r) => [r.rolename, r]));
  const commands = planPlatform(input.platformUser, {
    client: clients.get(input.platformUser) ?? null,
    role: roles.get(PLATFORM_ROLE) ?? null,
  });
  const registered = new Set<string>();
  const conflicts: string[] = [];
  for (const device of input.devices) {
    registered.add(device.id);
    const client = clients.get(device.id) ?? null;
    // A broker account the platform did not make (an operator's, the platform's own): left alone.
    if ((client && !isManaged(client)) || device.id === input.platformUser) {
      conflicts.push(device.id);
      continue;
    }
    commands.push(...planDevice(device, { client, role: roles.get(deviceRole(device.id)) ?? null }));
  }
  for (const client of input.clients) {
    if (isManaged(client) && !registered.has(client.username))
      commands.push(...planRemoval(client.username, { client: true, role: false }));
  }
  for (const role of input.roles) {
    if (!role.rolename.startsWith(DEVICE_ROLE_PREFIX)) continue;
    const id = role.rolename.slice(DEVICE_ROLE_PREFIX.length);
    if (!registered.has(id)) commands.push({ command: 'deleteRole', rolename: role.rolename });
  }
  return { commands, conflicts };
}
