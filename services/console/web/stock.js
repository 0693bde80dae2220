// Inventory staff: stock by clinic, product and lot with expiry and low stock highlighted; receive
// a delivery (serials pasted or scanned); open pigment bottles; transfers between clinics; a lot recall with the
// procedures and patients it touched (admins); the demand forecast as a chart.
import * as api from './api.js';
import {
  h, field, errorBox, show, note, select, listAll, busy, barChart, localDateMessage, words,
} from './ui.js';

const I = 'smp.inventory.v1.InventoryService';

function dateText(d) {
  return d && d.year ? `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}` : '';
}

export async function render(root) {
  const { clinics } = await api.call('smp.identity.v1.IdentityService/ListClinics', { pageSize: 500 });
  if (!clinics || clinics.length === 0) {
    show(root, note('No clinic is in your scope.'));
    return null;
  }
  const products = Object.fromEntries((await listAll((pageToken) => api.call(`${I}/ListProducts`, { pageSize: 500, pageToken }), 'products')).map((p) => [p.id, p]));
  const clinicSelect = select(clinics.map((c) => [c.id, c.name]), clinics[0].id, { id: 'stock-clinic' });
  const levelsSlot = h('div', { id: 'stock-levels' });
  const bottlesSlot = h('div', { id: 'open-bottles' });
  const lowSlot = h('div', { id: 'low-stock' });

  async function load() {
    const clinicId = clinicSelect.value;
    try {
      const [levels, low] = await Promise.all([
        listAll((pageToken) => api.call(`${I}/ListStock`, { clinicId, pageSize: 500, pageToken }), 'levels'),
        listAll((pageToken) => api.call(`${I}/ListLowStock`, { clinicId, pageSize: 500, pageToken }), 'items'),
      ]);
      const lowProducts = new Set(low.map((i) => i.point.productId));
      const soon = new Date(Date.now() + 60 * 86400000).toISOString().slice(0, 10);
      show(levelsSlot, levels.length === 0 ? note('No stock.') : h('table', { 'aria-label': 'Stock by product and lot' },
        h('thead', {}, h('tr', {}, ['Product', 'Lot', 'Expiry', 'Available', 'Quarantined', 'In transit', 'Note'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, levels.map((l) => {
          const expiry = dateText(l.expiryDate);
          const notes = [l.expired ? 'expired' : (expiry && expiry <= soon ? 'expires within 60 days' : ''),
            lowProducts.has(l.productId) ? 'low stock' : '', l.lotStatus && l.lotStatus !== 'LOT_STATUS_ACTIVE' ? l.lotStatus.toLowerCase().replace(/_/g, ' ') : ''].filter(Boolean);
          const pigment = (products[l.productId] || {}).kind === 'PRODUCT_KIND_PIGMENT' && Number(l.available) > 0 && !l.expired;
          const open = pigment ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Open a bottle of lot ${l.lotNumber}`, onclick: async (e) => {
            try {
              await busy(e.currentTarget, () => api.call(`${I}/OpenBottle`, { requestId: api.requestId(), clinicId, lotId: l.lotId }));
              await Promise.all([load(), loadBottles()]);
            } catch (err) {
              show(bottlesSlot, errorBox('Opening a bottle', err));
            }
          } }, 'Open a bottle') : null;
          return h('tr', { class: l.expired ? 'expired' : (lowProducts.has(l.productId) ? 'low' : '') },
            h('td', {}, (products[l.productId] || {}).name || l.productId), h('td', {}, l.lotNumber), h('td', {}, expiry),
            h('td', {}, l.available), h('td', {}, l.quarantined), h('td', {}, l.inTransit), h('td', {}, notes.join(', '), ' ', open));
        }))));
      show(lowSlot, low.length === 0 ? note('Nothing is below its reorder point.') : h('ul', {}, low.map((i) => h('li', { class: 'low' },
        `${(products[i.point.productId] || {}).name || i.point.productId}: ${i.available} available (reorder at ${i.point.reorderLevel})`))));
    } catch (err) {
      show(levelsSlot, errorBox('Stock levels', err));
    }
  }
  // Open pigment bottles: their use-by date (shortened once opened), closed when finished.
  async function loadBottles() {
    try {
      const bottles = await listAll((pageToken) => api.call(`${I}/ListOpenBottles`, { clinicId: clinicSelect.value, pageSize: 500, pageToken }), 'bottles');
      show(bottlesSlot, bottles.length === 0 ? note('No open bottles.') : h('table', { 'aria-label': 'Open bottles' },
        h('thead', {}, h('tr', {}, ['Product', 'Bottle', 'Use by', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, bottles.map((b) => h('tr', { class: b.expired ? 'expired' : '' },
          h('td', {}, (products[b.productId] || {}).name || b.productId), h('td', {}, b.id),
          h('td', {}, `${dateText(b.useByDate)}${b.expired ? ' (past use-by)' : ''}`),
          h('td', {}, ['FINISHED', 'DISCARDED'].map((state) => h('button', { type: 'button', class: 'secondary', 'aria-label': `${words(state)}: bottle ${b.id}`, onclick: async (e) => {
            try {
              await busy(e.currentTarget, () => api.call(`${I}/CloseBottle`, { requestId: api.requestId(), bottleId: b.id, state: `BOTTLE_STATE_${state}` }));
              await loadBottles();
            } catch (err) {
              show(bottlesSlot, errorBox('Closing the bottle', err));
            }
          } }, state === 'FINISHED' ? 'Finished' : 'Discard'))))))));
    } catch (err) {
      show(bottlesSlot, errorBox('Open bottles', err));
    }
  }

  // Receive a delivery: serial-labelled products take serials (pasted, typed, or scanned one per
  // line); others a quantity.
  const productSelect = select(Object.values(products).map((p) => [p.id, p.name]), undefined, { id: 'receive-product' });
  const lotNumber = h('input', { id: 'receive-lot', required: true });
  const expiry = h('input', { id: 'receive-expiry', type: 'date', required: true });
  const quantity = h('input', { id: 'receive-quantity', type: 'number', min: 1 });
  const supplier = h('input', { id: 'receive-supplier' });
  const serials = h('textarea', { id: 'receive-serials', rows: 3, placeholder: 'serials, one per line or separated by commas (scan them here)' });
  const receiveSlot = h('div', { id: 'receive-result', 'aria-live': 'assertive' });
  const receiveForm = h('form', { id: 'receive-form' },
    h('div', { class: 'row' }, field('Product', productSelect), field('Lot number', lotNumber), field('Expiry', expiry),
      field('Quantity (unlabelled products)', quantity), field('Supplier', supplier)),
    field('Serials', serials), h('button', { type: 'submit', id: 'receive' }, 'Receive delivery'), receiveSlot);
  receiveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(receiveSlot);
    const list = serials.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
    try {
      const r = await busy(event.submitter, () => api.call(`${I}/ReceiveStock`, {
        requestId: api.requestId(), clinicId: clinicSelect.value, productId: productSelect.value,
        lotNumber: lotNumber.value.trim(), expiryDate: expiry.value ? localDateMessage(expiry.value) : undefined,
        quantity: String(list.length || quantity.value || 0), serials: list, supplier: supplier.value.trim(),
      }));
      show(receiveSlot, h('div', { class: 'ok', role: 'status' }, `Received lot ${r.lot.lotNumber}: ${r.stock.available} available.`));
      serials.value = '';
      await load();
    } catch (err) {
      show(receiveSlot, errorBox('Receiving', err));
    }
  });

  // Transfers: ship serials or lot quantities to another clinic; receive what arrives.
  const transfersSlot = h('div', { id: 'transfers' });
  // Every clinic in the caller's scope but the one shipping; a clerk scoped to one clinic types
  // the destination's id (the service decides whether the transfer is allowed).
  const destination = h('select', { id: 'ship-to' });
  const destinationId = h('input', { id: 'ship-to-id', autocomplete: 'off', placeholder: 'destination clinic id' });
  const destinationField = h('span', {});
  function fillDestinations() {
    const others = clinics.filter((c) => c.id !== clinicSelect.value);
    destination.replaceChildren(...others.map((c) => h('option', { value: c.id }, c.name)));
    show(destinationField, others.length ? field('To clinic', destination) : field('To clinic (id)', destinationId));
  }
  fillDestinations();
  const destinationValue = () => (clinics.length > 1 ? destination.value : destinationId.value.trim());
  const shipItems = h('textarea', { id: 'ship-items', rows: 2, placeholder: 'serials, or lot:<lot id>:<qty>, one per line' });
  const shipSlot = h('div', { 'aria-live': 'assertive' });
  const shipForm = h('form', { id: 'ship-form' }, h('div', { class: 'row' }, destinationField, field('Items', shipItems),
    h('button', { type: 'submit' }, 'Ship transfer')), shipSlot);
  shipForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const lines = [];
    const serialList = [];
    for (const item of shipItems.value.split('\n').map((x) => x.trim()).filter(Boolean)) {
      if (item.startsWith('lot:')) {
        const [, lotId, qty] = item.split(':');
        lines.push({ lotId, quantity: String(qty || 1) });
      } else {
        serialList.push(item);
      }
    }
    try {
      await busy(event.submitter, () => api.call(`${I}/ShipTransfer`, { requestId: api.requestId(),
        sourceClinicId: clinicSelect.value, destinationClinicId: destinationValue(), lines, serials: serialList }));
      show(shipSlot, h('div', { class: 'ok', role: 'status' }, 'Shipped.'));
      await loadTransfers();
    } catch (err) {
      show(shipSlot, errorBox('Transfer', err));
    }
  });
  const clinicName = Object.fromEntries(clinics.map((c) => [c.id, c.name]));
  async function loadTransfers() {
    try {
      const transfers = await listAll((pageToken) => api.call(`${I}/ListTransfers`, { clinicId: clinicSelect.value, pageSize: 100, pageToken }), 'transfers');
      show(transfersSlot, transfers.length === 0 ? note('No transfers.') : h('table', { 'aria-label': 'Transfers' },
        h('thead', {}, h('tr', {}, ['From', 'To', 'Items', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, transfers.map((t) => {
          const receive = t.status === 'TRANSFER_STATUS_SHIPPED' && t.destinationClinicId === clinicSelect.value
            ? h('button', { type: 'button', class: 'secondary', onclick: async (e) => {
              try {
                await busy(e.currentTarget, () => api.call(`${I}/ReceiveTransfer`, { requestId: api.requestId(), id: t.id, etag: t.etag }));
                await Promise.all([loadTransfers(), load()]);
              } catch (err) {
                show(transfersSlot, errorBox('Receiving the transfer', err));
              }
            } }, 'Receive') : null;
          return h('tr', {}, h('td', {}, clinicName[t.sourceClinicId] || t.sourceClinicId), h('td', {}, clinicName[t.destinationClinicId] || t.destinationClinicId),
            h('td', {}, [...(t.serials || []), ...(t.lines || []).map((l) => `${l.quantity} of lot ${l.lotId}`)].join(', ')),
            h('td', {}, words(t.status, 'TRANSFER_STATUS_')), h('td', {}, receive));
        }))));
    } catch (err) {
      show(transfersSlot, errorBox('Transfers', err));
    }
  }

  // A recall quarantines a lot chain-wide and lists what it touched; only admins may (the service
  // says so to anyone else).
  const recallLot = h('input', { id: 'recall-lot', placeholder: 'lot id' });
  const recallReason = h('input', { id: 'recall-reason', placeholder: 'maker notice ...' });
  const recallSlot = h('div', { id: 'recall-result', 'aria-live': 'assertive' });
  const recallForm = h('form', { id: 'recall-form' }, h('div', { class: 'row' }, field('Lot', recallLot), field('Reason', recallReason),
    h('button', { type: 'submit' }, 'Recall lot')), recallSlot);
  recallForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!window.confirm('A recall quarantines the lot at every clinic and cannot be undone. Recall it?')) return;
    try {
      const r = await busy(event.submitter, () => api.call(`${I}/RecallLot`, { requestId: api.requestId(), lotId: recallLot.value.trim(), reason: recallReason.value.trim() }));
      const d = (x) => (x ? `${x.year}-${String(x.month).padStart(2, '0')}-${String(x.day).padStart(2, '0')}` : '');
      show(recallSlot, h('div', { class: 'ok', role: 'status' }, `Lot ${r.lot.lotNumber} recalled; ${(r.quarantined || []).length} stock entries quarantined; ${(r.uses || []).length} procedures used it:`),
        (r.uses || []).length ? h('table', { 'aria-label': 'Procedures that used the lot' },
          h('thead', {}, h('tr', {}, ['Date', 'Clinic', 'Appointment', 'Patient', 'Quantity'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, r.uses.map((u) => h('tr', {}, h('td', {}, d(u.date)), h('td', {}, clinicName[u.clinicId] || u.clinicId),
            h('td', {}, u.appointmentId), h('td', {}, u.patientId), h('td', {}, u.quantity))))) : null);
    } catch (err) {
      show(recallSlot, errorBox('Recall', err));
    }
  });

  const forecastSlot = h('div', { id: 'forecast' });
  async function loadForecast() {
    try {
      const f = await api.call(`${I}/ForecastDemand`, { clinicId: clinicSelect.value, weeks: 4 });
      const demands = f.demands || [];
      show(forecastSlot, note(`${f.bookedSessions} sessions booked in the next 4 weeks.`),
        demands.length ? barChart('Expected use in the next 4 weeks', demands.map((d) => [(products[d.productId] || {}).name || d.productId, Number(d.expectedUnits)])) : null,
        demands.length ? h('table', { 'aria-label': 'Demand forecast' },
          h('thead', {}, h('tr', {}, ['Product', 'Expected', 'On hand', 'Suggested order'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, demands.map((d) => h('tr', { class: Number(d.suggestedOrder) > 0 ? 'low' : '' },
            h('td', {}, (products[d.productId] || {}).name || d.productId), h('td', {}, d.expectedUnits), h('td', {}, d.onHand), h('td', {}, d.suggestedOrder))))) : null);
    } catch (err) {
      show(forecastSlot, errorBox('Demand forecast', err));
    }
  }

  clinicSelect.addEventListener('change', () => { fillDestinations(); load(); loadBottles(); loadTransfers(); loadForecast(); });
  show(root, h('section', {}, h('h2', {}, 'Stock'), h('div', { class: 'row' }, field('Clinic', clinicSelect)), levelsSlot),
    h('section', {}, h('h2', {}, 'Low stock'), lowSlot),
    h('section', {}, h('h2', {}, 'Open bottles'), bottlesSlot),
    h('section', {}, h('h2', {}, 'Receive a delivery'), receiveForm),
    h('section', {}, h('h2', {}, 'Transfers'), shipForm, transfersSlot),
    h('section', {}, h('h2', {}, 'Demand forecast'), forecastSlot),
    h('section', {}, h('h2', {}, 'Recall a lot (admins)'), recallForm));
  await Promise.all([load(), loadBottles(), loadTransfers(), loadForecast()]);
  return null;
}
