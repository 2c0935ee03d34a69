"""The model shipped inside the package (trained on the synthetic asc-synth benchmark, see README)."""
