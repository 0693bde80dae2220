// Technician: the list at a clinic for today and the coming two weeks; consent and screening before a first procedure; start with
// the supplies scanned or typed (a barcode scanner types the serial and Enter); a refused unit
// (used, expired, recalled) is shown in plain words; complete with the checklist, the blend and
// the aftercare printout.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, zonedToUtc, localDate, addDays, localTime, localDateTime, words,
  select,
  listAll,
} from './ui.js';

const S = 'smp.scheduling.v1.SchedulingService';
const C = 'smp.compliance.v1.ComplianceService';
// The visit types that are procedures (needles, checklist, aftercare), as scheduling's IsProcedure.
const PROCEDURES = ['SAMPLE_PATCH', 'TREATMENT_SESSION', 'TOUCH_UP'];
const CONTRAINDICATIONS = ['KELOID_PRONE', 'HERPES_SIMPLEX', 'ECZEMA', 'PSORIASIS', 'VITILIGO',
  'INFLAMED_SKIN', 'NUMBING_AGENT_ALLERGY', 'MINOXIDIL_USE', 'OTHER'];
const CHECKLIST = [['sealedNeedlesOpenedBeforeClient', 'Sealed needles opened in front of the client'],
  ['glovesWorn', 'Gloves worn'], ['maskWorn', 'Mask worn'], ['sterileField', 'Sterile field'],
  ['sharpsDisposed', 'Sharps disposed']];

// "U-0001" -> serial; "lot:<lot id>:<qty>" -> lot quantity; "bottle:<id>" -> an open bottle.
export function parseSupplies(text) {
  const lines = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('lot:')) {
      const [, lotId, quantity] = line.split(':');
      lines.push({ lotQuantity: { lotId, quantity: String(quantity || 1) } });
    } else if (line.startsWith('bottle:')) {
      lines.push({ bottleId: line.slice(7) });
    } else {
      lines.push({ serial: line.replace(/^serial:/, '') });
    }
  }
  return lines;
}

export async function render(root) {
  const me = (await api.session()).staff;
  const { clinics } = await api.call('smp.identity.v1.IdentityService/ListClinics', { pageSize: 500 });
  if (!clinics || clinics.length === 0) {
    show(root, note('No clinic is in your scope.'));
    return null;
  }
  let clinic = clinics[0];
  const clinicSelect = select(clinics.map((c) => [c.id, c.name]), clinic.id, { id: 'tech-clinic' });
  const mineOnly = h('input', { type: 'checkbox', id: 'tech-mine', checked: true });
  const listSlot = h('div', { id: 'tech-day', 'aria-live': 'polite' });
  const workSlot = h('div', { id: 'tech-work' });
  const patients = {};

  async function patientName(id) {
    if (!patients[id]) {
      try {
        patients[id] = await api.call(`${S}/GetPatient`, { id });
      } catch (err) {
        patients[id] = { givenName: '(patient', familyName: `${id})` };
      }
    }
    return `${patients[id].givenName} ${patients[id].familyName}`;
  }

  function consentForm(a, name) {
    const findings = CONTRAINDICATIONS.map((c) => h('input', { type: 'checkbox', value: `CONTRAINDICATION_${c}`, id: `ci-${c}` }));
    const notes = h('textarea', { id: 'screening-notes', rows: 2 });
    const slot = h('div', { 'aria-live': 'assertive' });
    const form = h('form', { id: 'consent-form' }, h('h3', {}, `Consent and screening: ${name}`),
      h('fieldset', {}, h('legend', {}, 'Contraindications found'),
        CONTRAINDICATIONS.map((c, i) => h('label', { for: `ci-${c}` }, findings[i], ` ${words(c)} `))),
      field('Screening notes', notes),
      h('button', { type: 'submit', id: 'record-consent' }, 'Record procedure consent and screening'), slot);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const when = new Date(Date.now() - 60000).toISOString();
      try {
        await busy(event.submitter, async () => {
          await api.call(`${C}/RecordConsent`, { requestId: api.requestId(), consent: { patientId: a.patientId, clinicId: a.clinicId, kind: 'CONSENT_KIND_PROCEDURE', formVersion: 'console-v1', signedTime: when } });
          await api.call(`${C}/RecordScreening`, { requestId: api.requestId(), screening: { patientId: a.patientId, clinicId: a.clinicId, screenedTime: when, findings: findings.filter((f) => f.checked).map((f) => f.value), notes: notes.value } });
        });
        show(slot, h('div', { class: 'ok', role: 'status' }, 'Consent and screening recorded.'));
      } catch (err) {
        show(slot, errorBox('Consent and screening', err));
      }
    });
    return form;
  }

  // [line, label] for each open bottle and each unexpired pigment lot in stock at the clinic.
  async function pigmentChoices(clinicId) {
    const I = 'smp.inventory.v1.InventoryService';
    const [products, levels, bottles] = await Promise.all([
      listAll((pageToken) => api.call(`${I}/ListProducts`, { pageSize: 500, pageToken }), 'products'),
      listAll((pageToken) => api.call(`${I}/ListStock`, { clinicId, pageSize: 500, pageToken }), 'levels'),
      listAll((pageToken) => api.call(`${I}/ListOpenBottles`, { clinicId, pageSize: 500, pageToken }), 'bottles'),
    ]);
    const byId = Object.fromEntries(products.map((p) => [p.id, p]));
    const nameOf = (id) => (byId[id] || {}).name || id;
    return [
      ...bottles.map((b) => [`bottle:${b.id}`, `open bottle of ${nameOf(b.productId)}`]),
      ...levels.filter((l) => (byId[l.productId] || {}).kind === 'PRODUCT_KIND_PIGMENT' && Number(l.available) > 0 && !l.expired)
        .map((l) => [`lot:${l.lotId}:1`, `${nameOf(l.productId)}, lot ${l.lotNumber} (${l.available} left)`]),
    ];
  }

  function startForm(a, name) {
    const scan = h('input', { id: 'scan', autocomplete: 'off', placeholder: 'scan or type a serial, then Enter' });
    const supplies = h('textarea', { id: 'supplies', rows: 4, placeholder: 'one per line: a needle serial, lot:<lot id>:<qty>, bottle:<id>' });
    const slot = h('div', { id: 'start-result', 'aria-live': 'assertive' });
    scan.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      if (scan.value.trim()) supplies.value += `${supplies.value && !supplies.value.endsWith('\n') ? '\n' : ''}${scan.value.trim()}\n`;
      scan.value = '';
    });
    // Pigment is not scanned: pick an open bottle or a lot of the clinic (a line is added).
    const pigment = h('select', { id: 'pigment' }, h('option', { value: '' }, 'loading...'));
    const addPigment = h('button', { type: 'button', class: 'secondary', id: 'add-pigment' }, 'Add pigment');
    addPigment.addEventListener('click', () => {
      if (!pigment.value) return;
      supplies.value += `${supplies.value && !supplies.value.endsWith('\n') ? '\n' : ''}${pigment.value}\n`;
    });
    pigmentChoices(a.clinicId).then((choices) => {
      pigment.replaceChildren(...(choices.length ? choices : [['', 'no pigment in stock']])
        .map(([value, label]) => h('option', { value }, label)));
    }, () => {
      pigment.replaceChildren(h('option', { value: '' }, 'pigments cannot be listed; type lot:<lot id>:<qty>'));
    });
    const form = h('form', { id: 'start-form' }, h('h3', {}, `Start: ${name}`),
      field('Scanner', scan), h('div', { class: 'row' }, field('Pigment', pigment), addPigment),
      field('Supplies', supplies),
      h('button', { type: 'submit', id: 'start' }, 'Start procedure'), slot);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      show(slot);
      try {
        await busy(event.submitter, () => api.call(`${S}/StartAppointment`, { requestId: api.requestId(), id: a.id, etag: a.etag, supplies: parseSupplies(supplies.value) }));
        show(slot, h('div', { class: 'ok', role: 'status' }, 'Started: inventory issued the supplies.'));
        await load(false);
      } catch (err) {
        show(slot, errorBox('Start', err));
      }
    });
    return form;
  }

  // A consultation (or correction consult) is talk, not a procedure: no checklist, blend or aftercare.
  function completeConsultationForm(a, name) {
    const slot = h('div', { id: 'complete-result', 'aria-live': 'assertive' });
    const form = h('form', { id: 'complete-form' }, h('h3', {}, `Complete: ${name}'s ${words(a.type)}`),
      h('button', { type: 'submit', id: 'complete' }, `Complete ${words(a.type)}`), slot);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await busy(event.submitter, () => api.call(`${S}/CompleteAppointment`, { requestId: api.requestId(), id: a.id, etag: a.etag }));
        show(slot, h('div', { class: 'ok', role: 'status' }, `Completed ${name}'s ${words(a.type)}.`));
        await load(false);
      } catch (err) {
        show(slot, errorBox('Completion', err));
      }
    });
    return form;
  }

  function completeForm(a, name) {
    if (!PROCEDURES.includes(a.type)) return completeConsultationForm(a, name);
    const boxes = CHECKLIST.map(([key]) => h('input', { type: 'checkbox', id: `cl-${key}`, name: key }));
    const blend = h('input', { id: 'blend', placeholder: '2 espresso : 1 charcoal' });
    const anaesthetic = h('input', { id: 'anaesthetic', placeholder: 'lidocaine 5% cream' });
    const slot = h('div', { id: 'complete-result', 'aria-live': 'assertive' });
    const form = h('form', { id: 'complete-form' }, h('h3', {}, `Complete: ${name}`),
      h('fieldset', {}, h('legend', {}, 'Checklist'), CHECKLIST.map(([key, label], i) => h('div', {}, boxes[i], h('label', { for: `cl-${key}` }, ` ${label}`)))),
      field('Pigment blend', blend), field('Anaesthetic', anaesthetic),
      h('button', { type: 'submit', id: 'complete' }, 'Complete procedure'), slot);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const checklist = Object.fromEntries(CHECKLIST.map(([key], i) => [key, boxes[i].checked]));
      try {
        const done = await busy(event.submitter, () => api.call(`${S}/CompleteAppointment`, { requestId: api.requestId(), id: a.id, etag: a.etag, checklist, pigmentBlend: blend.value, anaesthetic: anaesthetic.value }));
        const d = (m) => (m ? `${m.year}-${String(m.month).padStart(2, '0')}-${String(m.day).padStart(2, '0')}` : '');
        const printButton = h('button', { type: 'button', class: 'no-print' }, 'Print aftercare');
        printButton.addEventListener('click', () => window.print());
        show(slot, h('div', { class: 'printout', id: 'aftercare' }, h('h3', {}, `Aftercare for ${name}`),
          h('p', {}, `Blend: ${blend.value || '-'}`),
          h('ul', {}, (done.aftercare || []).map((i) => h('li', {}, `${d(i.fromDate)}${i.untilDate ? ` to ${d(i.untilDate)}` : ''}: ${i.instruction}`))),
          done.nextSessionWindow && done.nextSessionWindow.startTime ? h('p', {}, `Next session from ${localTime(done.nextSessionWindow.startTime, clinic.timeZone)} ${done.nextSessionWindow.startTime.slice(0, 10)}`) : null,
          printButton));
        await load(false);
      } catch (err) {
        show(slot, errorBox('Completion', err));
      }
    });
    return form;
  }

  async function load(clearWork = true) {
    const today = localDate(clinic.timeZone);
    if (clearWork) show(workSlot);
    try {
      let list = await listAll((pageToken) => api.call(`${S}/ListAppointments`, {
        clinicId: clinic.id, pageSize: 500, pageToken,
        period: { startTime: zonedToUtc(today, '00:00', clinic.timeZone).toISOString(), endTime: zonedToUtc(addDays(today, 14), '00:00', clinic.timeZone).toISOString() },
      }), 'appointments');
      if (mineOnly.checked) list = list.filter((a) => a.practitionerId === me.id);
      list.sort((x, y) => x.startTime.localeCompare(y.startTime));
      const rows = [];
      for (const a of list) {
        // eslint-disable-next-line no-await-in-loop
        const name = await patientName(a.patientId);
        const actions = h('td', {});
        const open = (label, make) => {
          const b = h('button', { type: 'button', class: 'secondary', 'aria-label': `${label}: ${name}` }, label);
          b.addEventListener('click', () => { show(workSlot, make(a, name)); workSlot.querySelector('input,textarea,button').focus(); });
          actions.append(b, ' ');
        };
        if (['BOOKED', 'ARRIVED', 'PROPOSED'].includes(a.status)) open('Consent & screening', consentForm);
        if (a.status === 'ARRIVED') open('Start', startForm);
        if (a.status === 'IN_PROGRESS') open('Complete', completeForm);
        rows.push(h('tr', { dataset: { id: a.id } }, h('td', {}, localDateTime(a.startTime, clinic.timeZone)), h('td', {}, name),
          h('td', {}, words(a.type)), h('td', { class: 'status' }, words(a.status)), actions));
      }
      show(listSlot, rows.length ? h('table', { 'aria-label': `Appointments at ${clinic.name} from today`, id: 'tech-list' },
        h('thead', {}, h('tr', {}, ['Time', 'Patient', 'Visit', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows)) : note(`Nothing ${mineOnly.checked ? 'for you ' : ''}at ${clinic.name} in the next two weeks.`));
    } catch (err) {
      show(listSlot, errorBox('Your list', err));
    }
  }

  clinicSelect.addEventListener('change', () => { clinic = clinics.find((c) => c.id === clinicSelect.value); load(); });
  mineOnly.addEventListener('change', () => load());
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'tech-refresh' }, 'Refresh');
  refresh.addEventListener('click', () => load());
  show(root, h('section', {}, h('h2', {}, 'Today and the next two weeks'),
    h('div', { class: 'row' }, field('Clinic', clinicSelect), h('label', { for: 'tech-mine' }, mineOnly, ' only my patients'), refresh),
    listSlot), h('section', {}, workSlot));
  await load();
  return null;
}
