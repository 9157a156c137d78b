// civic311's browser phone (WebRTC): SIP over WebSocket to Asterisk with SIP.js, served from
// the app's own static files. One module for the agent desktop's phone and for the training
// phone that calls 311 as a resident. The page gives a root element holding the controls
// (data-phone="..." buttons, see desktop.html and training_phone.html) and an account:
// {user, password, domain, websocket}.
//
// Hooks for other desktop features (transfer, outbound): `window.civicPhone` exposes the
// live session and `stats()`; every change of the call is announced on `document` as a
// "civic311:phone" CustomEvent whose detail is {state, caller, held, muted}.
import { Web } from "../vendor/sip.js/index.js";

const $ = (root, name) => root.querySelector(`[data-phone="${name}"]`);

export function startPhone(root, account, { autoAnswerKey = null } = {}) {
  const audio = $(root, "audio");
  const status = $(root, "status");
  const line = $(root, "line");
  let state = "idle", caller = null, held = false, muted = false, since = null;

  const user = new Web.SimpleUser(account.websocket, {
    aor: `sip:${account.user}@${account.domain}`,
    media: { constraints: { audio: true, video: false }, remote: { audio } },
    sendDTMFUsingSessionDescriptionHandler: true,  // RFC 4733 in the media, as desk phones
    reconnectionAttempts: 1000, reconnectionDelay: 4,
    userAgentOptions: {
      authorizationUsername: account.user, authorizationPassword: account.password,
      displayName: account.user, logBuiltinEnabled: false,
    },
    delegate: {
      onServerConnect: () => user.register().catch(err => show("registration failed: " + err.message)),
      onServerDisconnect: () => { registered(false); show("disconnected from the PBX"); },
      onRegistered: () => registered(true),
      onUnregistered: () => registered(false),
      onCallReceived: () => {
        const who = user.session?.remoteIdentity;
        caller = { number: who?.uri?.user || "", name: who?.displayName || "" };
        set("ringing");
        if (autoAnswerKey && $(root, "auto-answer")?.checked) answer();
      },
      onCallAnswered: () => { since = Date.now(); set("talking"); },
      onCallHangup: () => { caller = null; held = false; muted = false; since = null; set("idle"); },
      onCallHold: h => { held = h; set(state); },
    },
  });

  function registered(yes) {
    root.dataset.registered = yes ? "yes" : "no";
    show(yes ? `registered as ${account.user}` : "not registered");
  }
  function show(text) { if (status) status.textContent = text; }
  function set(next) {
    state = next;
    root.dataset.call = state;
    root.dataset.held = held ? "yes" : "no";
    root.dataset.muted = muted ? "yes" : "no";
    if (line) {
      const who = caller ? `${caller.name ? caller.name + " " : ""}${caller.number || "unknown number"}` : "";
      line.textContent = { idle: "No call", ringing: `Ringing: ${who}`, calling: "Calling…",
        talking: `On the line${who ? " with " + who : ""}${held ? " (on hold)" : ""}${muted ? " (muted)" : ""}` }[state];
    }
    for (const b of root.querySelectorAll("button[data-phone]")) {
      const when = (b.dataset.when || "").split(" ");
      b.disabled = !when.includes(state);
    }
    const hold = $(root, "hold");
    if (hold) hold.textContent = held ? "Resume" : "Hold";
    const mute = $(root, "mute");
    if (mute) mute.textContent = muted ? "Unmute" : "Mute";
    document.dispatchEvent(new CustomEvent("civic311:phone", { detail: { state, caller, held, muted } }));
  }
  async function answer() {
    try { await user.answer(); } catch (err) { show("answer failed: " + err.message); }
  }
  const actions = {
    answer,
    decline: () => user.decline(),
    hangup: () => user.hangup(),
    hold: () => (held ? user.unhold() : user.hold()),
    mute: () => { muted ? user.unmute() : user.mute(); muted = !muted; set(state); },
    call: async () => {
      const to = $(root, "number")?.value.trim();
      if (!to) return;
      caller = { number: to, name: "" };
      set("calling");
      const from = $(root, "caller-id")?.value.trim();
      const extraHeaders = from ? [`P-Asserted-Identity: "Resident" <sip:${from}@${account.domain}>`] : [];
      try { await user.call(`sip:${to}@${account.domain}`, { extraHeaders }); }
      catch (err) { show("call failed: " + err.message); caller = null; set("idle"); }
    },
  };
  root.addEventListener("click", ev => {
    const b = ev.target.closest("button[data-phone]");
    if (!b || b.disabled) return;
    if (b.dataset.digit !== undefined) user.sendDTMF(b.dataset.digit).catch(err => show(err.message));
    else actions[b.dataset.phone]?.();
  });
  const auto = $(root, "auto-answer");
  if (auto && autoAnswerKey) {
    auto.checked = localStorage.getItem(autoAnswerKey) === "1";
    auto.addEventListener("change", () => localStorage.setItem(autoAnswerKey, auto.checked ? "1" : "0"));
  }
  setInterval(() => {
    const t = $(root, "timer");
    if (!t) return;
    const s = since ? Math.floor((Date.now() - since) / 1000) : 0;
    t.textContent = since ? Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") : "";
  }, 1000);

  // What the page (and the tests) can ask: the call's RTP counters from WebRTC's getStats.
  window.civicPhone = {
    get session() { return user.session; },
    get state() { return state; },
    async stats() {
      const pc = user.session?.sessionDescriptionHandler?.peerConnection;
      if (!pc) return null;
      const out = { bytesReceived: 0, bytesSent: 0, packetsReceived: 0 };
      (await pc.getStats()).forEach(r => {
        if (r.type === "inbound-rtp" && r.kind === "audio") {
          out.bytesReceived += r.bytesReceived; out.packetsReceived += r.packetsReceived;
        }
        if (r.type === "outbound-rtp" && r.kind === "audio") out.bytesSent += r.bytesSent;
      });
      return out;
    },
  };
  registered(false);
  set("idle");
  window.addEventListener("beforeunload", () => { user.unregister().catch(() => {}); });
  user.connect().catch(err => show("cannot reach the PBX: " + err.message));
  return user;
}
