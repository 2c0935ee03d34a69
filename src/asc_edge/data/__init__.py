"""Data layer: the TAU-layout reader, the feature cache, the asc-synth generator and DCASE metrics."""
