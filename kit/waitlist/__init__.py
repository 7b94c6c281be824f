"""The list itself: signups (the only write path), places in line, referrals, signed links.

No request objects here; the caller commits."""
