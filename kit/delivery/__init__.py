"""Everything sent after a commit: the outbox and its worker, e-mails, webhooks, the digest."""
