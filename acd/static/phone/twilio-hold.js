// The desktop's Hold and Resume on the Twilio backend: Twilio holds a call in a Conference,
// by REST from the server (acd/twilio_acd/conference.py), whatever device the agent took it
// on (the browser or their own number), so the buttons ask the server, not the device.
const root = document.getElementById("twilio-hold");
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const said = root.querySelector('[data-twilio="result"]');

root.addEventListener("click", async ev => {
  const b = ev.target.closest("button[data-twilio-hold]");
  if (!b) return;
  said.textContent = "";
  const res = await fetch(root.dataset.url, { method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF },
    body: JSON.stringify({ hold: b.dataset.twilioHold === "true" }) });
  const out = await res.json().catch(() => ({}));
  said.textContent = res.ok ? out.status : (out.description || `not done (${res.status})`);
});
