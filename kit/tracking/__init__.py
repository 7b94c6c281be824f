"""What visitors do, counted: variant assignment, exposures, kept counters, payments.

Every kept counter is written in counters.py and recounted by recount.py."""
