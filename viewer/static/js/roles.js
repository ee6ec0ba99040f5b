// Roles of CPMS users and how they are written on screen.

/** Every role, with what it lets a user do. */
export const ROLES = [
  { name: 'HP', about: 'Health professional: enrols patients, opens and joins panels, contributes.' },
  { name: 'Coordinator', about: 'Handles requests for assistance of the ERN, approves access and sees the KPIs.' },
  { name: 'Dispatcher', about: 'Handles requests for assistance on behalf of the coordinator.' },
  { name: 'Researcher', about: 'Queries anonymised data and reports.' },
  { name: 'Guest', about: 'External expert or enrolling guest, for a limited time.' },
  { name: 'Assistant', about: 'Works on behalf of a clinician of the same centre.' },
  { name: 'ERN admin', about: 'Administers the users and access requests of the ERN.' },
  { name: 'Helpdesk', about: 'Supports users: resets passwords and two-step verification.' },
];

const ADMIN_ROLES = new Set(['ERN admin', 'Coordinator', 'Helpdesk']);

/** Whether the user may use the administration page. */
export function isAdmin(me) {
  return Array.isArray(me?.roles) && me.roles.some((r) => ADMIN_ROLES.has(r.role));
}

/** "HP · EuroBloodNet · BE10" */
export function roleLabel(role) {
  return [role.role, role.ern, role.centre].filter((part) => typeof part === 'string' && part !== '').join(' · ');
}

/** The roles of a user in a stable order: by ERN, centre, then role. */
export function sortedRoles(roles) {
  const key = (r) => `${r.ern || ''}\u0000${r.centre || ''}\u0000${r.role || ''}`;
  return Array.isArray(roles) ? [...roles].sort((a, b) => key(a).localeCompare(key(b))) : [];
}
