// Billing clerk: a clinic's invoices with what is due; payments, refunds and credit notes against
// them; a patient's balance; revenue and receivables-aging charts.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, busy, select, listAll, words, barChart, localDate, addDays,
  localDateMessage,
} from './ui.js';

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

  function minorOf(input) {
    return String(Math.round(Number(input.value) * 100));
  }

  function creditForm(invoice) {
    const amount = h('input', { id: 'credit-amount', inputmode: 'decimal' });
    const reason = h('input', { id: 'credit-reason', required: true });
    const result = h('div', { 'aria-live': 'assertive' });
    const form = h('form', { id: 'credit-form' }, h('h3', {}, `Credit note for invoice ${invoice.number}`),
      h('div', { class: 'row' }, field(`Amount (${invoice.currencyCode})`, amount), field('Reason', reason),
        h('button', { type: 'submit' }, 'Create credit note')), result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await busy(event.submitter, () => api.call(`${B}/CreateCreditNote`, { requestId: api.requestId(), creditNote: {
          invoiceId: invoice.id, clinicId: invoice.clinicId, reason: reason.value,
          amount: { amountMinor: minorOf(amount), currencyCode: invoice.currencyCode } } }));
        show(result, h('div', { class: 'ok', role: 'status' }, 'Credit note created.'));
        await load();
      } catch (err) {
        show(result, errorBox('Credit note', err));
      }
    });
    return form;
  }

  async function paymentsOf(invoice) {
    const box = h('div', { id: 'payments' }, h('h3', {}, `Payments of invoice ${invoice.number}`));
    try {
      const payments = await listAll((pageToken) => api.call(`${B}/ListPayments`, { clinicId: invoice.clinicId, invoiceId: invoice.id, pageSize: 100, pageToken }), 'payments');
      const result = h('div', { 'aria-live': 'assertive' });
      box.append(payments.length === 0 ? note('No payments.') : h('table', { 'aria-label': 'Payments' },
        h('thead', {}, h('tr', {}, ['Amount', 'Refunded', 'Method', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, payments.map((p) => {
          const refund = h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
            const amount = window.prompt(`Refund how much (${p.amount.currencyCode})?`, (Number(p.amount.amountMinor) / 100).toFixed(2));
            if (amount === null) return;
            const reason = window.prompt('Reason for the refund?', 'patient request') || '';
            try {
              await busy(e.currentTarget, () => api.call(`${B}/RefundPayment`, { requestId: api.requestId(), refund: {
                paymentId: p.id, clinicId: p.clinicId, reason, amount: { amountMinor: String(Math.round(Number(amount) * 100)), currencyCode: p.amount.currencyCode } } }));
              show(result, h('div', { class: 'ok', role: 'status' }, 'Refund recorded.'));
              await load();
            } catch (err) {
              show(result, errorBox('Refund', err));
            }
          } }, 'Refund');
          return h('tr', {}, h('td', {}, money(p.amount)), h('td', {}, money(p.amountRefunded)),
            h('td', {}, p.card ? `card ...${p.card.last4}` : (p.cash ? 'cash' : 'financing')), h('td', {}, refund));
        }))), result);
    } catch (err) {
      box.append(errorBox('Payments', err));
    }
    return box;
  }

  async function balanceOf(invoice) {
    try {
      const b = await api.call(`${B}/GetPatientBalance`, { clinicId: invoice.clinicId, patientId: invoice.patientId });
      return h('div', { class: 'ok', role: 'status', id: 'balance' }, `Patient balance: ${money(b.amountDue)} due on ${b.openInvoices} open invoices; unapplied deposits ${money(b.unappliedDeposits)}.`);
    } catch (err) {
      return errorBox('Balance', err);
    }
  }

  const reportsSlot = h('div', { id: 'billing-reports' });
  async function loadReports() {
    const today = localDate('UTC');
    const major = (m) => Number((m || {}).amountMinor || 0) / 100;
    try {
      const [revenue, aging] = await Promise.all([
        api.call(`${B}/GetRevenueReport`, { clinicId: clinicSelect.value, period: { startDate: localDateMessage(addDays(today, -30)), endDate: localDateMessage(today) } }),
        api.call(`${B}/GetReceivablesAging`, { clinicId: clinicSelect.value }),
      ]);
      const currency = (revenue.collected || revenue.invoicedNet || {}).currencyCode || '';
      show(reportsSlot,
        barChart(`Revenue, last 30 days (${currency})`, [['invoiced (net)', major(revenue.invoicedNet)], ['tax', major(revenue.invoicedTax)],
          ['collected', major(revenue.collected)], ['credited', major(revenue.credited)], ['refunded', major(revenue.refunded)]]),
        barChart(`Receivables by age (${(aging.total || {}).currencyCode || currency})`, [['0-30 days', major(aging.days030)], ['31-60 days', major(aging.days3160)],
          ['61-90 days', major(aging.days6190)], ['over 90 days', major(aging.daysOver90)]]));
    } catch (err) {
      show(reportsSlot, errorBox('Revenue and aging', err));
    }
  }

  async function load() {
    try {
      const invoices = await listAll((pageToken) => api.call(`${B}/ListInvoices`, { clinicId: clinicSelect.value, pageSize: 500, pageToken }), 'invoices');
      show(listSlot, invoices.length === 0 ? note('No invoices.') : h('table', { 'aria-label': 'Invoices' },
        h('thead', {}, h('tr', {}, ['Number', 'Status', 'Total', 'Paid', 'Due', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, invoices.map((i) => {
          const due = Number((i.amountDue || {}).amountMinor || 0) > 0;
          const open = (label, make) => h('button', { type: 'button', class: 'secondary', 'aria-label': `${label}: invoice ${i.number}`, onclick: async () => {
            show(paySlot, await make(i));
            const first = paySlot.querySelector('input, button');
            if (first) first.focus();
          } }, label);
          return h('tr', {}, h('td', {}, i.number), h('td', {}, words(i.status, 'INVOICE_')), h('td', {}, money((i.totals || {}).total)),
            h('td', {}, money(i.amountPaid)), h('td', {}, money(i.amountDue)),
            h('td', {}, due ? open('Take payment', payForm) : null, ' ', open('Payments', paymentsOf), ' ', due ? open('Credit note', creditForm) : null, ' ', open('Balance', balanceOf)));
        }))));
    } catch (err) {
      show(listSlot, errorBox('Invoices', err));
    }
  }
  clinicSelect.addEventListener('change', () => { load(); loadReports(); });
  show(root, h('section', {}, h('h2', {}, 'Invoices'), h('div', { class: 'row' }, field('Clinic', clinicSelect)), listSlot, paySlot),
    h('section', {}, h('h2', {}, 'Revenue and receivables'), reportsSlot));
  await Promise.all([load(), loadReports()]);
  return null;
}
