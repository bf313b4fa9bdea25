import { ROLES, type Role } from '../../contracts/accounts.js';
import type { AuthService } from '../accounts/auth-service.js';
import { generatePassword } from '../accounts/passwords.js';
import type { AuditLog } from '../audit/audit-log.js';

export interface DemoAccount {
  role: Role;
  username: string;
  password: string;
}

const DISPLAY_NAMES: Record<Role, string> = {
  admin: 'Quản trị viên',
  operator: 'Cán bộ phát thanh (demo)',
  approver: 'Lãnh đạo xã duyệt tin (demo)',
  viewer: 'Theo dõi, báo cáo (demo)',
  police: 'Công an xã (demo)',
  technician: 'Kỹ thuật viên (demo)',
};

/**
 * One account per role for the demo, with fresh passwords on every run (only hashes are stored,
 * so earlier ones cannot be shown again). Accounts other than admin are limited to the commune.
 */
export async function ensureDemoAccounts(
  auth: AuthService,
  audit: AuditLog,
  options: { communeId: string; adminPassword: string | undefined },
): Promise<DemoAccount[]> {
  const accounts: DemoAccount[] = [];
  const existing = new Map(auth.listUsers({ limit: 10_000, offset: 0 }).items.map((u) => [u.username, u]));
  for (const role of ROLES) {
    const username = role === 'admin' ? 'admin' : `demo-${role}`;
    const password = role === 'admin' && options.adminPassword ? options.adminPassword : generatePassword();
    const user = existing.get(username);
    if (user) {
      await auth.resetPassword(user.id, password);
    } else {
      await auth.createUser({
        username,
        displayName: DISPLAY_NAMES[role],
        password,
        roles: [role],
        communeId: role === 'admin' ? null : options.communeId,
      });
    }
    audit.record({
      actor: { type: 'system', name: 'demo' },
      action: user ? 'user.password.reset' : 'user.create',
      target: { type: 'user', id: user?.id ?? username },
      outcome: 'success',
    });
    accounts.push({ role, username, password });
  }
  return accounts;
}
