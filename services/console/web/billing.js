// Billing clerk: a clinic's invoices with what is due, and a payment taken against one.
import * as api from './api.js';
import { h, field, errorBox, show, note, busy, select, listAll, words } from './ui.js';

const B = 'smp.billing.v1.BillingService';

export function money(m) {
  if (!m) return '';
  const minor = Number(m.amountMinor || 0);
  return `${(minor / 100).toFixed(2)} ${m.currencyCode || ''}`;
}

export async function render(root) {
  const { clinics } = await api.call('smp.identity.v1.IdentityService/ListClinics', { pageSize: 500 });
  if (!clinics || clinics.length === 0) {
    show(root, note('No clinic is in your scope.'));
    return null;
  }
  const clinicSelect = select(clinics.map((c) => [c.id, c.name]), clinics[0].id, { id: 'billing-clinic' });
  const listSlot = h('div', { id: 'invoices' });
  const paySlot = h('div', { id: 'payment', 'aria-live': 'assertive' });

  function payForm(invoice) {
    const amount = h('input', { id: 'pay-amount', inputmode: 'decimal', value: (Number(invoice.amountDue.amountMinor || 0) / 100).toFixed(2) });
    const last4 = h('input', { id: 'pay-last4', maxlength: 4, inputmode: 'numeric' });
    const reference = h('input', { id: 'pay-reference' });
    const result = h('div', { 'aria-live': 'assertive' });
    const form = h('form', { id: 'pay-form' }, h('h3', {}, `Card payment for invoice ${invoice.number}`),
      h('div', { class: 'row' }, field(`Amount (${invoice.currencyCode})`, amount), field('Card last 4', last4), field('Authorisation', reference),
        h('button', { type: 'submit' }, 'Record payment')), result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const minor = Math.round(Number(amount.value) * 100);
      try {
        await busy(event.submitter, () => api.call(`${B}/RecordPayment`, { requestId: api.requestId(), payment: {
          clinicId: invoice.clinicId, patientId: invoice.patientId, invoiceId: invoice.id,
          amount: { amountMinor: String(minor), currencyCode: invoice.currencyCode },
          card: { last4: last4.value, authorizationReference: reference.value } } }));
        show(result, h('div', { class: 'ok', role: 'status' }, 'Payment recorded.'));
        await load();
      } catch (err) {
        show(result, errorBox('Payment', err));
      }
    });
    return form;
  }

  async function load() {
    try {
      const invoices = await listAll((pageToken) => api.call(`${B}/ListInvoices`, { clinicId: clinicSelect.value, pageSize: 500, pageToken }), 'invoices');
      show(listSlot, invoices.length === 0 ? note('No invoices.') : h('table', { 'aria-label': 'Invoices' },
        h('thead', {}, h('tr', {}, ['Number', 'Status', 'Total', 'Paid', 'Due', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, invoices.map((i) => {
          const pay = Number((i.amountDue || {}).amountMinor || 0) > 0
            ? h('button', { type: 'button', class: 'secondary', onclick: () => { show(paySlot, payForm(i)); paySlot.querySelector('input').focus(); } }, 'Take payment') : null;
          return h('tr', {}, h('td', {}, i.number), h('td', {}, words(i.status, 'INVOICE_')), h('td', {}, money((i.totals || {}).total)),
            h('td', {}, money(i.amountPaid)), h('td', {}, money(i.amountDue)), h('td', {}, pay));
        }))));
    } catch (err) {
      show(listSlot, errorBox('Invoices', err));
    }
  }
  clinicSelect.addEventListener('change', load);
  show(root, h('section', {}, h('h2', {}, 'Invoices'), h('div', { class: 'row' }, field('Clinic', clinicSelect)), listSlot, paySlot));
  await load();
  return null;
}
