// Admin: clinics (create; edit name and time zone), staff with roles and clinics (create; edit
// roles and clinics; disable, enable), and per clinic its opening hours, chairs (add, retire,
// bring back), practitioners' working hours, exceptions (leave, closures, extra shifts) and price
// lists (a new version from a date: billing keeps every version, so invoices of the past keep
// their prices; there is no RPC that rewrites a version in place). Every change is the owning
// service's RPC; nothing is decided here.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, listAll, words, select, localDate, addDays, localDateMessage,
} from './ui.js';

const I = 'smp.identity.v1.IdentityService';
const S = 'smp.scheduling.v1.SchedulingService';
const B = 'smp.billing.v1.BillingService';
const ROLES = ['ADMIN', 'FRONT_DESK', 'TECHNICIAN', 'INVENTORY_STAFF', 'BILLING_CLERK', 'AUDITOR'];
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const FEES = [['consultationFee', 'Consultation'], ['samplePatchFee', 'Sample patch'], ['touchUpFee', 'Touch-up'],
  ['lateCancellationFee', 'Late cancellation'], ['noShowFee', 'No-show']];
const SESSIONS = [['hairline', 'Session: hairline'], ['crown', 'Session: crown'], ['fullScalp', 'Session: full scalp'],
  ['scarCamouflage', 'Session: scar camouflage']];

function money(m) {
  return m ? `${(Number(m.amountMinor || 0) / 100).toFixed(2)} ${m.currencyCode || ''}` : '';
}

function dateText(d) {
  return d ? `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}` : '';
}

function timeText(t) {
  return `${String((t && t.hours) || 0).padStart(2, '0')}:${String((t && t.minutes) || 0).padStart(2, '0')}`;
}

function timeMessage(value) {
  const [hours, minutes] = value.split(':').map(Number);
  return { hours, minutes };
}

function intervalsText(intervals) {
  return (intervals || []).map((i) => `${words(i.day).slice(0, 3)} ${timeText(i.startTime)}-${timeText(i.endTime)}`).join(', ');
}

// A form whose submit runs `work` and reports into its own live region, next to its controls.
// When `work` re-rendered the section (a reload after a change), the message goes to the new
// form of the same id, so it still appears next to what caused it.
function actionForm(id, title, controls, label, work) {
  const result = h('div', { 'aria-live': 'assertive', id: `${id}-result` });
  const form = h('form', { id }, h('h3', {}, title), h('div', { class: 'row' }, controls, h('button', { type: 'submit' }, label)), result);
  const here = () => (result.isConnected ? result : document.getElementById(`${id}-result`) || result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(result);
    try {
      const message = await busy(event.submitter, work);
      show(here(), h('div', { class: 'ok', role: 'status' }, message));
    } catch (err) {
      show(here(), errorBox(title, err));
    }
  });
  return form;
}

// Day checkboxes (Mon..Sun) with ids `${prefix}-MONDAY`...; `checked(day)` picks the initial ones.
function dayBoxes(prefix, checked) {
  const boxes = DAYS.map((d) => h('input', { type: 'checkbox', value: d, id: `${prefix}-${d}`, checked: checked(d) }));
  const set = h('fieldset', {}, h('legend', {}, 'Days'), DAYS.map((d, i) => h('label', { for: `${prefix}-${d}` }, boxes[i], ` ${words(d).slice(0, 3)} `)));
  return { boxes, set };
}

export async function render(root) {
  const clinicsSlot = h('div', { id: 'admin-clinics' });
  const clinicEditSlot = h('div', { id: 'admin-clinic-edit' });
  const staffSlot = h('div', { id: 'admin-staff' });
  const staffEditSlot = h('div', { id: 'admin-staff-edit' });
  const clinicSlot = h('div', { id: 'admin-clinic' });
  let clinics = [];
  let staff = [];

  const roleChecks = (prefix, chosen) => ROLES.map((r) => h('input', {
    type: 'checkbox', value: `ROLE_${r}`, id: `${prefix}-${r}`, checked: (chosen || []).includes(`ROLE_${r}`),
  }));
  const roleSet = (prefix, boxes) => h('fieldset', {}, h('legend', {}, 'Roles'),
    ROLES.map((r, i) => h('label', { for: `${prefix}-${r}` }, boxes[i], ` ${words(r)} `)));
  const clinicChecks = (prefix, chosen) => clinics.map((c) => h('input', {
    type: 'checkbox', value: c.id, id: `${prefix}-${c.id}`, checked: (chosen || []).includes(c.id),
  }));
  const clinicSet = (prefix, boxes) => h('fieldset', {}, h('legend', {}, 'Clinics (for clinic-scoped roles)'),
    clinics.map((c, i) => h('label', { for: `${prefix}-${c.id}` }, boxes[i], ` ${c.name} `)));
  const checked = (boxes) => boxes.filter((b) => b.checked).map((b) => b.value);

  function editClinic(c) {
    const name = h('input', { id: 'edit-clinic-name', required: true, value: c.name });
    const zone = h('input', { id: 'edit-clinic-zone', required: true, value: c.timeZone });
    show(clinicEditSlot, actionForm('edit-clinic', `Edit ${c.name}`, [field('Name', name), field('IANA time zone', zone)], 'Save clinic', async () => {
      const saved = await api.call(`${I}/UpdateClinic`, {
        requestId: api.requestId(), updateMask: 'name,timeZone',
        clinic: { id: c.id, etag: c.etag, name: name.value.trim(), timeZone: zone.value.trim() },
      });
      await loadClinics();
      return `Saved ${saved.name} (${saved.timeZone}). Opening hours are under the clinic's set-up below.`;
    }));
    name.focus();
  }

  async function loadClinics() {
    try {
      clinics = await listAll((pageToken) => api.call(`${I}/ListClinics`, { pageSize: 500, pageToken }), 'clinics');
      show(clinicsSlot, h('table', { 'aria-label': 'Clinics' },
        h('thead', {}, h('tr', {}, ['Name', 'Time zone', 'Id', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, clinics.map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, c.timeZone), h('td', {}, c.id),
          h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit clinic ${c.name}`, onclick: () => editClinic(c) }, 'Edit')))))));
    } catch (err) {
      show(clinicsSlot, errorBox('Clinics', err));
    }
  }

  function editStaff(s) {
    const roles = roleChecks('edit-role', s.roles);
    const places = clinicChecks('edit-sc', s.clinicIds);
    show(staffEditSlot, actionForm('edit-staff', `Roles and clinics of ${s.username}`, [roleSet('edit-role', roles), clinicSet('edit-sc', places)], 'Save roles', async () => {
      const saved = await api.call(`${I}/UpdateStaff`, {
        requestId: api.requestId(), updateMask: 'roles,clinicIds',
        staff: { id: s.id, etag: s.etag, roles: checked(roles), clinicIds: checked(places) },
      });
      await loadStaff();
      return `Saved ${saved.username}: ${(saved.roles || []).map((r) => words(r, 'ROLE_')).join(', ')}. Their sessions end; they log in again with the new roles.`;
    }));
    roles[0].focus();
  }

  async function setState(s, enable, button) {
    let body = { requestId: api.requestId(), id: s.id };
    if (!enable) {
      const reason = window.prompt(`Disable ${s.username}? Their sessions end at once. Reason:`, 'left the company');
      if (reason === null) return;
      body = { ...body, reason };
    }
    try {
      await busy(button, () => api.call(`${I}/${enable ? 'EnableStaff' : 'DisableStaff'}`, body));
      await loadStaff();
    } catch (err) {
      show(staffEditSlot, errorBox(`${enable ? 'Enabling' : 'Disabling'} ${s.username}`, err));
    }
  }

  async function loadStaff() {
    const name = Object.fromEntries(clinics.map((c) => [c.id, c.name]));
    try {
      staff = await listAll((pageToken) => api.call(`${I}/ListStaff`, { pageSize: 500, pageToken }), 'staff');
      show(staffSlot, h('table', { 'aria-label': 'Staff' },
        h('thead', {}, h('tr', {}, ['Username', 'Name', 'Roles', 'Clinics', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, staff.map((s) => {
          const active = s.state === 'STAFF_STATE_ACTIVE';
          const edit = h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit roles of ${s.username}`, onclick: () => editStaff(s) }, 'Roles');
          const toggle = h('button', { type: 'button', class: 'secondary', 'aria-label': `${active ? 'Disable' : 'Enable'} ${s.username}`,
            onclick: (e) => setState(s, !active, e.currentTarget) }, active ? 'Disable' : 'Enable');
          return h('tr', {}, h('td', {}, s.username), h('td', {}, s.displayName),
            h('td', {}, (s.roles || []).map((r) => words(r, 'ROLE_')).join(', ')),
            h('td', {}, (s.clinicIds || []).map((id) => name[id] || id).join(', ') || 'chain-wide'),
            h('td', {}, words(s.state, 'STAFF_STATE_')), h('td', {}, edit, ' ', toggle));
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
    await refreshClinicChoices();
    return `Created ${c.name}. Set its opening hours, chairs and price list under the clinic's set-up below.`;
  });

  // New staff account.
  const username = h('input', { id: 'new-username', required: true, autocomplete: 'off' });
  const display = h('input', { id: 'new-display', required: true });
  const password = h('input', { id: 'new-password', type: 'password', required: true, autocomplete: 'new-password', minlength: 10 });
  const newRoles = roleChecks('role', []);
  const newClinicsSlot = h('span', {});
  let newClinicBoxes = [];
  const newStaff = actionForm('new-staff', 'New staff account', [field('Username', username), field('Name', display),
    field('Initial password (10+ characters)', password), roleSet('role', newRoles), newClinicsSlot], 'Create account', async () => {
    const s = await api.call(`${I}/CreateStaff`, { requestId: api.requestId(), initialPassword: password.value, staff: {
      username: username.value.trim(), displayName: display.value.trim(), roles: checked(newRoles), clinicIds: checked(newClinicBoxes) } });
    password.value = '';
    await loadStaff();
    await loadClinic();
    return `Created ${s.username}.`;
  });

  // One clinic's opening hours, chairs, working hours, exceptions and price lists.
  const clinicSelect = h('select', { id: 'admin-clinic-select' });
  async function loadClinic() {
    const clinicId = clinicSelect.value;
    const clinic = clinics.find((c) => c.id === clinicId);
    if (!clinic) return;
    const zone = clinic.timeZone;
    const today = localDate(zone);
    const technicians = staff.filter((s) => (s.roles || []).includes('ROLE_TECHNICIAN') && (s.clinicIds || []).includes(clinicId)
      && s.state === 'STAFF_STATE_ACTIVE');
    const staffName = Object.fromEntries(staff.map((s) => [s.id, s.displayName]));
    let schedule;
    try {
      schedule = await api.call(`${S}/GetClinicSchedule`, { clinicId });
    } catch (err) {
      if (err.status !== 'NOT_FOUND') {
        show(clinicSlot, errorBox('The clinic\'s opening hours', err));
        return;
      }
      schedule = { clinicId, timeZone: zone, openingHours: [], etag: '' };
    }
    let chairs;
    let hours;
    let exceptions;
    let prices;
    try {
      [chairs, hours, exceptions, prices] = await Promise.all([
        listAll((pageToken) => api.call(`${S}/ListChairs`, { clinicId, pageSize: 500, pageToken }), 'chairs'),
        listAll((pageToken) => api.call(`${S}/ListWorkingHours`, { clinicId, pageSize: 500, pageToken }), 'workingHours'),
        listAll((pageToken) => api.call(`${S}/ListScheduleExceptions`, {
          clinicId, pageSize: 500, pageToken, period: { startDate: localDateMessage(today), endDate: localDateMessage(addDays(today, 180)) },
        }), 'exceptions'),
        listAll((pageToken) => api.call(`${B}/ListPriceLists`, { clinicId, pageSize: 100, pageToken }), 'priceLists'),
      ]);
    } catch (err) {
      show(clinicSlot, errorBox('The clinic\'s set-up', err));
      return;
    }

    // Opening hours: the whole schedule is sent back with its etag and only the hours changed.
    const open = schedule.openingHours || [];
    const openDays = dayBoxes('open', (d) => open.some((i) => i.day === d));
    const openFrom = h('input', { type: 'time', id: 'open-from', value: open.length ? timeText(open[0].startTime) : '09:00' });
    const openTo = h('input', { type: 'time', id: 'open-to', value: open.length ? timeText(open[0].endTime) : '18:00' });
    const openForm = actionForm('open-form', 'Opening hours', [openDays.set, field('Opens', openFrom), field('Closes', openTo)], 'Save opening hours', async () => {
      const { etag, ...rest } = schedule;
      await api.call(`${S}/UpdateClinicSchedule`, { requestId: api.requestId(), schedule: { ...rest, etag: etag || '', clinicId, timeZone: zone,
        openingHours: checked(openDays.boxes).map((day) => ({ day, startTime: timeMessage(openFrom.value), endTime: timeMessage(openTo.value) })) } });
      await loadClinic();
      return 'Opening hours saved.';
    });

    // Chairs.
    const chairName = h('input', { id: 'new-chair', required: true });
    const chairForm = actionForm('chair-form', 'New chair', [field('Chair name', chairName)], 'Add chair', async () => {
      await api.call(`${S}/CreateChair`, { requestId: api.requestId(), chair: { clinicId, name: chairName.value.trim() } });
      await loadClinic();
      return 'Chair added.';
    });
    const chairResult = h('div', { id: 'chair-result', 'aria-live': 'assertive' });
    const chairList = chairs.length ? h('ul', { id: 'chairs' }, chairs.map((c) => h('li', {}, `${c.name}${c.active ? '' : ' (retired)'} `,
      h('button', { type: 'button', class: 'secondary', 'aria-label': `${c.active ? 'Retire' : 'Bring back'} ${c.name}`, onclick: async (e) => {
        try {
          await busy(e.currentTarget, () => api.call(`${S}/UpdateChair`, { requestId: api.requestId(), updateMask: 'active', chair: { id: c.id, clinicId, etag: c.etag, active: !c.active } }));
          await loadClinic();
        } catch (err) {
          show(chairResult, errorBox(`${c.active ? 'Retiring' : 'Bringing back'} ${c.name}`, err));
        }
      } }, c.active ? 'Retire' : 'Bring back')))) : note('No chairs.');

    // Working hours of a practitioner (the etag of their current hours, if any, goes back).
    const who = select(technicians.map((t) => [t.id, `${t.displayName} (${t.username})`]), undefined, { id: 'hours-practitioner' });
    const shiftDays = dayBoxes('day', (d) => !['SATURDAY', 'SUNDAY'].includes(d));
    const from = h('input', { type: 'time', id: 'hours-from', value: '09:00' });
    const to = h('input', { type: 'time', id: 'hours-to', value: '17:00' });
    const hoursForm = actionForm('hours-form', 'Set a practitioner\'s working hours', [field('Practitioner', who), shiftDays.set,
      field('From', from), field('To', to)], 'Set hours', async () => {
      const current = hours.find((w) => w.practitionerId === who.value);
      await api.call(`${S}/SetWorkingHours`, { requestId: api.requestId(), workingHours: { practitionerId: who.value, clinicId,
        etag: current ? current.etag : '',
        intervals: checked(shiftDays.boxes).map((day) => ({ day, startTime: timeMessage(from.value), endTime: timeMessage(to.value) })) } });
      await loadClinic();
      return `Working hours of ${staffName[who.value] || who.value} saved.`;
    });

    // Exceptions: leave and extra shifts of a practitioner, closures of the clinic.
    const kind = select([['LEAVE', 'leave (practitioner away)'], ['CLOSURE', 'closure (whole clinic)'], ['EXTRA_SHIFT', 'extra shift']], 'LEAVE', { id: 'exception-kind' });
    const exWho = select(technicians.map((t) => [t.id, `${t.displayName} (${t.username})`]), undefined, { id: 'exception-practitioner' });
    const exFrom = h('input', { type: 'date', id: 'exception-from', value: addDays(today, 7), required: true });
    const exFromTime = h('input', { type: 'time', id: 'exception-from-time', value: '00:00' });
    const exTo = h('input', { type: 'date', id: 'exception-to', value: addDays(today, 8), required: true });
    const exToTime = h('input', { type: 'time', id: 'exception-to-time', value: '00:00' });
    const exReason = h('input', { id: 'exception-reason', maxlength: 200, placeholder: 'holiday' });
    kind.addEventListener('change', () => { exWho.disabled = kind.value === 'CLOSURE'; });
    const exceptionForm = actionForm('exception-form', 'New exception (leave, closure, extra shift)', [field('Kind', kind), field('Practitioner', exWho),
      field('From (day)', exFrom), field('at', exFromTime), field('Until (day)', exTo), field('at', exToTime), field('Reason', exReason)], 'Add exception', async () => {
      const localDateTime = (d, t) => ({ date: localDateMessage(d), time: timeMessage(t) });
      await api.call(`${S}/CreateScheduleException`, { requestId: api.requestId(), exception: { clinicId, kind: kind.value,
        practitionerId: kind.value === 'CLOSURE' ? '' : exWho.value,
        start: localDateTime(exFrom.value, exFromTime.value), end: localDateTime(exTo.value, exToTime.value), reason: exReason.value.trim() } });
      await loadClinic();
      return 'Exception added.';
    });
    const ldt = (x) => `${dateText(x && x.date)} ${timeText(x && x.time)}`;
    const exceptionResult = h('div', { id: 'exception-result-list', 'aria-live': 'assertive' });
    const exceptionTable = exceptions.length ? h('table', { 'aria-label': 'Exceptions', id: 'exceptions' },
      h('thead', {}, h('tr', {}, ['Kind', 'Who', 'From', 'Until', 'Reason', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, exceptions.map((x) => h('tr', {}, h('td', {}, words(x.kind)), h('td', {}, x.practitionerId ? (staffName[x.practitionerId] || x.practitionerId) : 'whole clinic'),
        h('td', {}, ldt(x.start)), h('td', {}, ldt(x.end)), h('td', {}, x.reason || ''),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete ${words(x.kind)} from ${ldt(x.start)}`, onclick: async (e) => {
          try {
            await busy(e.currentTarget, () => api.call(`${S}/DeleteScheduleException`, { requestId: api.requestId(), id: x.id }));
            await loadClinic();
          } catch (err) {
            show(exceptionResult, errorBox('Deleting the exception', err));
          }
        } }, 'Delete'))))))
      : note('No exceptions in the next 180 days.');

    // Price lists: a new version from a date, prefilled from the latest one.
    const latest = prices.reduce((a, p) => (!a || dateText(p.effectiveDate) > dateText(a.effectiveDate) ? p : a), null);
    const currency = latest ? latest.currencyCode : '';
    const amount = (m) => (m ? (Number(m.amountMinor || 0) / 100).toFixed(2) : '');
    const effective = h('input', { type: 'date', id: 'price-effective', value: addDays(today, 1), required: true });
    const currencyInput = h('input', { id: 'price-currency', value: currency, required: true, maxlength: 3, size: 4, readonly: !!latest });
    const tax = h('input', { type: 'number', id: 'price-tax', min: 0, max: 100, step: '0.01', value: latest ? (latest.taxRateBp || 0) / 100 : 0 });
    const inclusive = h('input', { type: 'checkbox', id: 'price-inclusive', checked: !!(latest && latest.pricesIncludeTax) });
    const feeInputs = FEES.map(([key]) => h('input', { type: 'number', id: `price-${key}`, min: 0, step: '0.01', value: latest ? amount(latest[key]) : '' }));
    const sessionInputs = SESSIONS.map(([key]) => h('input', { type: 'number', id: `price-${key}`, min: 0, step: '0.01',
      value: latest && latest.sessionPrices ? amount(latest.sessionPrices[key]) : '' }));
    const minor = (input) => ({ amountMinor: String(Math.round(Number(input.value || 0) * 100)), currencyCode: currencyInput.value.trim().toUpperCase() });
    const priceForm = actionForm('price-form', latest ? 'Change prices (a new version from a date)' : 'First price list',
      [field('In force from (clinic-local day)', effective), field('Currency', currencyInput), field('Tax rate %', tax),
        h('label', { for: 'price-inclusive' }, inclusive, ' prices include tax'),
        FEES.map(([, label], i) => field(label, feeInputs[i])), SESSIONS.map(([, label], i) => field(label, sessionInputs[i]))],
      'Save price list', async () => {
        const list = { clinicId, effectiveDate: localDateMessage(effective.value), timeZone: zone, currencyCode: currencyInput.value.trim().toUpperCase(),
          taxRateBp: Math.round(Number(tax.value || 0) * 100), pricesIncludeTax: inclusive.checked, sessionPrices: {} };
        FEES.forEach(([key], i) => { list[key] = minor(feeInputs[i]); });
        SESSIONS.forEach(([key], i) => { list.sessionPrices[key] = minor(sessionInputs[i]); });
        await api.call(`${B}/CreatePriceList`, { requestId: api.requestId(), priceList: list });
        await loadClinic();
        return `Prices from ${effective.value} saved; earlier invoices keep the prices they were issued with.`;
      });
    const priceTable = prices.length ? h('table', { 'aria-label': 'Price lists', id: 'price-lists' },
      h('thead', {}, h('tr', {}, ['In force from', 'Currency', 'Tax', ...FEES.map(([, l]) => l), 'Full scalp session'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, [...prices].sort((a, b) => dateText(b.effectiveDate).localeCompare(dateText(a.effectiveDate))).map((p) => h('tr', {},
        h('td', {}, dateText(p.effectiveDate)), h('td', {}, p.currencyCode),
        h('td', {}, `${(p.taxRateBp || 0) / 100}%${p.pricesIncludeTax ? ' incl.' : ''}`),
        FEES.map(([key]) => h('td', {}, money(p[key]))), h('td', {}, money((p.sessionPrices || {}).fullScalp))))))
      : note('No price list.');

    show(clinicSlot,
      h('p', { class: 'note' }, `${clinic.name}: times are clinic-local (${zone}).`),
      h('h3', {}, 'Opening hours'), open.length ? h('p', { id: 'opening-hours' }, intervalsText(open)) : note('Closed every day (no opening hours yet).'), openForm,
      h('h3', {}, 'Chairs'), chairList, chairResult, chairForm,
      h('h3', {}, 'Working hours'), hours.length ? h('ul', { id: 'working-hours' }, hours.map((w) => h('li', {}, `${staffName[w.practitionerId] || w.practitionerId}: `,
        intervalsText(w.intervals)))) : note('No working hours.'),
      technicians.length ? hoursForm : note('No active technician works at this clinic: create one under Staff.'),
      h('h3', {}, 'Exceptions'), exceptionTable, exceptionResult, exceptionForm,
      h('h3', {}, 'Price lists'), priceTable, priceForm);
  }
  clinicSelect.addEventListener('change', loadClinic);

  async function refreshClinicChoices() {
    const chosen = clinicSelect.value;
    newClinicBoxes = clinicChecks('sc', []);
    newClinicsSlot.replaceChildren(clinicSet('sc', newClinicBoxes));
    clinicSelect.replaceChildren(...clinics.map((c) => h('option', { value: c.id }, c.name)));
    if (chosen) clinicSelect.value = chosen;
  }

  show(root, h('section', {}, h('h2', {}, 'Clinics'), clinicsSlot, clinicEditSlot, newClinic),
    h('section', {}, h('h2', {}, 'Staff and roles'), staffSlot, staffEditSlot, newStaff),
    h('section', {}, h('h2', {}, 'A clinic\'s set-up: opening hours, chairs, schedules, price lists'), field('Clinic', clinicSelect), clinicSlot));
  await loadClinics();
  await refreshClinicChoices();
  await loadStaff();
  await loadClinic();
  return null;
}
