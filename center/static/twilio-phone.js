// The agent's browser phone on Twilio: a small adapter around the Voice JavaScript SDK
// (@twilio/voice-sdk, served from /static/vendor/, never a CDN). Everything the desktop
// does goes through this object, so a test can hand it a fake `Device` and drive it
// without Twilio's cloud: the SDK's own signalling and media need the real thing.
"use strict";
class TwilioPhone {
  constructor({Device = window.Twilio && window.Twilio.Device, csrf, onState = () => {}} = {}) {
    this.Device = Device; this.csrf = csrf; this.onState = onState;
    this.device = null; this.call = null;
  }
  async token() {
    const r = await fetch("/api/v1/twilio/token", {credentials: "same-origin"});
    const body = await r.json();
    if (!r.ok) throw new Error(body.description || body.error || r.status);
    return body.token;
  }
  async start() {
    if (!this.Device) throw new Error("the Twilio Voice SDK is not installed (make static)");
    this.device = new this.Device(await this.token(), {closeProtection: true});
    this.device.on("registered", () => this.onState("ready"));
    this.device.on("error", e => this.onState("error", e.message || String(e)));
    this.device.on("tokenWillExpire", async () => this.device.updateToken(await this.token()));
    this.device.on("incoming", call => {
      this.call = call;
      call.on("disconnect", () => { this.call = null; this.onState("ready"); });
      call.on("cancel", () => { this.call = null; this.onState("ready"); });
      this.onState("offered", call.parameters && call.parameters.From);
    });
    await this.device.register();
  }
  answer() { if (this.call) { this.call.accept(); this.onState("on_call"); } }
  hangup() { if (this.call) this.call.disconnect(); }
  mute(on) { if (this.call) this.call.mute(on); }
  async dial(number) {
    this.call = await this.device.connect({params: {To: number}});
    this.call.on("disconnect", () => { this.call = null; this.onState("ready"); });
    this.onState("on_call", number);
  }
  async post(path, body) {
    const r = await fetch(path, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: {"Content-Type": "application/json", "X-CSRFToken": this.csrf}});
    const out = await r.json();
    if (!r.ok) throw new Error(out.description || out.error || r.status);
    return out;
  }
  transfer(target) {  // an E.164 number or an agent's extension
    return this.post("/api/v1/twilio/transfer", /^\+/.test(target) ? {number: target} : {agent: target});
  }
  ringNumber(number) { return this.post("/api/v1/twilio/device", {number}); }  // "" = this browser
  // Hold and attended transfers happen in a Twilio Conference the server moves the call into
  // (acd/twilio_acd/conference.py): the SDK's Call has no hold of its own, so these ask the server.
  hold(on = true) { return this.post("/api/v1/twilio/hold", {hold: on}); }
  consult(target) {  // the same attended-transfer command as the desktop's transfer form
    return this.post("/api/v1/twilio/consult", /^\+/.test(target) ? {number: target} : {agent: target});
  }
  completeConsult() { return this.post("/api/v1/twilio/consult/complete", {}); }  // or hang up
  cancelConsult() { return this.post("/api/v1/twilio/consult/cancel", {}); }
}
window.TwilioPhone = TwilioPhone;
