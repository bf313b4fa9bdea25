import { ROLES, type Role } from '../../contracts/accounts.js';
import type { AuthService } from '../accounts/auth-service.js';
import { generatePassword } from '../accounts/passwords.js';
import type { AuditLog } from '../audit/audit-log.js';

export interface DemoAccount {
  role: Role;
  /** Where it may act: the demo commune, its province, or everywhere (admin). */
  scope: string;
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
  options: { communeId: string; provinceId?: string; adminPassword: string | undefined },
): Promise<DemoAccount[]> {
  const accounts: DemoAccount[] = [];
  const existing = new Map(
    (await auth.listUsers({ limit: 10_000, offset: 0 })).items.map((u) => [u.username, u]),
  );
  // One account per role in the commune, and the province's operator and viewer when there is one.
  const wanted: {
    role: Role;
    username: string;
    displayName: string;
    scope: { communeId?: string | null; provinceId?: string };
  }[] = ROLES.map((role) => ({
    role,
    username: role === 'admin' ? 'admin' : `demo-${role}`,
    displayName: DISPLAY_NAMES[role],
    scope: { communeId: role === 'admin' ? null : options.communeId },
  }));
  if (options.provinceId) {
    for (const role of ['operator', 'viewer'] as const) {
      wanted.push({
        role,
        username: `demo-tinh-${role}`,
        displayName: `${DISPLAY_NAMES[role]} — cấp tỉnh`,
        scope: { provinceId: options.provinceId },
      });
    }
  }
  for (const { role, username, displayName, scope } of wanted) {
    const password = role === 'admin' && options.adminPassword ? options.adminPassword : generatePassword();
    const user = existing.get(username);
    if (user) {
      await auth.resetPassword(user.id, password);
    } else {
      await auth.createUser({ username, displayName, password, roles: [role], ...scope });
    }
    audit.record({
      actor: { type: 'system', name: 'demo' },
      action: user ? 'user.password.reset' : 'user.create',
      target: { type: 'user', id: user?.id ?? username },
      outcome: 'success',
    });
    accounts.push({ role, username, password, scope: scope.provinceId ?? scope.communeId ?? 'all' });
  }
  return accounts;
}
