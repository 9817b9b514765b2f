"""Joint flexible-antenna-array shape and beamforming for secrecy (brief faa_otcfm.md part A)."""
