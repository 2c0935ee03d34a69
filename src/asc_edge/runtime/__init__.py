"""Runtime: torch-free classification of files and a live microphone with the int8 model (later issue)."""
