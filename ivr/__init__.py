"""IVR: the menu as data, the pure step machine and its two renderers (Asterisk, Twilio)."""
