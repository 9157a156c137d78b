"""Asterisk plumbing shared by capabilities: the AMI client, the FastAGI server, and
installing, rendering and running Asterisk (templates in ``asterisk_conf/``); SIPp phones
for the demo and the tests. Imports no capability."""
