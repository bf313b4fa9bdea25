import type { Role } from '../../contracts/accounts.js';

/** Who may call a route: anyone, any signed-in account, or holders of one of the listed roles. */
export type Access = 'public' | 'authenticated' | readonly Role[];

export interface Principal {
  via: 'session' | 'token';
  userId: string;
  username: string;
  roles: Role[];
  /**
   * The communes it may act in (its own, its list, or its province's as they stand now); null for
   * every commune.
   */
  communes: readonly string[] | null;
  /** A province account: the province it serves. */
  provinceId: string | null;
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

/** Whether a principal may see and act on records of this commune. */
export function mayActIn(principal: Principal | null | undefined, communeId: string): boolean {
  return !principal?.communes || principal.communes.includes(communeId);
}

/**
 * The one commune an account belongs to, where records it makes are kept (its media library,
 * its groups' id namespace); null for accounts of several communes, a province or everywhere.
 */
export function homeCommune(principal: Principal | null | undefined): string | null {
  return principal?.communes?.length === 1 ? (principal.communes[0] as string) : null;
}
