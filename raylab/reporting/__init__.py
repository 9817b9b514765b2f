"""Records -> tables, plots and REPORT.md."""
