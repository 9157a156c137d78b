"""The carrier trunk: the dial policy (dial_policy.py, pure), what pjsip.conf and
extensions.conf are rendered from (config.py) and the FastAGI route that puts a carrier
caller's number in E.164 (agi.py)."""
