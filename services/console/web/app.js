// The console's shell: login, the pages each role works in, logout. Pages are ES modules with
// render(root, ctx) returning an optional cleanup (closing live streams).
import * as api from './api.js';
import { h, field, errorBox, show } from './ui.js';

const PAGES = [
  { id: 'desk', title: 'Front desk', roles: ['ROLE_FRONT_DESK', 'ROLE_ADMIN'], module: './desk.js' },
  { id: 'tech', title: 'Technician', roles: ['ROLE_TECHNICIAN'], module: './tech.js' },
  { id: 'stock', title: 'Inventory', roles: ['ROLE_INVENTORY_STAFF', 'ROLE_ADMIN'], module: './stock.js' },
  { id: 'billing', title: 'Billing', roles: ['ROLE_BILLING_CLERK', 'ROLE_ADMIN'], module: './billing.js' },
  { id: 'audit', title: 'Audit', roles: ['ROLE_AUDITOR', 'ROLE_ADMIN'], module: './audit.js' },
  { id: 'admin', title: 'Admin', roles: ['ROLE_ADMIN'], module: './admin.js' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;
let cleanup = null;

function pagesFor(whoami) {
  const roles = whoami.staff.roles || [];
  return PAGES.filter((p) => p.roles.some((r) => roles.includes(r)));
}

function showLogin(message) {
  me = null;
  nav.replaceChildren();
  who.replaceChildren();
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'login', class: 'login' },
    h('h2', {}, 'Log in'),
    field('Username', username), field('Password', password),
    h('button', { type: 'submit' }, 'Log in'), slot);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api.login(username.value.trim(), password.value);
      password.value = '';
      await start();
    } catch (err) {
      show(slot, errorBox('Login', err));
      password.focus();
    }
  });
  show(main, h('section', {}, message ? h('p', { class: 'note' }, message) : null, form));
  username.focus();
}

async function route() {
  if (!me) return;
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const pages = pagesFor(me);
  const id = (location.hash || '').replace(/^#\/?/, '') || (pages[0] && pages[0].id);
  const page = pages.find((p) => p.id === id) || pages[0];
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.page === (page && page.id)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!page) {
    show(main, h('p', {}, 'Your account has no console page.'));
    return;
  }
  document.title = `${page.title} - SMP clinics console`;
  const root = h('div', { id: `page-${page.id}` });
  show(main, root);
  try {
    const module = await import(page.module);
    cleanup = (await module.render(root, { me, onAuthLost })) || null;
  } catch (err) {
    show(root, errorBox(`Opening ${page.title}`, err));
  }
  main.focus();
}

function onAuthLost() {
  // A page's request that was still in flight when its user logged out is refused too; that is
  // not a session that ended under them.
  if (!me) return;
  showLogin('Your session ended; please log in again.');
}

async function start() {
  me = await api.session();
  if (!me) {
    showLogin();
    return;
  }
  const pages = pagesFor(me);
  nav.replaceChildren(...pages.map((p) => h('a', { href: `#${p.id}`, dataset: { page: p.id } }, p.title)));
  const logoutButton = h('button', { class: 'secondary', id: 'logout' }, 'Log out');
  logoutButton.addEventListener('click', async () => {
    if (cleanup) cleanup();
    cleanup = null;
    me = null;  // from here on a refused request is the logout's doing
    try {
      await api.logout();
      showLogin('You are logged out.');
    } catch (err) {
      show(main, errorBox('Logout', err));
    }
  });
  const name = me.staff.displayName && me.staff.displayName !== me.staff.username
    ? `${me.staff.displayName} (${me.staff.username})` : me.staff.username;
  who.replaceChildren(h('span', { id: 'whoami' }, `${name} `), logoutButton);
  await route();
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason && event.reason.status === 'UNAUTHENTICATED') onAuthLost();
});
start().catch((err) => show(main, errorBox('Starting the console', err)));
