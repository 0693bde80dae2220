// Admin: clinics (create), staff with roles and clinics (create, disable), and per clinic its
// chairs, practitioners' working hours and price lists.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, listAll, words, select,
} from './ui.js';

const I = 'smp.identity.v1.IdentityService';
const S = 'smp.scheduling.v1.SchedulingService';
const B = 'smp.billing.v1.BillingService';
const ROLES = ['ADMIN', 'FRONT_DESK', 'TECHNICIAN', 'INVENTORY_STAFF', 'BILLING_CLERK', 'AUDITOR'];
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

function money(m) {
  return m ? `${(Number(m.amountMinor || 0) / 100).toFixed(2)} ${m.currencyCode || ''}` : '';
}

// A form whose submit runs `work` and reports into its own live region.
function actionForm(id, title, controls, label, work) {
  const result = h('div', { 'aria-live': 'assertive', id: `${id}-result` });
  const form = h('form', { id }, h('h3', {}, title), h('div', { class: 'row' }, controls, h('button', { type: 'submit' }, label)), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(result);
    try {
      const message = await busy(event.submitter, work);
      show(result, h('div', { class: 'ok', role: 'status' }, message));
    } catch (err) {
      show(result, errorBox(title, err));
    }
  });
  return form;
}

export async function render(root) {
  const clinicsSlot = h('div', { id: 'admin-clinics' });
  const staffSlot = h('div', { id: 'admin-staff' });
  const clinicSlot = h('div', { id: 'admin-clinic' });
  let clinics = [];
  let staff = [];

  async function loadClinics() {
    try {
      clinics = await listAll((pageToken) => api.call(`${I}/ListClinics`, { pageSize: 500, pageToken }), 'clinics');
      show(clinicsSlot, h('table', { 'aria-label': 'Clinics' },
        h('thead', {}, h('tr', {}, ['Name', 'Time zone', 'Id'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, clinics.map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, c.timeZone), h('td', {}, c.id))))));
    } catch (err) {
      show(clinicsSlot, errorBox('Clinics', err));
    }
  }

  async function loadStaff() {
    const name = Object.fromEntries(clinics.map((c) => [c.id, c.name]));
    try {
      staff = await listAll((pageToken) => api.call(`${I}/ListStaff`, { pageSize: 500, pageToken }), 'staff');
      show(staffSlot, h('table', { 'aria-label': 'Staff' },
        h('thead', {}, h('tr', {}, ['Username', 'Name', 'Roles', 'Clinics', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, staff.map((s) => {
          const disable = s.state === 'STAFF_STATE_ACTIVE' ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Disable ${s.username}`, onclick: async (e) => {
            const reason = window.prompt(`Disable ${s.username}? Their sessions end at once. Reason:`, 'left the company');
            if (reason === null) return;
            try {
              await busy(e.currentTarget, () => api.call(`${I}/DisableStaff`, { requestId: api.requestId(), id: s.id, reason }));
              await loadStaff();
            } catch (err) {
              show(staffSlot, errorBox(`Disabling ${s.username}`, err));
            }
          } }, 'Disable') : null;
          return h('tr', {}, h('td', {}, s.username), h('td', {}, s.displayName),
            h('td', {}, (s.roles || []).map((r) => words(r, 'ROLE_')).join(', ')),
            h('td', {}, (s.clinicIds || []).map((id) => name[id] || id).join(', ') || 'chain-wide'),
            h('td', {}, words(s.state, 'STAFF_STATE_')), h('td', {}, disable));
        }))));
    } catch (err) {
      show(staffSlot, errorBox('Staff', err));
    }
  }

  // New clinic.
  const clinicName = h('input', { id: 'new-clinic-name', required: true });
  const clinicZone = h('input', { id: 'new-clinic-zone', required: true, placeholder: 'America/Chicago' });
  const newClinic = actionForm('new-clinic', 'New clinic', [field('Name', clinicName), field('IANA time zone', clinicZone)], 'Create clinic', async () => {
    const c = await api.call(`${I}/CreateClinic`, { requestId: api.requestId(), clinic: { name: clinicName.value.trim(), timeZone: clinicZone.value.trim() } });
    await loadClinics();
    return `Created ${c.name}.`;
  });

  // New staff account.
  const username = h('input', { id: 'new-username', required: true, autocomplete: 'off' });
  const display = h('input', { id: 'new-display', required: true });
  const password = h('input', { id: 'new-password', type: 'password', required: true, autocomplete: 'new-password' });
  const roleBoxes = ROLES.map((r) => h('input', { type: 'checkbox', value: `ROLE_${r}`, id: `role-${r}` }));
  const clinicBoxes = h('span', {});
  const newStaff = actionForm('new-staff', 'New staff account', [field('Username', username), field('Name', display), field('Initial password', password),
    h('fieldset', {}, h('legend', {}, 'Roles'), ROLES.map((r, i) => h('label', { for: `role-${r}` }, roleBoxes[i], ` ${words(r)} `))),
    h('fieldset', {}, h('legend', {}, 'Clinics'), clinicBoxes)], 'Create account', async () => {
    const s = await api.call(`${I}/CreateStaff`, { requestId: api.requestId(), initialPassword: password.value, staff: {
      username: username.value.trim(), displayName: display.value.trim(),
      roles: roleBoxes.filter((b) => b.checked).map((b) => b.value),
      clinicIds: [...clinicBoxes.querySelectorAll('input:checked')].map((b) => b.value) } });
    password.value = '';
    await loadStaff();
    return `Created ${s.username}.`;
  });

  // One clinic's chairs, working hours and price lists.
  const clinicSelect = h('select', { id: 'admin-clinic-select' });
  async function loadClinic() {
    const clinicId = clinicSelect.value;
    if (!clinicId) return;
    const technicians = staff.filter((s) => (s.roles || []).includes('ROLE_TECHNICIAN') && (s.clinicIds || []).includes(clinicId));
    try {
      const [chairs, hours, prices] = await Promise.all([
        listAll((pageToken) => api.call(`${S}/ListChairs`, { clinicId, pageSize: 500, pageToken }), 'chairs'),
        listAll((pageToken) => api.call(`${S}/ListWorkingHours`, { clinicId, pageSize: 500, pageToken }), 'workingHours'),
        listAll((pageToken) => api.call(`${B}/ListPriceLists`, { clinicId, pageSize: 100, pageToken }), 'priceLists'),
      ]);
      const chairName = h('input', { id: 'new-chair', required: true });
      const chairForm = actionForm('chair-form', 'New chair', [field('Chair name', chairName)], 'Add chair', async () => {
        await api.call(`${S}/CreateChair`, { requestId: api.requestId(), chair: { clinicId, name: chairName.value.trim() } });
        await loadClinic();
        return 'Chair added.';
      });
      const who = select(technicians.map((t) => [t.id, t.displayName]), undefined, { id: 'hours-practitioner' });
      const dayBoxes = DAYS.map((d) => h('input', { type: 'checkbox', value: d, id: `day-${d}`, checked: !['SATURDAY', 'SUNDAY'].includes(d) }));
      const from = h('input', { type: 'time', id: 'hours-from', value: '09:00' });
      const to = h('input', { type: 'time', id: 'hours-to', value: '17:00' });
      const hoursForm = actionForm('hours-form', 'Working hours', [field('Practitioner', who),
        h('fieldset', {}, h('legend', {}, 'Days'), DAYS.map((d, i) => h('label', { for: `day-${d}` }, dayBoxes[i], ` ${words(d).slice(0, 3)} `))),
        field('From', from), field('To', to)], 'Set hours', async () => {
        const t = (v) => ({ hours: Number(v.split(':')[0]), minutes: Number(v.split(':')[1]) });
        await api.call(`${S}/SetWorkingHours`, { requestId: api.requestId(), workingHours: { practitionerId: who.value, clinicId,
          intervals: dayBoxes.filter((b) => b.checked).map((b) => ({ day: b.value, startTime: t(from.value), endTime: t(to.value) })) } });
        await loadClinic();
        return 'Working hours saved.';
      });
      const staffName = Object.fromEntries(staff.map((s) => [s.id, s.displayName]));
      show(clinicSlot,
        h('h3', {}, 'Chairs'), chairs.length ? h('ul', {}, chairs.map((c) => h('li', {}, `${c.name}${c.active ? '' : ' (inactive)'}`))) : note('No chairs.'), chairForm,
        h('h3', {}, 'Working hours'), hours.length ? h('ul', {}, hours.map((w) => h('li', {}, `${staffName[w.practitionerId] || w.practitionerId}: `,
          (w.intervals || []).map((i) => `${words(i.day).slice(0, 3)} ${String(i.startTime.hours || 0).padStart(2, '0')}:${String(i.startTime.minutes || 0).padStart(2, '0')}-${String(i.endTime.hours || 0).padStart(2, '0')}:${String(i.endTime.minutes || 0).padStart(2, '0')}`).join(', ')))) : note('No working hours.'),
        technicians.length ? hoursForm : note('No technician works at this clinic.'),
        h('h3', {}, 'Price lists'), prices.length ? h('table', { 'aria-label': 'Price lists' },
          h('thead', {}, h('tr', {}, ['Effective', 'Currency', 'Tax', 'Consultation', 'Sample patch', 'Touch-up', 'No-show'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, prices.map((p) => h('tr', {}, h('td', {}, p.effectiveDate ? `${p.effectiveDate.year}-${String(p.effectiveDate.month).padStart(2, '0')}-${String(p.effectiveDate.day).padStart(2, '0')}` : ''),
            h('td', {}, p.currencyCode), h('td', {}, `${(p.taxRateBp || 0) / 100}%`), h('td', {}, money(p.consultationFee)),
            h('td', {}, money(p.samplePatchFee)), h('td', {}, money(p.touchUpFee)), h('td', {}, money(p.noShowFee))))))
          : note('No price list.'));
    } catch (err) {
      show(clinicSlot, errorBox('The clinic\'s set-up', err));
    }
  }
  clinicSelect.addEventListener('change', loadClinic);

  show(root, h('section', {}, h('h2', {}, 'Clinics'), clinicsSlot, newClinic),
    h('section', {}, h('h2', {}, 'Staff'), staffSlot, newStaff),
    h('section', {}, h('h2', {}, 'A clinic\'s set-up'), field('Clinic', clinicSelect), clinicSlot));
  await loadClinics();
  clinicBoxes.replaceChildren(...clinics.map((c) => h('label', { for: `sc-${c.id}` }, h('input', { type: 'checkbox', value: c.id, id: `sc-${c.id}` }), ` ${c.name} `)));
  clinicSelect.replaceChildren(...clinics.map((c) => h('option', { value: c.id }, c.name)));
  await loadStaff();
  await loadClinic();
  return null;
}
