"""Test helpers shared by the suite, the benches and scripts: the real-Asterisk harness
(pbx), an independent queue_log reader (truth), fakes and file builders."""
