// Admin: the chain's clinics and staff with their roles and clinics.
import * as api from './api.js';
import { h, errorBox, show, listAll, words } from './ui.js';

const I = 'smp.identity.v1.IdentityService';

export async function render(root) {
  const clinicsSlot = h('div', { id: 'admin-clinics' });
  const staffSlot = h('div', { id: 'admin-staff' });
  show(root, h('section', {}, h('h2', {}, 'Clinics'), clinicsSlot), h('section', {}, h('h2', {}, 'Staff'), staffSlot));
  let clinics = [];
  try {
    clinics = await listAll((pageToken) => api.call(`${I}/ListClinics`, { pageSize: 500, pageToken }), 'clinics');
    show(clinicsSlot, h('table', { 'aria-label': 'Clinics' },
      h('thead', {}, h('tr', {}, ['Name', 'Time zone', 'Id'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, clinics.map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, c.timeZone), h('td', {}, c.id))))));
  } catch (err) {
    show(clinicsSlot, errorBox('Clinics', err));
  }
  const name = Object.fromEntries(clinics.map((c) => [c.id, c.name]));
  try {
    const staff = await listAll((pageToken) => api.call(`${I}/ListStaff`, { pageSize: 500, pageToken }), 'staff');
    show(staffSlot, h('table', { 'aria-label': 'Staff' },
      h('thead', {}, h('tr', {}, ['Username', 'Name', 'Roles', 'Clinics', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, staff.map((s) => h('tr', {}, h('td', {}, s.username), h('td', {}, s.displayName),
        h('td', {}, (s.roles || []).map((r) => words(r, 'ROLE_')).join(', ')),
        h('td', {}, (s.clinicIds || []).map((id) => name[id] || id).join(', ') || 'chain-wide'),
        h('td', {}, words(s.state, 'STAFF_STATE_')))))));
  } catch (err) {
    show(staffSlot, errorBox('Staff', err));
  }
  return null;
}
