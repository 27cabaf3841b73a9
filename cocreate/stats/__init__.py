"""Statistics of participation (``/stats`` and the staff's ``/staff/stats``): counts by month, per challenge,
per area and age band (small counts suppressed), the funnel from challenges to results and the test fields'
utilisation, computed by SQL aggregates into a snapshot that the pages read (:mod:`cocreate.stats.snapshot`)."""
