import type { Role } from '../../contracts/accounts.js';

/** Who may call a route: anyone, any signed-in account, or holders of one of the listed roles. */
export type Access = 'public' | 'authenticated' | readonly Role[];

export interface Principal {
  via: 'session' | 'token';
  userId: string;
  username: string;
  roles: Role[];
  /** Limited to one commune, or null for every commune. */
  communeId: string | null;
  sessionId?: string;
  tokenId?: string;
}

/** The pure access rule: admin passes every role check. */
export function isAllowed(
  access: Access,
  principal: Principal | null,
): 'ok' | 'unauthenticated' | 'forbidden' {
  if (access === 'public') return 'ok';
  if (!principal) return 'unauthenticated';
  if (access === 'authenticated') return 'ok';
  if (principal.roles.includes('admin')) return 'ok';
  return access.some((role) => principal.roles.includes(role)) ? 'ok' : 'forbidden';
}
