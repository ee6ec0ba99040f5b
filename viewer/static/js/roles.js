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
  { name: 'Data protection', about: 'Data-protection officer of a centre: reads who accessed its patients, without seeing who they are.' },
];

/** The roles anyone may ask for under Access (the helpdesk is appointed by the operator). */
export const REQUESTABLE_ROLES = ROLES.filter((r) => r.name !== 'Helpdesk');

const CENTRE_ROLES = new Set(['HP', 'Assistant', 'Guest', 'Data protection']);

/** Whether a role is held at one centre (the others cover a whole ERN). */
export function needsCentre(role) {
  return CENTRE_ROLES.has(role);
}

function holds(me, names) {
  return Array.isArray(me?.roles) && me.roles.some((r) => r.active !== false && names.includes(r.role));
}

/** Whether the user decides access requests (ERN admins and coordinators). */
export function canDecideAccess(me) {
  return holds(me, ['ERN admin', 'Coordinator']);
}

/** Whether the user adds users and gives or removes roles (ERN admins). */
export function canManageUsers(me) {
  return holds(me, ['ERN admin']);
}

/** Whether the user resets passwords and second factors (ERN admins and helpdesk). */
export function canResetCredentials(me) {
  return holds(me, ['ERN admin', 'Helpdesk']);
}

/**
 * Whether the user reads the audit trail of the whole deployment: a
 * Helpdesk role that is not limited to one ERN.
 */
export function canReadAudit(me) {
  return Array.isArray(me?.roles) && me.roles.some((r) => r.active !== false
    && r.role === 'Helpdesk' && (r.ern === undefined || r.ern === null || r.ern === ''));
}

/** Whether the user is a health professional, who may appoint assistants. */
export function isClinician(me) {
  return holds(me, ['HP']);
}

/** Whether the user holds the Assistant role, and so may act for clinicians who appointed them. */
export function isAssistant(me) {
  return holds(me, ['Assistant']);
}

/**
 * Whether the user reads who accessed a patient of centre in ern: the
 * centre's data-protection officer or an administrator of the ERN.
 */
export function canReadPatientAccess(me, ern, centre) {
  return Array.isArray(me?.roles) && me.roles.some((r) => r.active !== false
    && ((r.role === 'Data protection' && r.centre === centre) || (r.role === 'ERN admin' && r.ern === ern)));
}

/** Whether the user may use the administration page. */
export function isAdmin(me) {
  return canDecideAccess(me) || canResetCredentials(me) || canReadAudit(me);
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
