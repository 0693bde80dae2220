// Auditor: the compliance report for clinics and a period, streamed with progress; findings with
// filters; charts (procedures per clinic per month, findings by kind); CSV/JSON download; the
// audit log's verification (up to which entry, where a link breaks) and its signed checkpoints
// (the last one's time, whether each still holds); credentials and permits about to expire.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, localDate, addDays, localDateMessage, words, select,
  barChart, download,
} from './ui.js';

const C = 'smp.compliance.v1.ComplianceService';

function dateText(d) {
  return d ? `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}` : '';
}

export async function render(root) {
  const { clinics } = await api.call('smp.identity.v1.IdentityService/ListClinics', { pageSize: 500 });
  const clinicName = Object.fromEntries((clinics || []).map((c) => [c.id, c.name]));
  const boxes = (clinics || []).map((c) => h('input', { type: 'checkbox', value: c.id, id: `rc-${c.id}`, checked: true }));
  const today = localDate('UTC');
  const from = h('input', { type: 'date', id: 'report-from', value: addDays(today, -30) });
  const to = h('input', { type: 'date', id: 'report-to', value: addDays(today, 1) });
  const progress = h('progress', { id: 'report-progress', max: 100, 'aria-label': 'Report progress' });
  progress.removeAttribute('value');
  progress.hidden = true; // until a report is asked for
  const progressText = h('span', { id: 'report-progress-text', role: 'status', 'aria-live': 'polite' });
  const summarySlot = h('div', { id: 'report-summary' });
  const chartsSlot = h('div', { id: 'report-charts' });
  const findingsSlot = h('div', { id: 'findings' });
  const exportSlot = h('div', { id: 'export-result', 'aria-live': 'polite' });
  const kindFilter = select([['', 'every kind']], '', { id: 'finding-kind' });
  const clinicFilter = select([['', 'every clinic'], ...(clinics || []).map((c) => [c.id, c.name])], '', { id: 'finding-clinic' });
  let report = null;

  const request = () => ({
    clinicIds: boxes.filter((b) => b.checked).map((b) => b.value),
    period: { startDate: localDateMessage(from.value), endDate: localDateMessage(to.value) },
  });

  function renderFindings() {
    if (!report) return;
    const rows = report.findings.filter((f) => (!kindFilter.value || f.kind === kindFilter.value)
      && (!clinicFilter.value || f.clinicId === clinicFilter.value));
    show(findingsSlot, rows.length === 0 ? note('No findings match.') : h('table', { 'aria-label': 'Findings' },
      h('thead', {}, h('tr', {}, ['Kind', 'Clinic', 'Appointment', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((f) => h('tr', {}, h('td', {}, words(f.kind, 'FINDING_KIND_')), h('td', {}, clinicName[f.clinicId] || f.clinicId),
        h('td', {}, f.appointmentId), h('td', {}, f.detail))))));
  }

  async function generate(event) {
    event.preventDefault();
    report = { header: null, procedures: [], findings: [], summary: null };
    progress.removeAttribute('value');
    progress.hidden = false;
    show(summarySlot);
    show(chartsSlot);
    show(findingsSlot);
    try {
      await busy(event.submitter, () => api.stream(`${C}/GenerateReport`, request(), (part) => {
        if (part.header) report.header = part.header;
        if (part.procedure) report.procedures.push(part.procedure);
        if (part.finding) report.findings.push(part.finding);
        if (part.summary) report.summary = part.summary;
        progressText.textContent = `${report.procedures.length} procedures, ${report.findings.length} findings received`;
      }));
      progress.value = 100;
      const s = report.summary || { procedures: 0, findings: 0 };
      progressText.textContent = `Report complete: ${s.procedures} procedures, ${s.findings} findings.`;
      show(summarySlot, h('dl', { id: 'summary' },
        h('dt', {}, 'Procedures'), h('dd', { id: 'summary-procedures' }, String(s.procedures)),
        h('dt', {}, 'Findings'), h('dd', { id: 'summary-findings' }, String(s.findings)),
        h('dt', {}, 'Audit log entries'), h('dd', {}, String((report.header || {}).auditLogCount || 0))));
      const perMonth = {};
      for (const p of report.procedures) {
        const key = `${clinicName[p.clinicId] || p.clinicId} ${dateText(p.performedDate).slice(0, 7)}`;
        perMonth[key] = (perMonth[key] || 0) + 1;
      }
      const byKind = {};
      for (const f of report.findings) byKind[words(f.kind, 'FINDING_KIND_')] = (byKind[words(f.kind, 'FINDING_KIND_')] || 0) + 1;
      show(chartsSlot, barChart('Procedures per clinic per month', Object.entries(perMonth).sort()),
        Object.keys(byKind).length ? barChart('Findings by kind', Object.entries(byKind).sort()) : note('No findings in this period.'));
      const kinds = [...new Set(report.findings.map((f) => f.kind))];
      kindFilter.replaceChildren(h('option', { value: '' }, 'every kind'), ...kinds.map((k) => h('option', { value: k }, words(k, 'FINDING_KIND_'))));
      renderFindings();
    } catch (err) {
      progress.value = 0;
      progressText.textContent = '';
      show(summarySlot, errorBox('Compliance report', err));
    }
  }

  async function exportReport(format, button) {
    const chunks = [];
    const total = report && report.summary ? Number(report.summary.procedures) : 0;
    progress.value = 0;
    show(exportSlot, note('Exporting...'));
    try {
      await busy(button, () => api.stream(`${C}/ExportReport`, { report: request(), format }, (chunk) => {
        const bytes = Uint8Array.from(atob(chunk.data || ''), (c) => c.charCodeAt(0));
        chunks.push(bytes);
        const done = Number(chunk.proceduresDone || 0);
        if (total > 0) progress.value = Math.min(100, (100 * done) / total);
        progressText.textContent = `Exported ${done} procedures, ${chunks.reduce((n, c) => n + c.length, 0)} bytes`;
      }));
      progress.value = 100;
      const ext = format === 'EXPORT_FORMAT_CSV' ? 'csv' : 'json';
      const name = `compliance-${from.value}-${to.value}.${ext}`;
      const link = download(new Blob(chunks, { type: ext === 'csv' ? 'text/csv' : 'application/json' }), name);
      link.id = `download-${ext}`;
      show(exportSlot, h('div', { class: 'ok', role: 'status' }, 'Export ready: ', link));
      link.click();
    } catch (err) {
      show(exportSlot, errorBox('Export', err));
    }
  }

  async function verify(button, slot) {
    try {
      const r = await busy(button, () => api.call(`${C}/VerifyAuditLog`, {}));
      const checked = Number(r.entriesChecked || 0);
      show(slot, h('div', { class: r.intact ? 'ok' : 'error', role: 'status', id: 'audit-verify-result' },
        r.intact ? `The audit log is intact: verified up to entry ${checked} (every entry's hash and link checked).`
          : `The audit log does NOT verify: entries 1 to ${Number(r.firstBadSequence) - 1} hold, `
            + `the chain breaks at entry ${r.firstBadSequence}: ${r.problem}`));
    } catch (err) {
      show(slot, errorBox('Audit log verification', err));
    }
  }

  // The checkpoints compliance signed and kept, each checked against the log as it is now.
  async function loadCheckpoints(slot) {
    try {
      const r = await api.call(`${C}/ListCheckpoints`, { pageSize: 20 });
      const list = r.checkpoints || [];
      if (list.length === 0) {
        show(slot, note('No checkpoint has been signed yet. Sign one and keep a copy outside the system.'));
        return;
      }
      const last = list[0];
      const when = (c) => new Date(c.checkpoint.signedTime).toLocaleString();
      const broken = list.filter((c) => !c.valid);
      show(slot,
        h('div', { class: broken.length ? 'error' : 'ok', role: 'status', id: 'checkpoint-status' },
          `Last checkpoint: ${when(last)}, covering entries 1 to ${last.checkpoint.count}; `,
          last.valid ? 'the log still holds it.' : `it does NOT hold: ${last.problem}`,
          broken.length && last.valid ? ` ${broken.length} older checkpoint(s) do not hold; see below.` : ''),
        h('table', { 'aria-label': 'Checkpoints', id: 'checkpoints' },
          h('thead', {}, h('tr', {}, ['Signed', 'Entries covered', 'Head hash', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, list.map((c) => h('tr', { class: c.valid ? '' : 'expired' },
            h('td', {}, when(c)), h('td', {}, `1 to ${c.checkpoint.count}`),
            h('td', { class: 'reason' }, `${(c.checkpoint.headHash || '').slice(0, 16)}...`),
            h('td', {}, c.valid ? 'holds' : `does not hold: ${c.problem}`))))));
    } catch (err) {
      show(slot, errorBox('Checkpoints', err));
    }
  }

  async function signCheckpoint(button, slot, listSlot) {
    try {
      const c = await busy(button, () => api.call(`${C}/CreateCheckpoint`, { requestId: api.requestId() }));
      show(slot, h('div', { class: 'ok', role: 'status', id: 'checkpoint-signed' },
        `Checkpoint signed over entries 1 to ${c.count}. Keep a copy outside the system: `,
        h('code', { class: 'reason' }, JSON.stringify(c))));
      await loadCheckpoints(listSlot);
    } catch (err) {
      show(slot, errorBox('Signing a checkpoint', err));
    }
  }

  async function expiring(days, slot) {
    try {
      const r = await api.call(`${C}/ListExpiring`, { withinDays: days, pageSize: 500 });
      const rows = [...(r.credentials || []).map((c) => ['credential', words(c.kind), c.practitionerId, dateText(c.validUntil)]),
        ...(r.permits || []).map((p) => ['permit', words(p.kind), clinicName[p.clinicId] || p.clinicId, dateText(p.validUntil)])];
      show(slot, rows.length === 0 ? note(`Nothing expires within ${days} days.`) : h('table', { 'aria-label': 'Expiring credentials and permits' },
        h('thead', {}, h('tr', {}, ['What', 'Kind', 'Whose', 'Valid until'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
    } catch (err) {
      show(slot, errorBox('Expiring credentials and permits', err));
    }
  }

  const form = h('form', { id: 'report-form' },
    h('fieldset', {}, h('legend', {}, 'Clinics'), (clinics || []).map((c, i) => h('label', { for: `rc-${c.id}` }, boxes[i], ` ${c.name} `))),
    h('div', { class: 'row' }, field('From', from), field('To', to), h('button', { type: 'submit', id: 'generate' }, 'Generate report')));
  form.addEventListener('submit', generate);
  const csvButton = h('button', { type: 'button', id: 'export-csv' }, 'Download CSV');
  csvButton.addEventListener('click', () => exportReport('EXPORT_FORMAT_CSV', csvButton));
  const jsonButton = h('button', { type: 'button', class: 'secondary', id: 'export-json' }, 'Download JSON');
  jsonButton.addEventListener('click', () => exportReport('EXPORT_FORMAT_JSON', jsonButton));
  kindFilter.addEventListener('change', renderFindings);
  clinicFilter.addEventListener('change', renderFindings);
  const verifySlot = h('div', { 'aria-live': 'polite', id: 'audit-verify' });
  const verifyButton = h('button', { type: 'button', id: 'verify-audit' }, 'Verify the audit log');
  verifyButton.addEventListener('click', () => verify(verifyButton, verifySlot));
  const checkpointsSlot = h('div', { id: 'checkpoint-list', 'aria-live': 'polite' });
  const signedSlot = h('div', { id: 'checkpoint-result', 'aria-live': 'polite' });
  const signButton = h('button', { type: 'button', class: 'secondary', id: 'sign-checkpoint' }, 'Sign a checkpoint');
  signButton.addEventListener('click', () => signCheckpoint(signButton, signedSlot, checkpointsSlot));
  const expiringSlot = h('div', { id: 'expiring' });

  show(root,
    h('section', {}, h('h2', {}, 'Compliance report'), form, h('div', { class: 'row' }, progress, progressText),
      summarySlot, h('div', { class: 'row' }, csvButton, jsonButton), exportSlot, chartsSlot),
    h('section', {}, h('h2', {}, 'Findings'), h('div', { class: 'row' }, field('Kind', kindFilter), field('Clinic', clinicFilter)), findingsSlot),
    h('section', {}, h('h2', {}, 'Audit log'), h('div', { class: 'row' }, verifyButton, signButton), verifySlot, signedSlot,
      h('h3', {}, 'Checkpoints'), checkpointsSlot),
    h('section', {}, h('h2', {}, 'Expiring within 60 days'), expiringSlot));
  expiring(60, expiringSlot);
  verify(verifyButton, verifySlot);
  loadCheckpoints(checkpointsSlot);
  return null;
}
