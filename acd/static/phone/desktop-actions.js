// The agent desktop's Transfer and Call out controls (crm/_desktop_actions.html), enhanced:
// the forms go as JSON to the same endpoints they post to without JavaScript
// (/api/v1/agents/<ext>/transfer, /agent/outbound), and the result shows in place.
// Transfer is shown while a queue call is on (the pop says so: "civic311:pop"), Call out
// otherwise; its button works only while the browser phone is idle ("civic311:phone"), and
// it stays in view during its own call so the agent keeps seeing the result.
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const transfer = document.getElementById("transfer");
const outbound = document.getElementById("outbound");
const outForm = document.getElementById("outbound-form");
let queueCall = transfer ? !transfer.hidden : false;
let phone = "idle";
let placing = false;

function show() {
  if (transfer) transfer.hidden = !queueCall;
  if (outbound) outbound.hidden = queueCall;
  if (outForm) outForm.querySelector("button[type=submit]").disabled = placing || phone !== "idle";
}
// the last transfer, kept over the reload that follows the call's end (the agent should still
// see "Transfer done"), forgotten when the next queue call comes
const LAST = "civic311.transfer";
document.addEventListener("civic311:pop", ev => {
  queueCall = !!ev.detail;
  const last = JSON.parse(sessionStorage.getItem(LAST) || "null");
  if (last && ev.detail && ev.detail.uniqueid !== last.call) sessionStorage.removeItem(LAST);
  if (ev.detail && transfer) transfer.dataset.call = ev.detail.uniqueid;
  show();
});
document.addEventListener("civic311:phone", ev => { phone = ev.detail.state; show(); });

function say(el, status, text) {
  el.dataset.status = status;
  el.className = status === "failed" ? "flash error" : "flash ok";
  el.textContent = text;
}

async function post(url, body) {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF } });
  let out = {};
  try { out = await res.json(); } catch { out = { description: `the server answered ${res.status}` }; }
  return { ok: res.ok, out };
}

// a queued transfer: the daemon carries it out through AMI and marks it done or failed
async function follow(el, id) {
  for (let i = 0; i < 120; i++) {
    const res = await fetch(`/api/v1/agents/commands/${id}`);
    if (res.ok) {
      const c = await res.json();
      if (c.status !== "pending") {
        say(el, c.status, `Transfer ${c.status}${c.detail ? ": " + c.detail : ""}`);
        return;
      }
    }
    await new Promise(ok => setTimeout(ok, 500));
  }
  say(el, "failed", "Transfer failed: the telephony daemon did not answer");
}

if (transfer) {
  const form = document.getElementById("transfer-form");
  const status = document.getElementById("transfer-status");
  const last = JSON.parse(sessionStorage.getItem(LAST) || "null");
  if (status.dataset.status === "pending") follow(status, status.dataset.command);
  else if (!status.dataset.command && last) follow(status, last.id);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const data = new FormData(form);
    const { ok, out } = await post(`/api/v1/agents/${transfer.dataset.ext}/transfer`,
      { kind: data.get("kind"), to: data.get("to") });
    button.disabled = false;
    if (!ok) { say(status, "failed", `Transfer not queued: ${out.description}`); return; }
    status.dataset.command = out.id;
    sessionStorage.setItem(LAST, JSON.stringify({ id: out.id, call: transfer.dataset.call }));
    say(status, "pending", "Transfer queued");
    await follow(status, out.id);
  });
}

if (outForm) {
  const status = document.getElementById("outbound-status");
  outForm.addEventListener("submit", async ev => {
    ev.preventDefault();
    placing = true;
    show();
    const data = new FormData(outForm);
    say(status, "pending", "Calling: your phone rings first, answer it to dial the number");
    const { ok, out } = await post(outForm.action, { number: data.get("number"),
      purpose: data.get("purpose"), queue: data.get("queue") });
    placing = false;
    show();
    if (ok) say(status, "done", `Dialling ${out.number} (${out.kind})`);
    else say(status, "failed", `Call not placed: ${out.description}`);
  });
}
show();
