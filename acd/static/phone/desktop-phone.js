// The agent desktop's phone panel: the browser phone (browser-phone.js) registered with the
// agent's own WebRTC account, the agent's queue state (ready / paused / logged out, carried
// out by the daemon through AMI: /api/v1/agents/<ext>/commands), and the caller's earlier
// tickets shown while the call still rings (the screen pop).
import { startPhone } from "./browser-phone.js";

const root = document.getElementById("phone");
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const field = name => root.querySelector(`[data-phone="${name}"]`);

async function main() {
  const r = await fetch(root.dataset.account);
  const account = await r.json();
  if (!r.ok) { field("status").textContent = account.description; return; }
  const reasons = field("reason");
  reasons.innerHTML = account.pause_reasons.map(x => `<option>${esc(x)}</option>`).join("");
  startPhone(root, account, { autoAnswerKey: `civic311.autoanswer.${account.ext}` });

  async function command(body) {
    const res = await fetch(`/api/v1/agents/${account.ext}/commands`, { method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF }, body: JSON.stringify(body) });
    const out = await res.json();
    if (!res.ok) throw new Error(out.description);
    for (let i = 0; i < 40; i++) {  // the daemon carries it out within a second or so
      await new Promise(ok => setTimeout(ok, 250));
      const c = await (await fetch(`/api/v1/agents/commands/${out.id}`)).json();
      if (c.status !== "pending") {
        if (c.status !== "done") throw new Error(c.detail);
        return c.detail;
      }
    }
    throw new Error("the telephony daemon did not answer");
  }
  let me = null;
  async function refresh() {
    const res = await fetch(root.dataset.me);
    if (!res.ok) return;
    me = (await res.json()).state;
    const reason = Object.values(me.pause_reason || {})[0];
    field("agent-state").textContent = me.state.replace("_", " ") + (me.state === "paused" && reason ? ` (${reason})` : "");
    root.dataset.agent = me.state;
  }
  const agentButtons = () => root.querySelectorAll("button[data-agent]");
  async function run(kind) {
    const out = field("result");
    root.dataset.busy = "yes";  // one change at a time: a log-in is one command per queue
    agentButtons().forEach(b => { b.disabled = true; });
    try {
      if (kind === "ready") {
        if (!me || me.state === "logged_out") {
          for (const queue of account.queues) await command({ action: "login", queue });
        } else {
          await command({ action: "unpause", queue: "" });
        }
      } else if (kind === "pause") {
        await command({ action: "pause", queue: "", reason: reasons.value });
      } else if (kind === "logout") {
        await command({ action: "logout", queue: "" });
      }
      out.textContent = "";
    } catch (err) { out.textContent = err.message; }
    await refresh();
    agentButtons().forEach(b => { b.disabled = false; });
    root.dataset.busy = "no";
  }
  root.addEventListener("click", ev => {
    const b = ev.target.closest("button[data-agent]");
    if (b) run(b.dataset.agent);
  });
  // ringing: the caller's earlier tickets before the agent answers; after the call, the page
  // again (its wrap-up form then holds the call that just ended)
  let last = "idle";
  document.addEventListener("civic311:phone", async ev => {
    const { state, caller } = ev.detail;
    if (state === "idle" && last === "talking") setTimeout(() => location.reload(), 500);
    last = state;
    if (state !== "ringing" || !caller?.number) return;
    const res = await fetch(`${root.dataset.caller}?number=${encodeURIComponent(caller.number)}`);
    if (!res.ok) return;
    const p = await res.json();
    document.getElementById("call").innerHTML = `<p><b id="caller">${esc(caller.name)} ${esc(caller.number)}</b> · ringing</p>`;
    document.getElementById("earlier").innerHTML = p.earlier_tickets.length
      ? p.earlier_tickets.map(t => `<li><a href="/crm/tickets/${esc(t.number)}">${esc(t.number)}</a> ${esc(t.service_name)} · ${esc(t.state)} · ${esc(t.requested)}${t.address ? " · " + esc(t.address) : ""}</li>`).join("")
      : '<li class="muted">none</li>';
  });
  setInterval(refresh, 2000);
  refresh();
}
main();
