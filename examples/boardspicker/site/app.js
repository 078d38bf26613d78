// BoardsPicker through tokenmint: the page side.
//
// 1. On load: ask the site backend for its settings (GET /config: tokenmint's URL, the Miro client ID)
//    and sign in (POST /login: a short-lived site user token). A real site already has its user's token.
// 2. On click: open the popup window FIRST, synchronously (a popup opened after an `await` is blocked
//    by browsers), then hand it to miroBoardsPicker.open as `windowRef`.
// 3. The picker calls getToken() when it needs a token: POST to tokenmint with the site user token,
//    return the raw JWT. On 401 (the user token expired) sign in again once and retry.
'use strict';

const statusBox = document.getElementById('status');
const statusText = document.getElementById('status-text');
const openButton = document.getElementById('open-picker');
const boardContainer = document.getElementById('board-container');

// Demo affordance: /?expired=1 makes the site backend hand out already-expired user tokens, to show
// tokenmint's 401 path.
const demoExpired = new URLSearchParams(location.search).get('expired') === '1';

let config = null;          // {tokenmintUrl, clientId}
let siteUserToken = null;   // the site's own user token (here from the demo login)
let lastTokenError = null;  // why the last getToken() failed, shown on error

function setState(state, text) {
  statusBox.dataset.state = state;
  statusBox.querySelector('.state').textContent = state.replace('-', ' ');
  statusText.textContent = text;
}

async function signIn() {
  const response = await fetch(demoExpired ? '/login?expired=1' : '/login', { method: 'POST' });
  if (!response.ok) throw new Error(`site login failed: HTTP ${response.status}`);
  siteUserToken = (await response.json()).token;
}

// One call to tokenmint. Resolves to the Response; a network failure becomes a clear Error.
async function callTokenmint() {
  try {
    return await fetch(`${config.tokenmintUrl}/v1/token`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${siteUserToken}` },
    });
  } catch (e) {
    // fetch rejects with a TypeError when no response reached the page: tokenmint is down or
    // unreachable, or the browser blocked the response because this page's origin is not in
    // tokenmint's CORS_ALLOWED_ORIGINS.
    // (The browser hides which: its console says.)
    throw new Error(`tokenmint unreachable at ${config.tokenmintUrl}, or this page's origin ` +
      `${location.origin} is not in its CORS_ALLOWED_ORIGINS`);
  }
}

async function problemDetail(response) {
  try {
    const problem = await response.json();          // RFC 9457 problem+json
    return problem.detail || problem.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// BoardsPicker's getToken: () => Promise<string>, the raw JWT.
async function getToken() {
  lastTokenError = null;
  try {
    let response = await callTokenmint();
    if (response.status === 401) {
      // The site user token expired (or was revoked): get a fresh one and try once more.
      await signIn();
      response = await callTokenmint();
    }
    if (!response.ok) {
      throw new Error(`tokenmint ${response.status}: ${await problemDetail(response)}`);
    }
    return await response.text();
  } catch (e) {
    lastTokenError = e;
    throw e;
  }
}

function closePopup(windowRef) {
  try { if (windowRef && !windowRef.closed) windowRef.close(); } catch { /* already gone */ }
}

function onOpenClick() {
  // Synchronously, before anything asynchronous: otherwise the browser blocks the popup.
  const windowRef = window.open('', '_blank', 'width=1000,height=700');

  if (!window.miroBoardsPicker) {
    closePopup(windowRef);
    setState('error', "Miro's BoardsPicker script did not load (https://miro.com/app/static/boardsPicker.1.0.js).");
    return;
  }
  boardContainer.replaceChildren();
  setState('picker-open', 'The Miro picker is open in a popup window.');
  lastTokenError = null;

  window.miroBoardsPicker.open({
    clientId: config.clientId,
    action: 'access-link',
    allowCreateAnonymousBoards: true,
    getToken,
    success: (data) => {
      boardContainer.innerHTML = data.embedHtml;   // Miro's embed iframe for the chosen board
      setState('success', 'Your board is ready below.');
    },
    error: (e) => {
      closePopup(windowRef);
      const reason = lastTokenError || e;
      setState('error', (reason && reason.message) || String(reason || 'the picker reported an error'));
    },
    cancel: () => {
      closePopup(windowRef);
      setState('cancelled', 'No board was chosen. Click the button to try again.');
    },
    windowRef,
  });
}

async function start() {
  try {
    const response = await fetch('/config');
    if (!response.ok) throw new Error(`site /config failed: HTTP ${response.status}`);
    config = await response.json();
    await signIn();
  } catch (e) {
    setState('error', e.message || String(e));
    return;
  }
  openButton.addEventListener('click', onOpenClick);
  openButton.disabled = false;
  setState('ready', demoExpired
    ? 'Signed in (demo: with an expired user token). Click the button to open the Miro picker.'
    : 'Signed in. Click the button to open the Miro picker.');
}

start();
