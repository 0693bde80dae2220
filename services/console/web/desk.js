// Front desk: a clinic's day or week by practitioner (with chairs), free slots from
// FindAvailability, book / hold / confirm / reschedule / cancel / check-in by clicking, patient
// search and registration. The calendar follows the clinic's change feed (WatchChanges), so two
// desks see each other's bookings at once.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, zonedToUtc, localDate, addDays, localDateMessage,
  localTime, localDateTime, words, select, listAll,
} from './ui.js';

const S = 'smp.scheduling.v1.SchedulingService';
const TYPES = [['CONSULTATION', 'Consultation'], ['SAMPLE_PATCH', 'Sample patch'],
  ['TREATMENT_SESSION', 'Treatment session'], ['TOUCH_UP', 'Touch-up'],
  ['CORRECTION_CONSULT', 'Correction consult']];

export async function render(root, ctx) {
  const { clinics } = await api.call('smp.identity.v1.IdentityService/ListClinics', { pageSize: 500 });
  if (!clinics || clinics.length === 0) {
    show(root, note('No clinic is in your scope.'));
    return null;
  }
  const state = {
    clinic: clinics[0], date: localDate(clinics[0].timeZone), view: 'day', patient: null,
    reschedule: null, staff: {}, chairs: {}, patients: {}, appointments: [], watch: null,
    openDays: null,
  };

  const clinicSelect = select(clinics.map((c) => [c.id, c.name]), state.clinic.id, { id: 'desk-clinic' });
  const dateInput = h('input', { type: 'date', id: 'desk-date', value: state.date });
  const viewSelect = select([['day', 'Day'], ['week', 'Week']], 'day', { id: 'desk-view' });
  const calendarSlot = h('div', { id: 'calendar', 'aria-live': 'polite' });
  const calendarStatus = h('div', { id: 'calendar-status' });
  const patientSlot = h('div', { id: 'patient-results' });
  const selectedSlot = h('p', { id: 'selected-patient', class: 'note' }, 'No patient selected.');
  const slotsSlot = h('div', { id: 'slots' });
  const actionSlot = h('div', { id: 'desk-messages', 'aria-live': 'assertive' });

  const query = h('input', { id: 'patient-query', type: 'search', placeholder: 'name or phone' });
  const searchButton = h('button', { type: 'submit', id: 'patient-search' }, 'Search');
  const given = h('input', { id: 'new-given', autocomplete: 'off', required: true });
  const family = h('input', { id: 'new-family', autocomplete: 'off', required: true });
  const phone = h('input', { id: 'new-phone', type: 'tel', placeholder: '+15125550100' });
  const birth = h('input', { id: 'new-birth', type: 'date' });
  const typeSelect = select(TYPES, 'CONSULTATION', { id: 'slot-type' });
  const fromInput = h('input', { type: 'date', id: 'slot-from', value: state.date });
  const findButton = h('button', { type: 'submit', id: 'find-slots' }, 'Find free slots');

  const zone = () => state.clinic.timeZone;

  async function loadNames() {
    const [staff, chairs] = await Promise.all([
      listAll((pageToken) => api.call('smp.identity.v1.IdentityService/ListStaff',
        { clinicId: state.clinic.id, pageSize: 500, pageToken }), 'staff'),
      listAll((pageToken) => api.call(`${S}/ListChairs`,
        { clinicId: state.clinic.id, pageSize: 500, pageToken }), 'chairs'),
    ]);
    state.staff = Object.fromEntries(staff.map((s) => [s.id, s]));
    state.chairs = Object.fromEntries(chairs.map((c) => [c.id, c]));
    try {
      const schedule = await api.call(`${S}/GetClinicSchedule`, { clinicId: state.clinic.id });
      state.openDays = new Set((schedule.openingHours || []).map((w) => w.day));
    } catch (err) {
      state.openDays = null; // unknown: the calendar just shows what is booked
    }
  }

  // The clinic's weekday names (DayOfWeek) of an ISO date, and whether the clinic opens that day.
  const WEEKDAYS = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];
  const weekday = (isoDate) => WEEKDAYS[new Date(`${isoDate}T12:00:00Z`).getUTCDay()];
  const dayName = (isoDate) => weekday(isoDate).charAt(0) + weekday(isoDate).slice(1).toLowerCase();
  const isOpen = (isoDate) => !state.openDays || state.openDays.has(weekday(isoDate));

  // A desk opening the console on a day the clinic is closed (a Sunday) sees the next open day,
  // where the bookings are, rather than an empty calendar.
  function nextOpenDay(isoDate) {
    if (!state.openDays || state.openDays.size === 0) return isoDate;
    let day = isoDate;
    for (let i = 0; i < 7 && !isOpen(day); i += 1) day = addDays(day, 1);
    return day;
  }

  function setDate(isoDate) {
    state.date = isoDate;
    dateInput.value = isoDate;
    fromInput.value = isoDate;
  }

  async function patientName(id) {
    if (!state.patients[id]) {
      try {
        state.patients[id] = await api.call(`${S}/GetPatient`, { id });
      } catch (err) {
        state.patients[id] = { givenName: '(patient', familyName: `${id})` };
      }
    }
    const p = state.patients[id];
    return `${p.givenName} ${p.familyName}`;
  }

  function period() {
    const days = state.view === 'week' ? 7 : 1;
    return {
      startTime: zonedToUtc(state.date, '00:00', zone()).toISOString(),
      endTime: zonedToUtc(addDays(state.date, days), '00:00', zone()).toISOString(),
    };
  }

  async function act(label, rpc, request, button) {
    show(actionSlot);
    try {
      await busy(button, () => api.call(`${S}/${rpc}`, { requestId: api.requestId(), ...request }));
      show(actionSlot, h('div', { class: 'ok', role: 'status' }, `${label}: done.`));
      await loadCalendar();
    } catch (err) {
      // The next step a desk can take, where the refusal alone does not say who does what.
      const hint = err.reason === 'NOT_ELIGIBLE' && /CONSENT_MISSING|SCREENING_MISSING/.test(err.message || '')
        ? note('Book a consultation first: at it the technician records the consent and the screening '
          + '(Technician page, "Consent & screening"); then book this visit again.')
        : null;
      show(actionSlot, errorBox(label, err), hint);
    }
  }

  async function appointmentCard(a) {
    const name = await patientName(a.patientId);
    const practitioner = state.staff[a.practitionerId];
    const chair = state.chairs[a.chairId];
    const actions = h('div', { class: 'actions' });
    const button = (label, handler) => {
      const b = h('button', { type: 'button', class: 'secondary', 'aria-label': `${label} ${name} at ${localTime(a.startTime, zone())}` }, label);
      b.addEventListener('click', () => handler(b));
      actions.append(b);
    };
    if (a.status === 'PROPOSED') button('Confirm', (b) => act('Confirm', 'ConfirmAppointment', { id: a.id, etag: a.etag }, b));
    if (a.status === 'BOOKED') button('Check in', (b) => act('Check-in', 'CheckInAppointment', { id: a.id, etag: a.etag }, b));
    if (a.status === 'PROPOSED' || a.status === 'BOOKED') {
      button('Reschedule', () => {
        state.reschedule = a;
        typeSelect.value = a.type;
        show(actionSlot, note(`Rescheduling ${name}'s ${words(a.type)}: pick a new slot below.`));
        findButton.focus();
      });
      button('Cancel', (b) => {
        const reason = window.prompt(`Cancel ${name}'s ${words(a.type)}? Reason:`, 'patient asked');
        if (reason !== null) act('Cancel', 'CancelAppointment', { id: a.id, etag: a.etag, reason }, b);
      });
    }
    return h('div', { class: `appt status-${a.status}`, dataset: { id: a.id, patient: name } },
      h('strong', {}, `${localTime(a.startTime, zone())}-${localTime(a.endTime, zone())} `), name,
      h('div', {}, `${words(a.type)} · ${words(a.status)} · ${chair ? chair.name : 'chair ?'}`,
        practitioner ? ` · ${practitioner.displayName}` : ''),
      actions);
  }

  async function loadCalendar() {
    try {
      const appointments = await listAll((pageToken) => api.call(`${S}/ListAppointments`,
        { clinicId: state.clinic.id, period: period(), pageSize: 500, pageToken }), 'appointments');
      appointments.sort((x, y) => x.startTime.localeCompare(y.startTime));
      state.appointments = appointments;
      const practitioners = Object.values(state.staff).filter((s) => (s.roles || []).includes('ROLE_TECHNICIAN'));
      for (const a of appointments) {
        if (!practitioners.find((p) => p.id === a.practitionerId)) {
          practitioners.push(state.staff[a.practitionerId] || { id: a.practitionerId, displayName: a.practitionerId });
        }
      }
      let table;
      if (state.view === 'day') {
        const head = h('tr', {}, h('th', { scope: 'col' }, 'Hour'), practitioners.map((p) => h('th', { scope: 'col' }, p.displayName)));
        const hours = [...new Set(appointments.map((a) => localTime(a.startTime, zone()).slice(0, 2)))].sort();
        const rows = [];
        for (const hour of hours) {
          const cells = [];
          for (const p of practitioners) {
            const here = appointments.filter((a) => a.practitionerId === p.id && localTime(a.startTime, zone()).startsWith(hour));
            // eslint-disable-next-line no-await-in-loop
            cells.push(h('td', {}, await Promise.all(here.map(appointmentCard))));
          }
          rows.push(h('tr', {}, h('th', { scope: 'row' }, `${hour}:00`), cells));
        }
        table = h('table', { class: 'calendar', 'aria-label': `Appointments on ${state.date}` }, h('thead', {}, head), h('tbody', {}, rows));
      } else {
        const days = [...Array(7).keys()].map((i) => addDays(state.date, i));
        const head = h('tr', {}, h('th', { scope: 'col' }, 'Practitioner'), days.map((d) => h('th', { scope: 'col' }, d)));
        const rows = [];
        for (const p of practitioners) {
          const cells = [];
          for (const d of days) {
            const here = appointments.filter((a) => a.practitionerId === p.id && localDate(zone(), new Date(a.startTime)) === d);
            // eslint-disable-next-line no-await-in-loop
            cells.push(h('td', {}, await Promise.all(here.map(appointmentCard))));
          }
          rows.push(h('tr', {}, h('th', { scope: 'row' }, p.displayName), cells));
        }
        table = h('table', { class: 'calendar', 'aria-label': `Appointments in the week from ${state.date}` }, h('thead', {}, head), h('tbody', {}, rows));
      }
      const closed = state.view === 'day' && !isOpen(state.date)
        ? ` ${state.clinic.name} is closed on ${dayName(state.date)}s.` : '';
      show(calendarSlot, appointments.length ? table : note(`No appointments ${state.view === 'day' ? 'on' : 'in the week from'} ${state.date}.${closed}`));
    } catch (err) {
      show(calendarSlot, errorBox(`Calendar of ${state.clinic.name}`, err));
      if (err.status === 'UNAUTHENTICATED') ctx.onAuthLost();
    }
  }

  // Live updates: the clinic's change feed from its head; any change reloads the calendar.
  function watch() {
    if (state.watch) state.watch.abort();
    const controller = new AbortController();
    state.watch = controller;
    let reload = null;
    (async () => {
      while (!controller.signal.aborted) {
        try {
          // eslint-disable-next-line no-await-in-loop
          const head = await api.call(`${S}/ListChanges`, { clinicId: state.clinic.id, sinceSequence: '0', pageSize: 1 });
          show(calendarStatus, note('Live: changes by other desks appear here at once.'));
          // eslint-disable-next-line no-await-in-loop
          await api.stream(`${S}/WatchChanges`, { clinicId: state.clinic.id, sinceSequence: head.headSequence || '0' }, () => {
            clearTimeout(reload);
            reload = setTimeout(loadCalendar, 100);
          }, controller.signal);
        } catch (err) {
          if (controller.signal.aborted) return;
          state.lastWatchError = err.httpStatus;
          show(calendarStatus, errorBox('Live updates (retrying)', err));
          if (err.status === 'UNAUTHENTICATED' || err.status === 'PERMISSION_DENIED') return;
        }
        // eslint-disable-next-line no-await-in-loop
        // A full console (503, too many live streams) is asked again less often.
        await new Promise((resolve) => { setTimeout(resolve, state.lastWatchError === 503 ? 5000 : 1000); });
      }
    })();
  }

  function selectPatient(p) {
    state.patient = p;
    state.patients[p.id] = p;
    show(selectedSlot, `Patient: ${p.givenName} ${p.familyName}${p.phone ? ` (${p.phone})` : ''}`);
    typeSelect.focus();
  }

  async function searchPatients(event) {
    event.preventDefault();
    try {
      const { patients } = await busy(searchButton, () => api.call(`${S}/SearchPatients`,
        { query: query.value.trim(), clinicId: state.clinic.id, pageSize: 20 }));
      show(patientSlot, (patients || []).length === 0 ? note('No patient matches.') :
        h('ul', { class: 'patients' }, patients.map((p) => {
          const b = h('button', { type: 'button', class: 'secondary', dataset: { patient: p.id } }, 'Select');
          b.addEventListener('click', () => selectPatient(p));
          return h('li', {}, `${p.givenName} ${p.familyName} ${p.phone || ''} `, b);
        })));
    } catch (err) {
      show(patientSlot, errorBox('Patient search', err));
    }
  }

  async function register(event) {
    event.preventDefault();
    const button = event.submitter;
    const patient = {
      givenName: given.value.trim(), familyName: family.value.trim(), phone: phone.value.trim(),
      preferredClinicId: state.clinic.id,
    };
    if (birth.value) patient.birthDate = localDateMessage(birth.value);
    try {
      const created = await busy(button, () => api.call(`${S}/CreatePatient`, { requestId: api.requestId(), patient }));
      show(patientSlot, h('div', { class: 'ok', role: 'status' }, `Registered ${created.givenName} ${created.familyName}.`));
      selectPatient(created);
    } catch (err) {
      show(patientSlot, errorBox('Registration', err));
    }
  }

  async function findSlots(event) {
    event.preventDefault();
    try {
      const response = await busy(findButton, () => api.call(`${S}/FindAvailability`, {
        clinicId: state.clinic.id, type: typeSelect.value,
        period: { startDate: localDateMessage(fromInput.value), endDate: localDateMessage(addDays(fromInput.value, 6)) },
        maxSlots: 12,
      }));
      const slots = response.slots || [];
      show(slotsSlot, slots.length === 0 ? note('No free slot in that week.') : h('ul', { class: 'slots' }, slots.map((s) => {
        const label = `${localDateTime(s.startTime, zone())} · ${(state.staff[s.practitionerId] || {}).displayName || s.practitionerId} · ${(state.chairs[s.chairId] || {}).name || 'chair'}`;
        const li = h('li', { dataset: { date: localDate(zone(), new Date(s.startTime)), start: s.startTime } }, label, ' ');
        const book = (hold) => async (e) => {
          const request = state.reschedule
            ? ['Reschedule', 'RescheduleAppointment', { id: state.reschedule.id, etag: state.reschedule.etag, startTime: s.startTime, practitionerId: s.practitionerId, chairId: s.chairId }]
            : [hold ? 'Hold' : 'Booking', 'BookAppointment', {
              clinicId: state.clinic.id, patientId: state.patient && state.patient.id,
              practitionerId: s.practitionerId, chairId: s.chairId, type: typeSelect.value,
              startTime: s.startTime, hold,
            }];
          if (!state.reschedule && !state.patient) {
            show(actionSlot, h('div', { class: 'error', role: 'alert' }, 'Booking: select or register a patient first.'));
            query.focus();
            return;
          }
          state.reschedule = null;
          await act(request[0], request[1], request[2], e.currentTarget);
          await findSlots(new Event('submit'));
        };
        if (state.reschedule) {
          li.append(h('button', { type: 'button', onclick: book(false), class: 'book' }, 'Move here'));
        } else {
          li.append(h('button', { type: 'button', onclick: book(false), class: 'book' }, 'Book'), ' ',
            h('button', { type: 'button', onclick: book(true), class: 'secondary hold' }, 'Hold'));
        }
        return li;
      })));
    } catch (err) {
      show(slotsSlot, errorBox('Free slots', err));
    }
  }

  const patientForm = h('form', { id: 'patient-form', class: 'row' }, field('Find a patient', query), searchButton);
  patientForm.addEventListener('submit', searchPatients);
  const registerForm = h('form', { id: 'register-form', class: 'row' },
    field('Given name', given), field('Family name', family), field('Phone', phone), field('Birth date', birth),
    h('button', { type: 'submit', id: 'register' }, 'Register patient'));
  registerForm.addEventListener('submit', register);
  const slotForm = h('form', { id: 'slot-form', class: 'row' }, field('Visit', typeSelect), field('From', fromInput), findButton);
  slotForm.addEventListener('submit', findSlots);

  async function switchClinic() {
    state.clinic = clinics.find((c) => c.id === clinicSelect.value);
    state.patient = null;
    show(selectedSlot, 'No patient selected.');
    await loadNames();
    await loadCalendar();
    watch();
  }
  clinicSelect.addEventListener('change', switchClinic);
  dateInput.addEventListener('change', () => { state.date = dateInput.value; fromInput.value = dateInput.value; loadCalendar(); });
  viewSelect.addEventListener('change', () => { state.view = viewSelect.value; loadCalendar(); });

  show(root,
    h('section', {}, h('h2', {}, 'Calendar'),
      h('div', { class: 'row' }, field('Clinic', clinicSelect), field('Day', dateInput), field('View', viewSelect)),
      calendarStatus, actionSlot, calendarSlot),
    h('section', {}, h('h2', {}, 'Patient'), patientForm, patientSlot, h('h3', {}, 'New patient'), registerForm, selectedSlot),
    h('section', {}, h('h2', {}, 'Free slots'), slotForm, slotsSlot));
  await loadNames();
  const today = localDate(zone());
  const opening = nextOpenDay(today);
  if (opening !== today) {
    setDate(opening);
    show(actionSlot, note(`${state.clinic.name} is closed today; showing ${opening}, its next open day.`));
  }
  await loadCalendar();
  watch();
  return () => { if (state.watch) state.watch.abort(); };
}
