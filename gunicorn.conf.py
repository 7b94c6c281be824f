"""gunicorn settings from the environment the PaaS provides (PORT, WEB_CONCURRENCY)."""

import os

from kit.config import proxy_hops

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
logger_class = "kit.access_log.RedactingLogger"  # no status/confirm/remove tokens in the log
# X-Forwarded-Proto is believed from a PaaS router only (the same rule as ProxyFix's).
forwarded_allow_ips = "*" if proxy_hops(os.environ)[0] else "127.0.0.1"
