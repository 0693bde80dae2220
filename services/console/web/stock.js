// Inventory staff: stock by clinic, product and lot with expiry and low stock highlighted.
import * as api from './api.js';
import { h, field, errorBox, show, note, select, listAll } from './ui.js';

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
          return h('tr', { class: l.expired ? 'expired' : (lowProducts.has(l.productId) ? 'low' : '') },
            h('td', {}, (products[l.productId] || {}).name || l.productId), h('td', {}, l.lotNumber), h('td', {}, expiry),
            h('td', {}, l.available), h('td', {}, l.quarantined), h('td', {}, l.inTransit), h('td', {}, notes.join(', ')));
        }))));
      show(lowSlot, low.length === 0 ? note('Nothing is below its reorder point.') : h('ul', {}, low.map((i) => h('li', { class: 'low' },
        `${(products[i.point.productId] || {}).name || i.point.productId}: ${i.available} available (reorder at ${i.point.reorderLevel})`))));
    } catch (err) {
      show(levelsSlot, errorBox('Stock levels', err));
    }
  }
  clinicSelect.addEventListener('change', load);
  show(root, h('section', {}, h('h2', {}, 'Stock'), h('div', { class: 'row' }, field('Clinic', clinicSelect)), levelsSlot),
    h('section', {}, h('h2', {}, 'Low stock'), lowSlot));
  await load();
  return null;
}
