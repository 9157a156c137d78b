"""Call recordings, their access audit and retention, QA evaluations, live monitoring.

How a recording comes to be (Asterisk 22):
- queues.conf gives every queue ``membergosub = civic311-record,<queue>``: when a queue call
  connects, ``[civic311-record]`` (extensions.conf) runs on the agent's channel, reads the
  queue's policy from AstDB (``civic311/recording/<queue>`` = percent; pushed from the
  ``recording_policies`` table by the policy page and the worker) and starts
  ``MixMonitor(civic311/<caller uniqueid>.wav,b[B(15)])`` in Asterisk's monitor spool;
- the worker's catalog job moves each finished file into ``<data_dir>/recordings/Y/m/d/``,
  records duration, size and SHA-256 against the call record, and marks a call the policy
  meant to record but that has no usable file ``missing`` or ``failed`` (problems page/API);
- the retention job deletes files past their queue's ``retention_days`` unless sampled for
  QA and unscored, in an open calibration, or under legal hold.

Pure core: policy, qa.rules, retention (rule), audio (stdlib only); adapters: models, catalog,
policy_queries, asterisk_sync, monitor, ami, web, jobs, seed; qa/ (rules pure; sampling,
queries, web adapters).
"""
