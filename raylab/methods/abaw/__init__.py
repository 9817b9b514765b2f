"""ABAW expression recognition: audio-visual transformer, safe cross-attention, modality dropout."""
