"""asc-synth: a procedural, device-imbalanced acoustic scene dataset in the TAU 2020 Mobile layout."""
