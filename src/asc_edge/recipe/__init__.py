"""The whole QTI system as one resumable command (``asc-train recipe``): the one package that orchestrates both
``train`` and ``export``, so it sits above them; neither imports it."""
