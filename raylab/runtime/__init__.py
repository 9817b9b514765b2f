"""The only package that imports Ray: cluster connection, fan-out, Tune, placement groups, jobs."""
