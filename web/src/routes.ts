import { type ComponentType, lazy } from 'react';
import type { Me, Role } from './api/types';
import { AlarmBadge } from './components/alarm-badge';
import { InboxBadge } from './components/inbox-badge';

export interface PageRoute {
  path: string;
  /** i18n key of the navigation label; routes without one are reached by links only. */
  nav?: string;
  testId?: string;
  roles: readonly Role[];
  /** Whether the navigation offers the page to an account its roles allow (default: yes). */
  offered?: (me: Me) => boolean;
  /** Drawn after the navigation label: how many things wait on the page. */
  badge?: ComponentType;
  component: ReturnType<typeof lazy>;
}

const operators = ['operator', 'technician'] as const;
/** Those who follow the bulletins of the province: who sends or schedules them, approves, or watches. */
const bulletinReaders = ['operator', 'approver', 'viewer'] as const;
const admin = (me: Me) => me.roles.includes('admin');

/** One chunk per page, so Leaflet and uPlot only load where they are drawn. */
export const ROUTES: PageRoute[] = [
  {
    path: '/',
    nav: 'nav.dashboard',
    testId: 'nav-dashboard',
    roles: operators,
    component: lazy(() => import('./pages/dashboard')),
  },
  {
    // An approver's first page: what waits for them.
    path: '/approvals',
    nav: 'nav.approvals',
    testId: 'nav-approvals',
    roles: ['approver'],
    component: lazy(() => import('./pages/approvals')),
  },
  {
    // A province account's page, and the first of a province viewer.
    path: '/province',
    nav: 'nav.province',
    testId: 'nav-province',
    roles: bulletinReaders,
    offered: (me) => me.user.provinceId !== null || admin(me),
    component: lazy(() => import('./pages/province')),
  },
  {
    path: '/province/bulletins/:id',
    roles: bulletinReaders,
    component: lazy(() => import('./pages/province-bulletin')),
  },
  {
    path: '/map',
    nav: 'nav.map',
    testId: 'nav-map',
    roles: operators,
    component: lazy(() => import('./pages/map')),
  },
  {
    path: '/calendar',
    nav: 'nav.calendar',
    testId: 'nav-calendar',
    roles: [...operators, 'approver', 'viewer'],
    component: lazy(() => import('./pages/calendar')),
  },
  {
    path: '/control-schedules',
    nav: 'nav.controlSchedules',
    testId: 'nav-control-schedules',
    roles: operators,
    component: lazy(() => import('./pages/control-schedules')),
  },
  {
    path: '/announcements',
    nav: 'nav.announcements',
    testId: 'nav-announcements',
    roles: ['operator'],
    component: lazy(() => import('./pages/announcements')),
  },
  {
    // The communes' inbox; a province account follows the same receipts on its province page.
    path: '/inbox',
    nav: 'nav.inbox',
    testId: 'nav-inbox',
    roles: bulletinReaders,
    offered: (me) => me.user.provinceId === null || admin(me),
    badge: InboxBadge,
    component: lazy(() => import('./pages/inbox')),
  },
  {
    path: '/groups',
    nav: 'groups.nav',
    testId: 'nav-groups',
    roles: ['operator'],
    component: lazy(() => import('./pages/groups')),
  },
  {
    path: '/emergency',
    nav: 'nav.emergency',
    testId: 'nav-emergency',
    roles: ['operator'],
    component: lazy(() => import('./pages/emergency')),
  },
  {
    path: '/live',
    nav: 'nav.live',
    testId: 'nav-live',
    roles: ['operator'],
    component: lazy(() => import('./pages/live')),
  },
  {
    path: '/stations',
    nav: 'nav.stations',
    testId: 'nav-stations',
    // Admins keep the list, operators relay from it, technicians check it.
    roles: ['operator', 'technician'],
    component: lazy(() => import('./pages/stations')),
  },
  {
    path: '/reports',
    nav: 'nav.reports',
    testId: 'nav-reports',
    // Approvers read what aired, who approved it, and the emergencies to review.
    roles: ['operator', 'approver', 'viewer'],
    component: lazy(() => import('./pages/reports')),
  },
  {
    // Báo cáo tổng hợp: what a commune or a province reports to the level above (Circular 39).
    path: '/summary',
    nav: 'nav.summary',
    testId: 'nav-summary',
    roles: ['operator', 'approver', 'viewer'],
    component: lazy(() => import('./pages/summary-report')),
  },
  {
    // What needs someone: open alarms and village outages; technicians also set maintenance and rules.
    path: '/alarms',
    nav: 'nav.alarms',
    testId: 'nav-alarms',
    roles: ['operator', 'technician', 'viewer'],
    // A commune's own work; province accounts follow bulletins (as with the inbox).
    offered: (me) => me.user.provinceId === null || admin(me),
    badge: AlarmBadge,
    component: lazy(() => import('./pages/alarms')),
  },
  {
    // Cập nhật phần mềm: firmware images and staged rollouts (the routes' access: technicians).
    path: '/firmware',
    nav: 'firmware.nav',
    testId: 'nav-firmware',
    roles: ['technician'],
    component: lazy(() => import('./pages/firmware')),
  },
  {
    // Kiểm tra sẵn sàng: operators and technicians run drills, viewers read the reports.
    path: '/readiness',
    nav: 'readiness.nav',
    testId: 'nav-readiness',
    roles: ['operator', 'technician', 'viewer'],
    offered: (me) => me.user.provinceId === null || admin(me),
    component: lazy(() => import('./pages/readiness')),
  },
  {
    // Who is told of alarms: technicians keep it, operators and viewers read it and its log.
    path: '/notifications',
    nav: 'notify.nav',
    testId: 'nav-notifications',
    roles: ['operator', 'technician', 'viewer'],
    offered: (me) => me.user.provinceId === null || admin(me),
    component: lazy(() => import('./pages/notifications')),
  },
  {
    path: '/cameras',
    nav: 'nav.cameras',
    testId: 'nav-cameras',
    roles: ['police', 'technician'],
    component: lazy(() => import('./pages/cameras')),
  },
  { path: '/devices/:id', roles: ['technician'], component: lazy(() => import('./pages/device')) },
  {
    path: '/communes',
    nav: 'nav.communes',
    testId: 'nav-communes',
    roles: ['admin'],
    component: lazy(() => import('./pages/communes')),
  },
  {
    path: '/users',
    nav: 'nav.users',
    testId: 'nav-users',
    roles: ['admin'],
    component: lazy(() => import('./pages/users')),
  },
  {
    path: '/clusters',
    nav: 'clusterForm.nav',
    testId: 'nav-clusters',
    roles: ['technician'],
    component: lazy(() => import('./pages/clusters')),
  },
  {
    path: '/credentials',
    nav: 'nav.credentials',
    testId: 'nav-credentials',
    roles: ['technician'],
    component: lazy(() => import('./pages/credentials')),
  },
  {
    path: '/audit',
    nav: 'nav.audit',
    testId: 'nav-audit',
    roles: ['admin'],
    component: lazy(() => import('./pages/audit')),
  },
  {
    path: '/help/https',
    roles: ['admin', 'operator', 'approver', 'viewer', 'police', 'technician'],
    component: lazy(() => import('./pages/https-help')),
  },
  {
    path: '/password',
    nav: 'passwordReset.nav',
    testId: 'nav-password',
    roles: ['admin', 'operator', 'approver', 'viewer', 'police', 'technician'],
    component: lazy(() => import('./pages/password')),
  },
];
