import { createContext, useContext } from 'react';
import type { Me, Role } from './api/types';

export interface Session {
  me: Me;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in view');
  return session;
}

/** Admin may use everything; everyone else needs one of the roles. */
export function allowed(roles: readonly Role[], needed: readonly Role[]): boolean {
  return roles.includes('admin') || needed.some((role) => roles.includes(role));
}
