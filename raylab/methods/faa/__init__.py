"""Joint flexible-antenna-array shape and beamforming for secrecy (arXiv 2602.23769)."""
